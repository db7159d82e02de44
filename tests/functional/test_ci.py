"""`slimscope ci` end to end on real images: the bundled sample image (no engine
needed) and fixture images saved once per session from the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from slimscope.cli import main
from slimscope.core.analysis import analyze
from tests.support.engine import REPO_ROOT
from tests.support.forms import save_archive
from tests.support.images import fixture_image

DEMO = REPO_ROOT / "sample-images" / "demo.tar"
DEMO_OCI = REPO_ROOT / "sample-images" / "demo-oci"

needs_demo = pytest.mark.skipif(not DEMO.exists(), reason="sample-images/demo.tar is missing")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    """No config found by accident, and never the real CI's summary file."""
    for var in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def demo():
    if not DEMO.exists():
        pytest.skip("sample-images/demo.tar is missing")
    return analyze(str(DEMO))


def ci(*args, env=None):
    result = CliRunner().invoke(main, ["ci", *map(str, args)], env=env)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        result.exception
    return result


def rule_lines(out: str) -> dict:
    """rule -> 'pass'/'FAIL' from the human summary."""
    got = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("✓", "✗"):
            got[parts[2]] = parts[1]
    return got


# --------------------------------------------------------------------------- #
# Every rule, passing at its exact budget and failing one unit below it
# --------------------------------------------------------------------------- #

def _cases(a):
    biggest = max(l.bytes for l in a.layers)
    wasted_pct = 100 * a.wasted_bytes / a.total_bytes
    return [
        ("max-size", str(a.final_bytes), str(a.final_bytes - 1), "/bin/busybox"),
        ("max-wasted-bytes", str(a.wasted_bytes), str(a.wasted_bytes - 1),
         "/tmp/big-download.tar"),
        ("max-wasted-percent", f"{wasted_pct + 0.01:.2f}%", f"{wasted_pct - 0.01:.2f}%",
         "/tmp/big-download.tar"),
        ("min-efficiency", f"{a.efficiency - 0.0001:.4f}", f"{a.efficiency + 0.0001:.4f}",
         "/tmp/big-download.tar"),
        ("max-layers", str(len(a.layers)), str(len(a.layers) - 1), "layer 1 holds only 0 Bytes"),
        ("max-layer-size", str(biggest), str(biggest - 1), "layer 0"),
    ]


@needs_demo
@pytest.mark.parametrize("i", range(6))
def test_each_size_rule_passes_at_budget_and_fails_below(demo, i):
    rule, ok_budget, bad_budget, culprit = _cases(demo)[i]
    r = ci(DEMO, f"--{rule}", ok_budget, "--allow-hidden-secrets")
    assert r.exit_code == 0, r.output + r.stderr
    assert rule_lines(r.output) == {rule: "pass"}
    assert "PASSED" in r.output
    r = ci(DEMO, f"--{rule}", bad_budget, "--allow-hidden-secrets")
    assert r.exit_code == 1, r.output + r.stderr
    assert rule_lines(r.output) == {rule: "FAIL"}
    assert culprit in r.output
    assert f"FAILED: 1 of 1 rule failed ({rule})" in r.stderr


@needs_demo
def test_max_compressed_size_stored_gzip_and_measured(demo):
    oci = analyze(str(DEMO_OCI))
    stored = oci.compressed_bytes
    assert stored and stored < oci.total_bytes
    assert ci(DEMO_OCI, "--max-compressed-size", stored, "--allow-hidden-secrets").exit_code == 0
    r = ci(DEMO_OCI, "--max-compressed-size", stored - 1, "--allow-hidden-secrets")
    assert r.exit_code == 1 and "compressed in layer 0" in r.output
    assert "stored uncompressed" not in r.output
    # demo.tar stores its layers as plain tars: the rule gzips them to measure.
    r = ci(DEMO, "--max-compressed-size", "1MB", "--allow-hidden-secrets")
    assert r.exit_code == 1
    assert "gzip-compressed to measure" in r.output
    r = ci(DEMO, "--max-compressed-size", "2MB", "--allow-hidden-secrets")
    assert r.exit_code == 0, r.output


@needs_demo
def test_text_report_names_top_culprits_once(demo):
    r = ci(DEMO, "--max-wasted-bytes", 1, "--min-efficiency", "99%", "--top", 2)
    assert r.exit_code == 1
    out = r.output
    assert "262.1 kB /tmp/big-download.tar: stored in layer 5, deleted in layer 6" in out
    assert "… 6 more" in out                      # 8 wasted units, 2 shown
    assert "(the same files as max-wasted-bytes)" in out
    assert out.count("/tmp/big-download.tar") == 1


@needs_demo
def test_top_cuts_each_group_of_culprits_on_its_own(demo, tmp_path):
    r = ci(DEMO, "--no-config", "--max-size", "1MB", "--top", 1, "--allow-hidden-secrets",
           "--junit", tmp_path / "j.xml")
    assert r.exit_code == 1
    lines = [l.strip() for l in r.output.splitlines()]
    assert "2.0 MB visible in layer 0: Imported from -" in lines      # the largest layer
    assert "2.0 MB /bin/busybox" in lines                             # and the largest file
    more = [l for l in lines if l.startswith("…")]
    final_files = len(demo.final_table.counted_rows())     # bodies shown, hardlinks once
    assert more == ["… 3 more layers", f"… {final_files - 1} more files"]
    junit = (tmp_path / "j.xml").read_text()
    for line in ["2.0 MB /bin/busybox", *more]:
        assert line in junit


@needs_demo
def test_forbid(demo):
    r = ci(DEMO, "--forbid", "**/.env", "--forbid", "/var/lib/apt/lists/*",
           "--allow-hidden-secrets")
    assert r.exit_code == 1
    assert "/app/.env (158 Bytes) matches '**/.env'" in r.output
    r = ci(DEMO, "--forbid", "/app/lib", "--allow-hidden-secrets")
    assert r.exit_code == 1
    assert "/app/lib/ (" in r.output and "matches '/app/lib'" in r.output
    # Nothing there: passes; an empty directory is nothing to forbid.
    r = ci(DEMO, "--forbid", "/var/lib/apt/lists/*", "--forbid", "/root/.ssh",
           "--forbid", "**/*.pem", "--allow-hidden-secrets")
    assert r.exit_code == 0, r.output


@needs_demo
def test_hidden_secrets_on_by_default(demo):
    r = ci(DEMO)
    assert r.exit_code == 1
    assert rule_lines(r.output) == {"no-hidden-secrets": "FAIL"}
    assert "/root/.ssh/id_rsa was deleted in layer 6 but is still in layer 2" in r.output
    r = ci(DEMO, "--secrets-allow", "/root/.ssh/*")
    assert r.exit_code == 0 and rule_lines(r.output) == {"no-hidden-secrets": "pass"}


@needs_demo
def test_path_budgets(demo):
    r = ci(DEMO, "--path-budget", "/app/**=300kB", "--path-budget", "/bin/busybox=3MB",
           "--allow-hidden-secrets")
    assert r.exit_code == 0, r.output
    # /app shows 65,536 + 30,000 * 3 + 12,000 (the twin) + 158 + 6 + 11 + 3 bytes.
    app = 65_536 + 90_000 + 12_000 + 158 + 6 + 11 + 3
    assert ci(DEMO, "--path-budget", f"/app={app}", "--allow-hidden-secrets").exit_code == 0
    r = ci(DEMO, "--path-budget", f"/app={app - 1}", "--allow-hidden-secrets")
    assert r.exit_code == 1
    assert "65.5 kB /app/data/blob.bin" in r.output


def test_no_rule_enabled_is_an_error():
    r = ci("whatever.tar", "--allow-hidden-secrets")
    assert r.exit_code == 2 and "no rule is enabled" in r.stderr


# --------------------------------------------------------------------------- #
# Config files and flags
# --------------------------------------------------------------------------- #

@needs_demo
def test_config_from_each_place(demo, tmp_path):
    budget = demo.final_bytes - 1
    places = {
        ".slimscope.toml": f"[ci]\nmax-size = {budget}\nno-hidden-secrets = false\n",
        "pyproject.toml": f"[tool.slimscope.ci]\nmax-size = {budget}\nno-hidden-secrets = false\n",
    }
    for name, body in places.items():
        d = tmp_path / name.strip(".")
        (d / "deep").mkdir(parents=True)
        (d / name).write_text(body)
        os.chdir(d / "deep")
        r = ci(DEMO)
        assert r.exit_code == 1, (name, r.output, r.stderr)
        assert rule_lines(r.output) == {"max-size": "FAIL"}, name
        assert f"(config: {d / name})" in r.output
        # A flag overrides the file's budget.
        r = ci(DEMO, "--max-size", demo.final_bytes)
        assert r.exit_code == 0, (name, r.output)
        # --no-config ignores the file (and the secret rule is back on).
        r = ci(DEMO, "--no-config")
        assert rule_lines(r.output) == {"no-hidden-secrets": "FAIL"}


@needs_demo
def test_dive_ci_file(demo, tmp_path):
    (tmp_path / ".dive-ci").write_text(
        "rules:\n  lowestEfficiency: 0.85\n  highestWastedBytes: 500kB\n"
        "  highestUserWastedPercent: 0.2\n")
    r = ci(DEMO, "--allow-hidden-secrets")
    assert r.exit_code == 1
    assert rule_lines(r.output) == {"max-wasted-bytes": "pass", "max-wasted-percent": "pass",
                                    "min-efficiency": "FAIL"}
    assert "efficiency: 84.2% (below budget 85.0%)" in r.output
    r = ci(DEMO, "--allow-hidden-secrets", "--min-efficiency", "84%")
    assert r.exit_code == 0


@needs_demo
def test_bad_config_exits_2_naming_the_key(tmp_path):
    (tmp_path / ".slimscope.toml").write_text("[ci]\nmax-size = '150 megs'\n")
    r = ci(DEMO)
    assert r.exit_code == 2
    assert "max-size" in r.stderr and ".slimscope.toml" in r.stderr
    assert "Traceback" not in r.stderr + r.output
    (tmp_path / ".slimscope.toml").write_text("[ci]\nmax-sizes = '150MB'\n")
    r = ci(DEMO)
    assert r.exit_code == 2 and "unknown key 'max-sizes'" in r.stderr
    r = ci(DEMO, "--no-config", "--max-layers", "lots")
    assert r.exit_code == 2 and "--max-layers" in r.stderr


# --------------------------------------------------------------------------- #
# Reports
# --------------------------------------------------------------------------- #

@needs_demo
def test_junit_json_markdown(demo, tmp_path):
    junit, js, md = tmp_path / "junit.xml", tmp_path / "ci.json", tmp_path / "ci.md"
    r = ci(DEMO, "--max-size", "1MB", "--max-layers", 20, "--forbid", "**/.env",
           "--junit", junit, "--json", js, "--markdown", md)
    assert r.exit_code == 1
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "3"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["max-size", "max-layers", "forbid", "no-hidden-secrets"]
    assert cases["max-layers"].find("failure") is None
    fail = cases["max-size"].find("failure")
    assert "over budget 1.0 MB" in fail.get("message") and "/bin/busybox" in fail.text
    assert "/root/.ssh/id_rsa" in cases["no-hidden-secrets"].find("failure").text

    doc = json.loads(js.read_text())
    assert doc["schema"] == "slimscope.ci/v1"
    assert doc["passed"] is False
    assert doc["failed"] == ["max-size", "forbid", "no-hidden-secrets"]
    by = {x["rule"]: x for x in doc["rules"]}
    assert by["max-size"]["measured"] == demo.final_bytes
    assert by["max-size"]["budget"] == 1_000_000
    assert by["forbid"]["culprits"][0]["path"] == "/app/.env"
    assert doc["analysis"]["schema"] == "slimscope.analysis/v1"
    assert len(doc["analysis"]["files"]) == len(demo.composed.final)

    text = md.read_text()
    assert text.startswith("## slimscope ci: `slimscope-sample/demo:latest` :x:")
    assert "| ❌ | `max-size` |" in text and "| ✅ | `max-layers` |" in text
    assert "### ❌ `forbid`" in text


@needs_demo
def test_github_step_summary_and_annotations(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    r = ci(DEMO, "--max-layers", 3, env=env)
    assert r.exit_code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n## slimscope ci:")   # appended, not replaced
    assert "### ❌ `max-layers`" in text
    errors = [l for l in r.output.splitlines() if l.startswith("::error ")]
    assert len(errors) == 2
    assert any("title=slimscope ci max-layers (slimscope-sample/demo%3Alatest)::layers: 7 "
               "(over budget 3)%0A" in e for e in errors)
    # Outside GitHub Actions: no workflow commands, no summary.
    r = ci(DEMO, "--max-layers", 3)
    assert "::error" not in r.output
    r = ci(DEMO, "--max-layers", 3, "--github")
    assert "::error" in r.output


def test_passing_run_writes_no_annotations(tmp_path):
    if not DEMO.exists():
        pytest.skip("sample-images/demo.tar is missing")
    summary = tmp_path / "s.md"
    r = ci(DEMO, "--max-layers", 7, "--allow-hidden-secrets",
           env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert r.exit_code == 0
    assert "::error" not in r.output
    assert ":white_check_mark:" in summary.read_text()


# --------------------------------------------------------------------------- #
# Exit code 2: the analysis failed, never a pass
# --------------------------------------------------------------------------- #

def test_unreadable_image_exits_2_and_junit_says_error(tmp_path):
    junit = tmp_path / "j.xml"
    r = ci(tmp_path / "missing.tar", "--max-size", "1GB", "--junit", junit)
    assert r.exit_code == 2
    assert r.stderr.startswith("slimscope: ")
    root = ET.parse(junit).getroot()
    assert root.find("testsuite").get("errors") == "1"
    assert root.find("testsuite/testcase/error") is not None


@needs_demo
@pytest.mark.parametrize("args,body", [
    (["--max-size", "1MB"], "[ci]\nmax-size = '150 megs'\n"),      # bad config value
    ([], None),                                                   # no rule is enabled
    (["--max-growth", "5%"], None),                               # growth without a baseline
    (["--forbid", "/a/[z-a]"], None),                             # a glob that cannot be read
])
def test_every_exit_2_writes_a_junit_error(tmp_path, args, body):
    if body is not None:
        (tmp_path / ".slimscope.toml").write_text(body)
    junit = tmp_path / "j.xml"
    extra = [] if body is not None else ["--no-config", "--allow-hidden-secrets"]
    r = ci(DEMO, *extra, *args, "--junit", junit)
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1
    root = ET.parse(junit).getroot()
    assert root.find("testsuite").get("errors") == "1"
    assert root.find("testsuite/testcase/error").get("message")


@needs_demo
@pytest.mark.parametrize("body,message", [
    ("", "is empty"),
    ("[cii]\nmax-size = '1MB'\n", "unknown key 'cii'"),
    ("[lint]\n[gate]\nmax-size = '1MB'\n", "unknown key 'gate'"),
])
def test_a_config_never_passes_silently(tmp_path, body, message):
    (tmp_path / ".slimscope.toml").write_text(body)
    r = ci(DEMO, "--max-size", "10MB", "--allow-hidden-secrets")
    assert r.exit_code == 2, r.output
    assert message in r.stderr and ".slimscope.toml" in r.stderr


@needs_demo
def test_a_config_without_ci_table_is_named(tmp_path):
    (tmp_path / ".slimscope.toml").write_text("[lint]\n")
    r = ci(DEMO, "--max-size", "10MB", "--allow-hidden-secrets")
    assert r.exit_code == 0, r.output
    assert ".slimscope.toml, no [ci] table)" in r.output


@needs_demo
def test_truncated_archive_exits_2(tmp_path):
    broken = tmp_path / "broken.tar"
    broken.write_bytes(DEMO.read_bytes()[:1_500_000])
    r = ci(broken, "--max-size", "1GB")
    assert r.exit_code == 2, r.output
    assert "PASSED" not in r.output


def test_max_growth_needs_a_baseline():
    r = ci("x.tar", "--max-growth", "5%")
    assert r.exit_code == 2 and "needs a baseline" in r.stderr


@needs_demo
def test_bad_baseline_exits_2(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text('{"schema": "something/else"}')
    r = ci(DEMO, "--baseline", bad, "--max-growth", "1MB")
    assert r.exit_code == 2 and "not a slimscope report" in r.stderr
    bad.write_text("{not json")
    r = ci(DEMO, "--baseline", bad, "--max-growth", "1MB")
    assert r.exit_code == 2 and "not valid JSON" in r.stderr


@needs_demo
def test_real_entry_point_exit_codes(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "slimscope", "ci", *map(str, args)],
                              capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert run(DEMO, "--secrets-allow", "/root/**").returncode == 0
    p = run(DEMO)
    assert p.returncode == 1 and "no-hidden-secrets" in p.stdout
    p = run(tmp_path / "nope.tar", "--max-size", "1MB")
    assert p.returncode == 2 and "Traceback" not in p.stderr


# --------------------------------------------------------------------------- #
# max-growth against a baseline: a saved JSON report or another image
# --------------------------------------------------------------------------- #

@pytest.fixture(scope="session")
def saved(engine, tmp_path_factory):
    """Fixture images saved once per session: name -> docker-save archive path."""
    d = tmp_path_factory.mktemp("gate-images")
    out = {}
    for name in ("hidden-deletion", "overwrite"):
        out[name] = save_archive(fixture_image(name), d / f"{name}.tar")
    return out


@pytest.mark.engine
def test_max_growth_from_image_and_saved_json(saved, tmp_path):
    old, new = saved["overwrite"], saved["hidden-deletion"]
    a_old, a_new = analyze(str(old)), analyze(str(new))
    growth = a_new.final_bytes - a_old.final_bytes
    assert growth < 0       # overwrite keeps a 120 kB file; hidden-deletion deletes its file
    # Turned around, it grew by exactly -growth bytes.
    r = ci(old, "--baseline", new, "--max-growth", -growth)
    assert r.exit_code == 0, r.output
    r = ci(old, "--baseline", new, "--max-growth", -growth - 1)
    assert r.exit_code == 1, r.output
    assert "+120.0 kB /data/config.bin (added)" in r.output
    assert "new layer 2 (120.0 kB): head -c 120000" in r.output

    # The same through saved reports: ci --json, and analyze --format json --files.
    js = tmp_path / "base.json"
    assert ci(new, "--json", js, "--max-layers", 99, "--allow-hidden-secrets").exit_code == 0
    an = tmp_path / "analysis.json"
    assert CliRunner().invoke(main, ["analyze", str(new), "--format", "json", "--files",
                                     "-o", str(an)]).exit_code == 0
    for baseline in (js, an):
        r = ci(old, "--baseline", baseline, "--max-growth", -growth - 1, "--json",
               tmp_path / "out.json")
        assert r.exit_code == 1, r.output
        assert "+120.0 kB /data/config.bin (added)" in r.output
        doc = json.loads((tmp_path / "out.json").read_text())
        g = next(x for x in doc["rules"] if x["rule"] == "max-growth")
        assert g["measured"] == -growth and g["budget"] == -growth - 1
        assert doc["baseline"]["files"][0]["path"] == "/data/config.bin"
    # A percentage of the baseline's final size.
    pct = 100 * -growth / a_new.final_bytes
    assert ci(old, "--baseline", js, "--max-growth", f"{pct + 0.01:.2f}%").exit_code == 0
    assert ci(old, "--baseline", js, "--max-growth", f"{pct - 0.01:.2f}%").exit_code == 1
    # A report without its file list still gates, and says what it could not name.
    an2 = tmp_path / "nofiles.json"
    CliRunner().invoke(main, ["analyze", str(new), "--format", "json", "-o", str(an2)])
    r = ci(old, "--baseline", an2, "--max-growth", 0)
    assert r.exit_code == 1 and "per-file data is missing" in r.output
