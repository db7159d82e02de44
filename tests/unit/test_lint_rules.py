"""Each lint rule on the smallest Dockerfile that shows it, and one that must not; how the
config, pragmas and severities change what is reported."""

from __future__ import annotations

import pytest

from slimscope.dockerfile import lint, parser
from slimscope.dockerfile.lint_config import LintConfig, from_table
from slimscope.dockerfile.measure import NoMeasure
from slimscope.dockerfile.rules import RULES
from slimscope.errors import BadInput


def found(text: str, cfg=None) -> set:
    return {(f.rule, f.line) for f in lint.lint(parser.parse(text, tolerant=True), NoMeasure(), cfg)}


def rule_lines(text: str, rule: str, cfg=None) -> list:
    return sorted(line for r, line in found(text, cfg) if r == rule)


@pytest.mark.parametrize("rule, text, lines", [
    ("apt-get-yes", "FROM a:1\nRUN apt-get install x\nRUN apt-get -qy install x\n"
                    "RUN apt-get --assume-yes install x\nRUN apt-get -q install x | cat\n", [2, 5]),
    ("cd-in-run", "FROM a:1\nRUN cd /x && make\nRUN echo cd\nRUN [\"sh\", \"-c\", \"cd /x\"]\n"
                  "RUN (cd /y && make)\n", [2, 5]),
    ("relative-workdir", "FROM a:1\nWORKDIR /abs\nWORKDIR rel\nWORKDIR $HOME\nWORKDIR \"/q\"\n", [3]),
    ("maintainer", "FROM a:1\nMAINTAINER me\nLABEL maintainer=me\n", [2]),
    ("shell-form-cmd", "FROM a:1\nCMD run it\nENTRYPOINT [\"x\"]\nENTRYPOINT x y\n", [2, 4]),
    ("multiple-cmd", "FROM a:1 AS s\nCMD [\"a\"]\nCMD [\"b\"]\nFROM a:1\nCMD [\"c\"]\n", [3]),
    ("multiple-entrypoint", "FROM a:1\nENTRYPOINT [\"a\"]\nENTRYPOINT [\"b\"]\n", [3]),
    ("sudo", "FROM a:1\nRUN sudo make\nRUN echo sudo\nRUN ls | sudo tee /x\n"
             "ONBUILD RUN sudo -u me make\n", [2, 4, 5]),
    ("port-range", "FROM a:1\nEXPOSE 80 65535\nEXPOSE 65536/udp\nEXPOSE 1-70000\nEXPOSE $P\n", [3, 4]),
    ("copy-from-unknown-stage", "FROM a:1 AS b\nFROM a:1\nCOPY --from=b /x /x\nCOPY --from=c /x /x\n"
                                "COPY --from=0 /x /x\nCOPY --from=3 /x /x\nCOPY --from=nginx:1 /x /x\n",
     [4, 6]),
    ("copy-from-self", "FROM a:1 AS b\nCOPY --from=b /x /y\n", [2]),
    ("duplicate-stage-name", "FROM a:1 AS b\nFROM a:1 AS B\nFROM a:1 AS c\n", [2]),
    ("add-instead-of-copy", "FROM a:1\nADD x /x\nADD http://h/x /x\nADD a.tar.xz /\n"
                            "ADD [\"a b\", \"/c\"]\nADD --checksum=sha256:0 x /x\n", [2, 5, 6]),
    ("unknown-instruction", "FROM a:1\nFOO bar\nRUN x\n", [2]),
    ("parse-error", "FROM a:1\nCOPY\nRUN x\n", [2]),
    # an ONBUILD trigger's caches land in every child image
    ("pip-cache", "FROM a:1\nONBUILD RUN pip install x==1\nRUN pip install --no-cache-dir y\n", [2]),
    # FROM may name an earlier stage, even from a stage of the same name
    ("unpinned-base", "FROM a:1 AS base\nFROM base AS base\nFROM later\nFROM a:1 AS later\n", [3]),
])
def test_rule_lines(rule, text, lines):
    assert rule_lines(text, rule) == lines


def test_each_finding_carries_the_hadolint_id_of_its_own_case():
    fs = lint.lint(parser.parse("FROM a\nFROM b:latest\nRUN dnf install x\nRUN yum install y\n"),
                   NoMeasure())
    got = {(f.rule, f.line, f.hadolint) for f in fs}
    assert {("unpinned-base", 1, "DL3006"), ("unpinned-base", 2, "DL3007"),
            ("dnf-cache", 3, "DL3040"), ("dnf-cache", 4, "DL3032")} <= got


def test_pin_rules_are_off_until_enabled():
    text = ("FROM a:1\nRUN apt-get install -y curl && apk add musl=1 && pip install flask==3 click "
            "&& npm install x@1 y && gem install rails -v 7 && gem install rack\n")
    assert not any(r.startswith("pin-") for r, _ in found(text))
    on = LintConfig(enable={"pin-apt", "pin-apk", "pin-pip", "pin-npm", "pin-gem"})
    fs = {f.rule: f for f in lint.lint(parser.parse(text), NoMeasure(), on)}
    assert set(fs) >= {"pin-apt", "pin-pip", "pin-npm", "pin-gem"} and "pin-apk" not in fs
    assert "click" in fs["pin-pip"].message and "flask" not in fs["pin-pip"].message
    assert fs["pin-gem"].message.startswith("not pinned: rack") and fs["pin-apt"].severity == "info"
    # a severity override turns a rule on too, by slimscope id or hadolint id
    assert rule_lines(text, "pin-apt", LintConfig(severity={"DL3008": "warning"})) == [2]


def test_pragmas_silence_the_next_instruction_or_the_file():
    text = ("FROM a:1\n# why: the vendor tool needs it\n# slimscope ignore=cd-in-run\n"
            "RUN cd /x && make\nRUN cd /y\n# hadolint ignore=DL3004,DL3059\nRUN sudo make\n"
            "\n# slimscope ignore=sudo\n\nRUN sudo y\n")
    got = found(text)
    assert ("cd-in-run", 4) not in got and ("cd-in-run", 5) in got
    assert ("sudo", 7) not in got
    # a blank line ends the comment block: the pragma on line 9 holds for nothing
    assert ("sudo", 11) in got
    assert not found("# hadolint global ignore=DL3003\nFROM a:1\nRUN cd /x\n# slimscope global "
                     "ignore=sudo\nRUN sudo x\n")


def test_an_unknown_rule_in_a_slimscope_pragma_is_bad_input_with_a_suggestion():
    with pytest.raises(BadInput, match=r"Dockerfile:2: unknown rule 'cd-in-rn'; did you mean cd-in-run\?"):
        found("FROM a:1\n# slimscope ignore=cd-in-rn\nRUN cd /x\n")
    # hadolint's pragmas name hadolint's rules, which slimscope need not know
    assert found("FROM a:1\n# hadolint ignore=DL3059,SC2086\nRUN echo $x\n") == set()


def test_config_table_ignore_severity_and_threshold():
    cfg = from_table({"ignore": ["DL3003"], "severity": {"sudo": "style", "maintainer": "off"},
                      "failure-threshold": "error"}, ".slimscope.toml", RULES)
    fs = lint.lint(parser.parse("FROM a:1\nRUN cd /x && sudo y\nMAINTAINER me\nWORKDIR rel\n"),
                   NoMeasure(), cfg)
    assert [(f.rule, f.severity, f.level) for f in fs] == [("sudo", "style", "style"),
                                                           ("relative-workdir", "error", "error")]
    assert lint.fails(fs, "error") and not lint.fails(fs[:1], "info")
    assert lint.fails(fs[:1], "style") and not lint.fails(fs, "none")


@pytest.mark.parametrize("table, message", [
    ({"ignored-rules": ["x"]}, "unknown key 'ignored-rules' in \\[lint\\]; did you mean ignored\\?"),
    ({"ignore": ["apt-list"]}, "unknown rule 'apt-list'; did you mean apt-lists\\?"),
    ({"severity": {"sudo": "fatal"}}, "severity must be one of"),
    ({"failure-threshold": "high"}, "failure-threshold must be one of"),
    ({"trusted-registries": [1]}, "expected a list"),
])
def test_bad_config_names_the_file_and_key(table, message):
    with pytest.raises(BadInput, match="^cfg.toml: .*" + message):
        from_table(table, "cfg.toml", RULES)


def test_a_repeated_fixer_finding_is_reported_once_per_instruction():
    fs = lint.lint(parser.parse("FROM a:1\nRUN apt-get install -y a && apt-get install -y b\n"),
                   NoMeasure())
    assert [f.rule for f in fs].count("apt-recommends") == 1


def test_every_rule_has_a_severity_a_why_and_known_hadolint_ids():
    for r in RULES.values():
        assert r.severity in ("error", "warning", "info", "style") and r.why
        assert all(h.startswith("DL") and len(h) == 6 for h in r.hadolint)
