"""Dockerfile lint rules and their SARIF form (no engine: NoMeasure)."""

from __future__ import annotations

from slimscope.dockerfile import lint, measure, parser
from tests.support.dockerfiles import ANTI


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
