"""The library face: `import slimscope`, its names, and the README's example."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import slimscope

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "sample-images" / "demo.tar")


def _run(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "the README's Python API section has no python block"
    return m.group(1)


def test_readme_example_runs_and_prints_the_waste():
    code = readme_example()
    assert len(code.strip().splitlines()) == 3
    p = _run(code)
    assert p.returncode == 0, p.stderr
    a = slimscope.analyze(DEMO, use_cache=False)
    assert p.stdout.split() == [str(a.wasted_bytes), a.waste[0].path]


def test_import_is_light():
    p = _run("import sys, slimscope\n"
             "print(sorted(m for m in ('numpy', 'textual', 'docker', 'rich', 'click')"
             " if m in sys.modules))")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_every_public_name_resolves():
    for name in slimscope.__all__:
        assert getattr(slimscope, name) is not None, name
    assert set(slimscope.__all__) <= set(dir(slimscope))
    assert issubclass(slimscope.BadInput, slimscope.SlimscopeError)
    assert issubclass(slimscope.EngineUnavailable, slimscope.BadInput)
    with pytest.raises(AttributeError):
        slimscope.no_such_name  # noqa: B018


def test_analyze_gives_typed_records():
    a = slimscope.analyze(DEMO, use_cache=False)
    assert isinstance(a, slimscope.Analysis)
    assert all(isinstance(l, slimscope.LayerReport) for l in a.layers)
    assert all(isinstance(w, slimscope.WasteItem) for w in a.waste)
    assert all(isinstance(d, slimscope.Duplicate) for d in a.duplicates)
    assert a.hints and all(isinstance(h, slimscope.Hint) for h in a.hints)
    files = list(a.files())
    assert len(files) == a.file_count
    assert [f.path for f in files] == sorted(f.path for f in files)
    for f in files:
        assert isinstance(f, slimscope.FileRecord)
        assert a.entry(f.path) == f
    assert a.entry("/no/such/path") is None
    # one WasteItem per wasted unit: kept free of a per-object __dict__
    assert not hasattr(a.waste[0], "__dict__")
    assert dataclasses.is_dataclass(a.layers[0])
    # each body the final filesystem shows, counted once, is its final_bytes
    assert sum(n for _, n in a.final_table.counted_files()) == a.final_bytes


def test_open_image_indexes_without_composing():
    img = slimscope.open_image(DEMO, use_cache=False)
    assert isinstance(img, slimscope.Image)
    a = slimscope.analyze(DEMO, use_cache=False)
    assert [l.diff_id for l in img.layers] == [l.diff_id for l in a.layers]


def test_bad_input_is_a_slimscope_error(tmp_path):
    bad = tmp_path / "not-an-image.tar"
    bad.write_bytes(b"no tar here")
    with pytest.raises(slimscope.SlimscopeError):
        slimscope.analyze(str(bad), use_cache=False)


def test_py_typed_is_shipped():
    assert (ROOT / "slimscope" / "py.typed").is_file()
    try:
        import tomllib
    except ModuleNotFoundError:   # Python 3.10
        import tomli as tomllib
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in conf["tool"]["setuptools"]["package-data"]["slimscope"]
