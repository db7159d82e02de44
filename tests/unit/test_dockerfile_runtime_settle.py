"""The runtime stage repeats no RUN the builder already settled: a trailing cache
cleanup has nothing to clean there, a chmod of a built file comes through COPY --from,
a `chown -R` becomes COPY --chown; so a static program still runs FROM scratch."""

from __future__ import annotations

from slimscope.dockerfile import generate, parser
from slimscope.dockerfile.stages import NoMeasure

BUILD = ("FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc libc6-dev\n"
         "COPY hello.c /src/\n")


def gen(text: str, legacy: bool = True):
    return generate.generate(parser.parse(text), NoMeasure(), legacy_builder=legacy)


def runtime_code(result) -> list:
    stage = result.text.rsplit("\nFROM ", 1)[1]
    return [line for line in stage.splitlines()[1:] if not line.startswith("#")]


def test_a_static_program_with_trailing_cleanup_and_chmod_runs_from_scratch():
    r = gen(BUILD + "RUN gcc -O2 -static -o /hello /src/hello.c\nRUN rm -rf /var/lib/apt/lists/*\n"
            "RUN chmod 755 /hello\nRUN chmod a+x /hello\nUSER 65534\nCMD [\"/hello\"]\n")
    assert r.mode == "scratch"
    assert runtime_code(r) == ["COPY --from=builder /hello /hello", "USER 65534", 'CMD ["/hello"]']
    # the builder still runs both: the mode reaches the runtime through COPY --from
    builder = r.text.split("AS builder\n", 1)[1].split("\nFROM scratch")[0]
    assert "RUN chmod 755 /hello" in builder
    by = {c.line: c for c in r.changes}
    assert by[5].rule == "runtime-cleanup" and by[6].rule == by[7].rule == "chown-layer"


def test_a_recursive_chown_of_a_copied_path_becomes_copy_chown():
    r = gen(BUILD + "RUN gcc -O2 -o /opt/hello /src/hello.c\nRUN chown -R 1000:1000 /opt/hello "
            "&& chmod 750 /opt/hello\nCMD [\"/opt/hello\"]\n")
    code = runtime_code(r)
    assert "COPY --from=builder --chown=1000:1000 /opt/hello /opt/hello" in code
    assert not any(line.startswith("RUN ") for line in code)


def test_what_the_builder_cannot_settle_stays():
    # a chmod of the base's file, a chown without -R, apt-get clean after a kept RUN
    r = gen(BUILD + "RUN gcc -O2 -o /opt/hello /src/hello.c\nRUN chmod 600 /etc/shadow\n"
            "RUN chown 1000 /opt/hello\nRUN useradd app\nRUN apt-get clean\nCMD [\"/opt/hello\"]\n")
    code = runtime_code(r)
    for kept in ("RUN chmod 600 /etc/shadow", "RUN chown 1000 /opt/hello", "RUN useradd app",
                 "RUN apt-get clean"):
        assert kept in code
    assert not any(c.rule == "runtime-cleanup" for c in r.changes)


def test_a_cleanup_of_what_the_runtime_stage_copied_stays():
    r = gen(BUILD + "COPY seed.tar /tmp/seed.tar\nRUN gcc -O2 -static -o /hello /src/hello.c\n"
            "RUN rm -rf /tmp/*\nCMD [\"/hello\"]\n")
    assert "RUN rm -rf /tmp/*" in runtime_code(r)
