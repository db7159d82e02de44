"""Pure unit tests of the gate's units, globs and config files (no image, no engine)."""

from __future__ import annotations

import os

import pytest

from slimscope.errors import BadInput
from slimscope.gate import config as gc
from slimscope.gate.rules import build_rules, glob_match
from slimscope.gate.units import Amount, UnitError, parse_amount, parse_percent, parse_ratio, parse_size


@pytest.mark.parametrize("text,expected", [
    ("150MB", 150_000_000), ("150 MB", 150_000_000), ("150mb", 150_000_000),
    ("1.5GiB", 1_610_612_736), ("1.5 gib", 1_610_612_736), ("300k", 300_000),
    ("300KiB", 307_200), ("2048", 2048), (2048, 2048), ("0", 0), ("1.5GB", 1_500_000_000),
    ("7B", 7), ("2T", 2 * 10**12), (".5MiB", 524_288),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["abc", "-1", -1, "10%", "1.5XB", "", True, None, [1], "MB"])
def test_parse_size_rejects(bad):
    with pytest.raises(UnitError):
        parse_size(bad)


def test_percent_ratio_amount():
    assert parse_percent("10%") == 10.0
    assert parse_percent("2.5 %") == 2.5
    assert parse_percent(10) == 10.0
    assert parse_ratio(0.9) == 0.9
    assert parse_ratio("90%") == pytest.approx(0.9)
    assert parse_ratio("0.95") == 0.95
    for bad in ("101%", "-3%", "ten"):
        with pytest.raises(UnitError):
            parse_percent(bad)
    for bad in (1.5, "150%", "x", True):
        with pytest.raises(UnitError):
            parse_ratio(bad)
    assert parse_amount("10%") == Amount(percent=10.0)
    assert parse_amount("20MB") == Amount(bytes=20_000_000)
    assert parse_amount("10%").limit(1000) == 100
    assert parse_amount("20MB").limit(1000) == 20_000_000
    assert parse_amount("150%").limit(1000) == 1500
    with pytest.raises(UnitError):
        parse_amount("lots")


@pytest.mark.parametrize("glob,path,expected", [
    ("/var/lib/apt/lists/*", "/var/lib/apt/lists/deb.debian.org_Packages", True),
    ("/var/lib/apt/lists/*", "/var/lib/apt/lists", False),
    ("/var/lib/apt/lists/*", "/var/lib/apt/lists/partial/x", False),
    ("**/*.pem", "/etc/ssl/private/server.pem", True),
    ("**/*.pem", "/server.pem", True),
    ("**/*.pem", "/etc/ssl/private/server.pem.bak", False),
    ("*.pem", "/deep/down/key.pem", True),
    ("**/.git", "/src/app/.git", True),
    ("**/.git", "/src/app/.github", False),
    ("/usr/lib/python3*/**", "/usr/lib/python3.11/os.py", True),
    ("/usr/lib/python3*/**", "/usr/lib/python3.11", True),
    ("/usr/lib/python3*/**", "/usr/local/lib/python3.11/os.py", False),
    ("/app/*.so.[0-9]", "/app/libx.so.1", True),
    ("/app/*.so.[!0-9]", "/app/libx.so.1", False),
    ("/a/**/z", "/a/z", True),
    ("/a/**/z", "/a/b/c/z", True),
    ("/app/?.txt", "/app/a.txt", True),
    ("/app/?.txt", "/app/ab.txt", False),
])
def test_globs(glob, path, expected):
    assert glob_match(glob, path) is expected


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def test_slimscope_toml_found_upward(tmp_path, monkeypatch):
    _write(tmp_path / ".slimscope.toml", """
[ci]
max-size = "150MB"
min-efficiency = "95%"
forbid = ["**/*.pem", "/var/lib/apt/lists/*"]
path-budgets = { "/usr/lib/python3*/**" = "80MB" }
max-growth = "10%"
no-hidden-secrets = false

[lint]
ignore = ["apt-lists"]    # another command's table: not the gate's business
""")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert gc.find_config() == str(tmp_path / ".slimscope.toml")
    cfg = gc.load()
    assert cfg.source == str(tmp_path / ".slimscope.toml")
    assert cfg.max_size == 150_000_000
    assert cfg.min_efficiency == pytest.approx(0.95)
    assert cfg.forbid == ["**/*.pem", "/var/lib/apt/lists/*"]
    assert cfg.path_budgets == {"/usr/lib/python3*/**": 80_000_000}
    assert cfg.max_growth == Amount(percent=10.0)
    assert cfg.no_hidden_secrets is False
    names = [r.name for r in build_rules(cfg)]
    assert names == ["max-size", "min-efficiency", "forbid", "path-budgets", "max-growth"]


def test_pyproject_table(tmp_path, monkeypatch):
    _write(tmp_path / "pyproject.toml", """
[project]
name = "x"

[tool.slimscope.ci]
max-wasted-bytes = "20MB"
max_layers = 12
""")
    monkeypatch.chdir(tmp_path)
    cfg = gc.load()
    assert cfg.source == str(tmp_path / "pyproject.toml")
    assert cfg.max_wasted_bytes == 20_000_000
    assert cfg.max_layers == 12
    assert cfg.no_hidden_secrets is True


def test_pyproject_without_table_is_skipped_for_one_further_up(tmp_path, monkeypatch):
    _write(tmp_path / ".dive-ci", "rules:\n  lowestEfficiency: 0.9\n")
    _write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'x'\n")
    monkeypatch.chdir(tmp_path / "pkg")
    assert gc.find_config() == str(tmp_path / ".dive-ci")


def test_dive_ci(tmp_path, monkeypatch):
    _write(tmp_path / ".dive-ci", """# dive's CI rules
rules:
  # If the efficiency is measured below X%, mark as failed.
  lowestEfficiency: 0.95
  highestWastedBytes: 20MB
  highestUserWastedPercent: "0.20"
""")
    monkeypatch.chdir(tmp_path)
    cfg = gc.load()
    assert cfg.min_efficiency == 0.95
    assert cfg.max_wasted_bytes == 20_000_000
    assert cfg.max_wasted_percent == pytest.approx(20.0)


def test_dive_ci_disabled_and_unknown(tmp_path):
    p = _write(tmp_path / ".dive-ci", "rules:\n  lowestEfficiency: disabled\n"
                                      "  highestWastedBytes: 1kB\n")
    cfg = gc.load(p)
    assert cfg.min_efficiency is None and cfg.max_wasted_bytes == 1000
    p = _write(tmp_path / "x" / ".dive-ci", "rules:\n  lowestEfficency: 0.9\n")
    with pytest.raises(BadInput, match="lowestEfficency"):
        gc.load(p)
    p = _write(tmp_path / "y" / ".dive-ci", "rules:\n  lowestEfficiency: 95\n")
    with pytest.raises(BadInput, match="rules.lowestEfficiency"):
        gc.load(p)


def test_priority_in_one_directory(tmp_path, monkeypatch):
    _write(tmp_path / ".dive-ci", "rules:\n  lowestEfficiency: 0.9\n")
    _write(tmp_path / "pyproject.toml", "[tool.slimscope.ci]\nmax-layers = 3\n")
    _write(tmp_path / ".slimscope.toml", "[ci]\nmax-size = '1MB'\n")
    monkeypatch.chdir(tmp_path)
    assert gc.find_config().endswith(".slimscope.toml")
    os.unlink(tmp_path / ".slimscope.toml")
    assert gc.find_config().endswith("pyproject.toml")


@pytest.mark.parametrize("body,key", [
    ("[ci]\nmax-sise = '1MB'\n", "max-sise"),
    ("[ci]\nmax-size = 'huge'\n", "max-size"),
    ("[ci]\nmin-efficiency = 1.5\n", "min-efficiency"),
    ("[ci]\nmax-layers = 'many'\n", "max-layers"),
    ("[ci]\nforbid = 'x'\nforbid_list = []\n", "forbid_list"),
    ("[ci]\nforbid = [1, 2]\n", "forbid"),
    ("[ci]\npath-budgets = { '/usr/**' = 'big' }\n", "/usr/**"),
    ("[ci]\nno-hidden-secrets = 'maybe'\n", "no-hidden-secrets"),
    ("max-size = '1MB'\n", "max-size"),
    ("[ci\n", "not valid TOML"),
])
def test_bad_config_names_the_key(tmp_path, body, key):
    p = _write(tmp_path / ".slimscope.toml", body)
    with pytest.raises(BadInput) as e:
        gc.load(p)
    assert key in str(e.value)
    assert str(p) in str(e.value) or "TOML" in str(e.value)


def test_unknown_key_suggests(tmp_path):
    p = _write(tmp_path / ".slimscope.toml", "[ci]\nmax-wasted-byte = '1MB'\n")
    with pytest.raises(BadInput, match="did you mean max-wasted-bytes"):
        gc.load(p)


def test_flags_override_config(tmp_path):
    p = _write(tmp_path / ".slimscope.toml", """[ci]
max-size = "150MB"
min-efficiency = 0.9
forbid = ["**/*.pem"]
path-budgets = { "/usr/**" = "10MB", "/opt/**" = "1MB" }
""")
    cfg = gc.load(p, overrides={"max-size": "200MB", "min-efficiency": "off",
                                "forbid": ["**/.git"], "path-budgets": ["/usr/**=20MB"],
                                "no-hidden-secrets": False})
    assert cfg.max_size == 200_000_000
    assert cfg.min_efficiency is None
    assert cfg.forbid == ["**/*.pem", "**/.git"]
    assert cfg.path_budgets == {"/usr/**": 20_000_000, "/opt/**": 1_000_000}
    assert cfg.no_hidden_secrets is False
    with pytest.raises(BadInput, match="--max-size"):
        gc.load(p, overrides={"max-size": "lots"})
    with pytest.raises(BadInput, match="GLOB=SIZE"):
        gc.load(p, overrides={"path-budgets": ["/usr/**"]})


def test_no_config_flag_and_missing_file(tmp_path, monkeypatch):
    _write(tmp_path / ".slimscope.toml", "[ci]\nmax-size = '1MB'\n")
    monkeypatch.chdir(tmp_path)
    assert gc.load(use_config=False).max_size is None
    with pytest.raises(BadInput, match="does not exist"):
        gc.load(str(tmp_path / "nope.toml"))
    with pytest.raises(BadInput, match=r"no \[tool.slimscope.ci\]"):
        gc.load(_write(tmp_path / "p" / "pyproject.toml", "[project]\nname='x'\n"))


def test_baseline_relative_to_config(tmp_path, monkeypatch):
    _write(tmp_path / "ci" / "base.json", "{}")
    p = _write(tmp_path / ".slimscope.toml", "[ci]\nbaseline = 'ci/base.json'\nmax-growth = '5%'\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert gc.load(p).baseline == str(tmp_path / "ci" / "base.json")
    p = _write(tmp_path / "o" / ".slimscope.toml", "[ci]\nbaseline = 'myapp:main'\n")
    assert gc.load(p).baseline == "myapp:main"
