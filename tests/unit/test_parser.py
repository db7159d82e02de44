"""Dockerfile reading, step classification, in-place fixes and lint rules (no engine)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.dockerfile import classify, fixes, generate, lint, measure, parser
from slimscope.errors import BadInput


def test_continuations_comments_and_line_numbers():
    df = parser.parse(
        "# a comment\n"
        "FROM debian:12 AS build\n"
        "\n"
        "RUN apt-get update && \\\n"
        "    # inside the continuation\n"
        "\n"
        "    apt-get install -y gcc\n"
        "CMD [\"/bin/app\", \"--x\"]\n")
    cmds = [(i.cmd, i.line, i.end_line) for i in df.instructions]
    assert cmds == [("FROM", 2, 2), ("RUN", 4, 7), ("CMD", 8, 8)]
    run = df.instructions[1]
    assert run.rest == "apt-get update && apt-get install -y gcc"
    assert df.instructions[2].json_form == ["/bin/app", "--x"]
    assert df.final.name == "build"


def test_escape_directive_backtick():
    df = parser.parse("# escape=`\nFROM windows\nRUN dir `\n  c:\\\\x\n")
    assert df.escape == "`"
    assert df.instructions[1].rest == "dir c:\\\\x"
    assert (df.instructions[1].line, df.instructions[1].end_line) == (3, 4)


def test_arg_env_substitution_and_stages():
    df = parser.parse(
        "ARG BASE=debian\nARG TAG\n"
        "FROM ${BASE}:${TAG:-bookworm} AS one\n"
        "ARG BASE\nENV APP=/srv/app\nENV DIR=$APP/bin\n"
        "WORKDIR ${DIR}\nCOPY --chown=1:1 x ${APP}/\n"
        "FROM one\nRUN echo $APP ${UNKNOWN}\n")
    assert [s.base for s in df.stages] == ["debian:bookworm", "one"]
    ins = df.instructions
    assert ins[6].expanded == "/srv/app/bin"
    assert ins[7].flags == {"chown": "1:1"} and ins[7].expanded == "x /srv/app/"
    assert ins[3].expanded == "BASE"
    # a new stage starts with an empty environment; unknown names stay as written
    assert ins[-1].expanded == "echo $APP ${UNKNOWN}"
    assert ins[-1].stage == 1


def test_heredoc_keeps_lines():
    df = parser.parse("FROM x\nRUN <<EOT\nset -e\necho hi > /h\nEOT\nCMD [\"sh\"]\n")
    run = df.instructions[1]
    assert run.heredocs[0].body == "set -e\necho hi > /h\n"
    assert (run.line, run.end_line) == (2, 5)
    assert df.instructions[2].line == 6


def test_bad_dockerfiles():
    with pytest.raises(BadInput):
        parser.parse("RUN echo no from\n")
    with pytest.raises(BadInput):
        parser.parse("FROM x\nRUN <<EOT\necho never closed\n")
    with pytest.raises(BadInput):
        parser.parse("# just a comment\n")


def test_shell_split_and_classify():
    segs = classify.split_commands("a 'x && y' && b \"q;r\" ; c $(d && e) || f | g")
    assert [s.text for s in segs] == ["a 'x && y'", "b \"q;r\"", "c $(d && e)", "f | g"]
    step, kinds = classify.classify_run(
        "apt-get update && apt-get install -y gcc libssl-dev ca-certificates python3", "/")
    assert step.kind == "install"
    assert step.build_packages == ["gcc", "libssl-dev"]
    assert step.runtime_packages == ["ca-certificates", "python3"]
    step, _ = classify.classify_run("gcc -static -o hello hello.c", "/src")
    assert (step.kind, step.outputs, step.static) == ("build", ["/src/hello"], True)
    step, _ = classify.classify_run("python3 -m venv /opt/v && /opt/v/bin/pip install x", "/")
    assert step.kind == "build" and step.outputs == ["/opt/v", "/opt/v"]
    step, _ = classify.classify_run("npm ci", "/app")
    assert step.outputs == ["/app/node_modules"]
    step, _ = classify.classify_run("useradd app && mkdir /data", "/")
    assert step.kind == "runtime"
    step, _ = classify.classify_run("./weird-script.sh", "/")
    assert step.kind == "unknown"


ANTI = """FROM debian:bookworm
RUN apt-get update
RUN apt-get install -y curl python3-pip
RUN pip install requests
COPY app.sh /app/app.sh
RUN chown 1000:1000 /app/app.sh
RUN chmod 0755 /app/app.sh
RUN curl -o /tmp/x.tgz http://example.invalid/x.tgz && tar xf /tmp/x.tgz -C /opt
RUN rm -rf /tmp/x.tgz
CMD ["/app/app.sh"]
"""


def test_in_place_fixes():
    df = parser.parse(ANTI)
    outs = fixes.fix_stage(df.final.instructions, measure.NoMeasure())
    text = "\n".join(o.render() for o in outs if o.render())
    rules = sorted(c.rule for o in outs for c in o.changes)
    assert rules == ["apt-lists", "apt-recommends", "apt-update-alone", "chown-layer", "chown-layer",
                     "later-rm", "pip-cache"]
    assert "RUN apt-get update \\\n    && apt-get install --no-install-recommends -y curl" in text
    assert "&& rm -rf /var/lib/apt/lists/*" in text
    assert "pip install --no-cache-dir requests" in text
    assert "COPY --chown=1000:1000 --chmod=0755 app.sh /app/app.sh" in text
    assert "chown 1000" not in text and "RUN chmod" not in text
    assert "tar xf /tmp/x.tgz -C /opt \\\n    && rm -rf /tmp/x.tgz" in text
    # every change is commented
    assert text.count("# slimscope:") == len(rules)
    # the classic builder has no --chmod: that layer stays
    legacy = fixes.fix_stage(df.final.instructions, measure.NoMeasure(), legacy_builder=True)
    assert any(o.text == "RUN chmod 0755 /app/app.sh" for o in legacy)


def test_rm_not_moved_past_a_user_of_the_files():
    df = parser.parse("FROM x\nRUN curl -o /tmp/a http://h/a\nCOPY b /tmp/a\nRUN rm /tmp/a\n")
    outs = fixes.fix_stage(df.final.instructions, measure.NoMeasure())
    assert not any(c.rule == "later-rm" for o in outs for c in o.changes)


def test_lint_rules_and_lines():
    text = ANTI + ("VOLUME /data\nRUN echo x > /data/seed\nADD https://example.invalid/a.tgz /opt/\n"
                   "ADD local.tar.gz /opt/\nRUN apt-get dist-upgrade -y\n"
                   "RUN apt-get purge -y gcc\nRUN conda install -y numpy\n")
    findings = lint.lint(parser.parse(text), measure.NoMeasure())
    got = {(f.rule, f.line) for f in findings}
    assert {("fat-base", 1), ("apt-update-alone", 2), ("apt-lists", 3),
            ("apt-recommends", 3), ("build-tools", 3), ("pip-cache", 4), ("chown-layer", 6),
            ("chown-layer", 7), ("later-rm", 9), ("volume-before-write", 12), ("add-remote", 13),
            ("add-archive", 14), ("apt-upgrade", 15), ("remove-without-autoremove", 16),
            ("conda-clean", 17)} <= got
    assert all(f.bytes is None for f in findings)
    assert ("unpinned-base", 1) in {(f.rule, f.line) for f in lint.lint(
        parser.parse("FROM python\n"), measure.NoMeasure())}
    assert not any(f.rule == "unpinned-base" for f in lint.lint(
        parser.parse("FROM debian:bookworm-slim AS b\nFROM b\n"), measure.NoMeasure()))


def test_sarif_shape():
    findings = lint.lint(parser.parse(ANTI), measure.NoMeasure())
    doc = lint.to_sarif(findings, "./Dockerfile")
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    # one result per finding, at the finding's line: the loop below checks something
    assert findings
    assert sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
                  for r in run["results"]) == sorted((f.rule, f.line) for f in findings)
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]
        region = res["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"]
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Dockerfile"
        assert res["level"] in ("note", "warning", "error")


def test_created_by_parsing():
    p = measure.parse_created_by
    assert p("/bin/sh -c apt-get update") == ("RUN", "apt-get update")
    assert p("|2 A=1 B=2 /bin/sh -c make") == ("RUN", "make")
    assert p("/bin/sh -c #(nop) COPY file:abc in /app ") == ("COPY", "file:abc in /app")
    assert p("/bin/sh -c #(nop)  CMD [\"x\"]") == ("CMD", "[\"x\"]")
    assert p("RUN /bin/sh -c make # buildkit") == ("RUN", "make")
    assert p("COPY hello.c . # buildkit") == ("COPY", "hello.c .")


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


def test_cli_bad_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["dockerfile"])
    assert r.exit_code == 2 and "no Dockerfile here" in r.output
    (tmp_path / "Dockerfile").write_text("RUN x\n")
    r = CliRunner().invoke(main, ["lint"])
    assert r.exit_code == 2 and "before the first FROM" in r.output
    (tmp_path / "Dockerfile").write_text(ANTI)
    (tmp_path / "out").write_text("mine")
    r = CliRunner().invoke(main, ["dockerfile", "-o", "out"])
    assert r.exit_code == 2 and (tmp_path / "out").read_text() == "mine"
    r = CliRunner().invoke(main, ["dockerfile", "-o", "Dockerfile", "--force"])
    assert r.exit_code == 2 and (tmp_path / "Dockerfile").read_text() == ANTI
    r = CliRunner().invoke(main, ["lint", "--format", "json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == "slimscope.lint/v1" and doc["findings"]
    r = CliRunner().invoke(main, ["dockerfile", "-o", "new.Dockerfile"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "new.Dockerfile").read_text().count("# slimscope:") >= 5
