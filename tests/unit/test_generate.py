"""The multi-stage Dockerfile generator without an image (NoMeasure)."""

from __future__ import annotations

from slimscope.dockerfile import generate, measure, parser


def test_split_without_image():
    df = parser.parse("FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc libc6-dev ca-certificates\n"
                      "WORKDIR /src\nCOPY hello.c .\nRUN gcc -static -o /hello hello.c\nUSER 1000\n"
                      "EXPOSE 80\nCMD [\"/hello\"]\n")
    res = generate.generate(df, measure.NoMeasure(), context_dir=None)
    assert res.mode == "split"   # ca-certificates is a runtime package: not scratch
    builder, runtime = res.text.split("AS builder\n")[1].split("\nFROM debian:bookworm\n")
    assert "gcc" in builder and "CMD" not in builder and "EXPOSE" not in builder
    assert "apt-get install --no-install-recommends -y ca-certificates" in runtime
    install = [l for l in runtime.splitlines() if "apt-get install" in l]
    assert install and not any("gcc" in l for l in install)
    assert "COPY --from=builder /hello /hello" in runtime
    for kw in ("USER 1000", "EXPOSE 80", 'CMD ["/hello"]', "WORKDIR /src"):
        assert kw in runtime
    df2 = parser.parse("FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc libc6-dev\n"
                       "COPY hello.c /src/\nRUN gcc -static -o /hello /src/hello.c\nCMD [\"/hello\"]\n")
    res2 = generate.generate(df2, measure.NoMeasure())
    assert res2.mode == "scratch" and "\nFROM scratch\n" in res2.text
    # the scratch stage holds the static binary and the command, nothing of the toolchain
    scratch = res2.text.split("\nFROM scratch\n")[1]
    assert "COPY --from=builder /hello /hello" in scratch and 'CMD ["/hello"]' in scratch
    assert "gcc" not in "".join(l for l in scratch.splitlines() if not l.startswith("#"))

def test_config_lines_of_fallback():
    lines = generate.config_lines({
        "Env": ["PATH=/usr/bin", "A=b c"], "Cmd": ["run", "x"], "Entrypoint": ["/e"],
        "WorkingDir": "/w", "User": "app", "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/d": {}},
        "Labels": {"k": "v"}, "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000}})
    assert lines == ['ENV PATH="/usr/bin"', 'ENV A="b c"', 'LABEL "k"="v"', "EXPOSE 80/tcp",
                     'VOLUME ["/d"]', "WORKDIR /w", "HEALTHCHECK --interval=5s CMD true", "USER app",
                     'ENTRYPOINT ["/e"]', 'CMD ["run", "x"]']

def test_elf_static_check():
    assert generate.elf_static(b"#!/bin/sh\n" + b"\0" * 100) is None
