"""`slimscope lint` as a CI job runs it: suppression, config discovery, thresholds, exit
codes and every output format, read back by the parser each consumer would use."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.dockerfile.rules import RULES

DOCKERFILE = ("FROM busybox:1.36\n"          # 1
              "MAINTAINER me\n"              # 2  maintainer (error)
              "RUN cd /tmp && echo x\n"      # 3  cd-in-run (warning)
              "COPY\n"                       # 4  parse-error (error)
              "RUN apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*\n"
              "CMD echo hi\n")               # 6  shell-form-cmd (warning)


def run(args, cwd=None):
    return CliRunner().invoke(main, ["lint", *args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    df = tmp_path / "app" / "Dockerfile"
    df.write_text(DOCKERFILE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rules_of(r) -> list:
    return [(f["rule"], f["line"]) for f in json.loads(r.stdout)["findings"]]


def test_a_parse_error_is_a_finding_and_the_rest_is_linted(project):
    r = run(["app/Dockerfile", "--format", "json"])
    assert r.exit_code == 1
    assert rules_of(r) == [("maintainer", 2), ("cd-in-run", 3), ("parse-error", 4),
                           ("shell-form-cmd", 6)]
    doc = json.loads(r.stdout)
    assert doc["findings"][0]["hadolint"] == "DL4000" and doc["findings"][0]["level"] == "error"


def test_ignore_option_takes_slimscope_and_hadolint_ids(project):
    r = run(["app/Dockerfile", "--format", "json", "--ignore", "cd-in-run", "--ignore", "DL4000",
             "--ignore", "DL3059"])
    assert rules_of(r) == [("parse-error", 4), ("shell-form-cmd", 6)]


def test_unknown_rule_is_exit_2_with_a_suggestion(project):
    r = run(["app/Dockerfile", "--ignore", "cd-in-rum"])
    assert r.exit_code == 2
    assert "--ignore: unknown rule 'cd-in-rum'; did you mean cd-in-run?" in r.output


def test_config_is_found_from_the_dockerfile_directory_upward(project):
    (project / ".slimscope.toml").write_text(
        '[ci]\nmax-size = "1GB"\n\n[lint]\nignore = ["maintainer"]\nseverity = { cd-in-run = "style" }\n'
        'failure-threshold = "error"\n')
    r = run(["app/Dockerfile", "--format", "json"])
    assert rules_of(r) == [("cd-in-run", 3), ("parse-error", 4), ("shell-form-cmd", 6)]
    assert json.loads(r.stdout)["findings"][0]["level"] == "style"
    assert r.exit_code == 1                      # the parse error is an error
    (project / "app" / "Dockerfile").write_text(DOCKERFILE.replace("COPY\n", "COPY a /a\n"))
    assert run(["app/Dockerfile"]).exit_code == 0  # only warnings and below now
    assert run(["app/Dockerfile", "--failure-threshold", "style"]).exit_code == 1


def test_pyproject_table_and_the_nearest_file_wins(project):
    (project / "pyproject.toml").write_text('[tool.slimscope.lint]\nignore = ["cd-in-run"]\n')
    assert ("cd-in-run", 3) not in rules_of(run(["app/Dockerfile", "--format", "json"]))
    # a .slimscope.toml next to the Dockerfile is nearer than the pyproject above it
    (project / "app" / ".slimscope.toml").write_text('[lint]\nignore = ["sudo"]\n')
    assert ("cd-in-run", 3) in rules_of(run(["app/Dockerfile", "--format", "json"]))


def test_unknown_config_key_names_the_file_and_the_key(project):
    (project / ".slimscope.toml").write_text('[lint]\nignores = ["sudo"]\n')
    r = run(["app/Dockerfile"])
    assert r.exit_code == 2
    assert ".slimscope.toml: unknown key 'ignores' in [lint]; did you mean ignore?" in r.output
    (project / ".slimscope.toml").write_text('[lint]\nseverity = { sudoo = "error" }\n')
    r = run(["app/Dockerfile"])
    assert r.exit_code == 2 and "unknown rule 'sudoo'; did you mean sudo?" in r.output


def test_enable_turns_on_a_pin_rule(project):
    r = run(["app/Dockerfile", "--format", "json", "--enable", "pin-apt"])
    assert ("pin-apt", 5) in rules_of(r)
    assert ("pin-apt", 5) not in rules_of(run(["app/Dockerfile", "--format", "json"]))


def test_sarif_results_name_the_rule_and_the_line(project):
    r = run(["app/Dockerfile", "--format", "sarif", "--exit-zero"])
    assert r.exit_code == 0
    sarif = json.loads(r.stdout)
    assert sarif["version"] == "2.1.0"
    run0 = sarif["runs"][0]
    results = run0["results"]
    assert results, "no SARIF results"
    by_rule = {res["ruleId"]: res for res in results}
    cd = by_rule["cd-in-run"]
    assert cd["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert cd["level"] == "warning" and cd["properties"]["hadolint"] == "DL3003"
    rules = run0["tool"]["driver"]["rules"]
    assert rules[cd["ruleIndex"]]["id"] == "cd-in-run"
    assert {r["id"] for r in rules} == set(RULES)
    pin = next(r for r in rules if r["id"] == "pin-apt")
    assert pin["defaultConfiguration"]["enabled"] is False


def test_checkstyle_is_xml_with_one_error_per_finding(project):
    r = run(["app/Dockerfile", "--format", "checkstyle", "--exit-zero"])
    root = ET.fromstring(r.stdout)
    assert root.tag == "checkstyle"
    (f,) = root.findall("file")
    assert f.get("name") == "app/Dockerfile"
    errors = [(e.get("line"), e.get("severity"), e.get("source")) for e in f.findall("error")]
    assert errors == [("2", "error", "slimscope.maintainer"), ("3", "warning", "slimscope.cd-in-run"),
                      ("4", "error", "slimscope.parse-error"),
                      ("6", "warning", "slimscope.shell-form-cmd")]


def test_gitlab_code_quality(project):
    r = run(["app/Dockerfile", "--format", "gitlab", "--exit-zero"])
    issues = json.loads(r.stdout)
    assert [(i["check_name"], i["location"]["lines"]["begin"], i["severity"]) for i in issues][:2] == [
        ("maintainer", 2, "critical"), ("cd-in-run", 3, "major")]
    assert all(i["location"]["path"] == "app/Dockerfile" and len(i["fingerprint"]) == 64
               for i in issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    # hadolint's name for the format
    assert json.loads(run(["app/Dockerfile", "--format", "gitlab_codeclimate", "--exit-zero"]).stdout) == issues


def test_github_annotations(project):
    r = run(["app/Dockerfile", "--format", "github", "--exit-zero"])
    lines = r.stdout.splitlines()
    assert lines[0] == ("::error file=app/Dockerfile,line=2,endLine=2,title=maintainer::MAINTAINER is "
                        "deprecated: use LABEL org.opencontainers.image.authors=...")
    assert lines[1].startswith("::warning file=app/Dockerfile,line=3,")
    assert len(lines) == 4


def test_output_file_and_list_rules(project):
    r = run(["app/Dockerfile", "--format", "checkstyle", "-o", "lint.xml", "--exit-zero"])
    assert r.exit_code == 0 and r.stdout == ""
    ET.parse(project / "lint.xml")
    listed = run(["--list-rules"]).stdout.splitlines()
    assert len(listed) == len(RULES) and any(l.startswith("pin-apt ") and "DL3008" in l for l in listed)


def test_json_of_a_size_finding_keeps_its_shape(project):
    """slimscope.lint/v1 readers: a finding of a rule with no hadolint counterpart has the
    keys it always had, in the same order; a mapped one adds `hadolint` at the end."""
    (project / "app" / "Dockerfile").write_text(
        "FROM busybox:1.36\nRUN head -c 10 /dev/zero > /tmp/big\nRUN rm /tmp/big\n"
        "RUN pip install --no-cache-dir x==1 && cd /\n")
    r = run(["app/Dockerfile", "--format", "json", "--exit-zero"])
    by_rule = {f["rule"]: f for f in json.loads(r.stdout)["findings"]}
    assert list(by_rule["later-rm"]) == ["rule", "line", "end_line", "message", "bytes", "level"]
    assert list(by_rule["cd-in-run"])[-1] == "hadolint"
