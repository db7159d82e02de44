"""slimscope.jsonout writes what json.dumps(indent=2) writes, byte for byte."""

from __future__ import annotations

import json

import pytest

from slimscope.jsonout import dumps

CASES = [
    {}, [], {"a": []}, {"a": {}}, [1, 2, [3, {}]], (1, 2), "str", 3, None, 1.5, True,
    {"x": "\u00e9\u2603\n\"\x01,", 1: 2, False: None, 2.5: [1.5, 1e300, -0.0], None: "n"},
    {"a": {"b": {"c": [1, [2, [3]]]}}}, [{"k": (1, 2)}], {"t": ()},
    # strings that look like the separators the record lists are cut at
    [{"a": "},\n      {"}, {"b": 1, "c": "x\n  {"}], {"x": [{"a": "}, {"}, {"a": "}"}]},
    [{"a": 1}, {}], [{"a": 1}, {"b": []}], {"l": [{"a": 1, "b": 2}, {"c": 3}]}, [{"a": 1}],
    {"files": [{"path": f"/p/{i}\u00e9", "size": i, "link": None, "ok": i % 2 == 0}
               for i in range(50)]},
]


@pytest.mark.parametrize("obj", CASES, ids=range(len(CASES)))
def test_same_text_as_json_dumps_indent_2(obj):
    assert dumps(obj) == json.dumps(obj, indent=2)


def test_a_real_report_is_identical():
    from slimscope.core.analysis import analyze
    from slimscope.core.report import to_json
    doc = to_json(analyze("sample-images/demo.tar", use_cache=False), include_files=True)
    assert dumps(doc) == json.dumps(doc, indent=2)


def test_largest_files_is_the_sorted_cut():
    from slimscope.core.analysis import analyze
    a = analyze("sample-images/demo.tar", use_cache=False)
    want = sorted((r for r in a.files() if r.type in ("file", "hardlink")),
                  key=lambda r: (-r.size, r.path))
    for top in (1, 3, 10, len(want) + 5):
        assert a.largest_files(top) == want[:top]


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_an_iterator_is_written_as_its_list_in_chunks(monkeypatch, n):
    import io

    from slimscope import jsonout
    monkeypatch.setattr(jsonout, "CHUNK_ITEMS", 2)
    items = [{"path": f"/f{i}", "size": i} if i % 4 else {"odd": [i]} for i in range(n)]
    want = json.dumps({"a": 1, "files": items}, indent=2)
    assert jsonout.dumps({"a": 1, "files": iter(items)}) == want
    out = io.StringIO()
    jsonout.dump({"a": 1, "files": iter(items)}, out)
    assert out.getvalue() == want


def test_analyze_json_files_streamed_is_the_same_text(tmp_path):
    import subprocess
    import sys
    env = {**__import__("os").environ, "SLIMSCOPE_NO_CACHE": "1"}
    args = [sys.executable, "-m", "slimscope", "analyze", "sample-images/demo.tar",
            "--format", "json", "--files"]
    streamed = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    subprocess.run(args + ["-o", str(tmp_path / "r.json")], env=env, check=True)
    assert streamed == (tmp_path / "r.json").read_text()
