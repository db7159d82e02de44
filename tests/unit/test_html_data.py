"""The trees the HTML page draws, decoded back in Python: every byte of the JSON
lands in exactly one place, so the treemap's totals are the report's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from slimscope.html import data
from tests.support.engine import REPO_ROOT

DEMO = REPO_ROOT / "sample-images" / "demo.tar"


def decode(tree: dict) -> dict:
    """path -> (bytes, kind) of every node, read the way treemap.js reads the arrays."""
    out, stack = {}, []          # stack: [path, children left]
    for name, v, k in zip(tree["n"], tree["v"], tree["k"]):
        while stack and stack[-1][1] == 0:
            stack.pop()
        if stack:
            stack[-1][1] -= 1
        parent = stack[-1][0] if stack else None
        path = "/" if parent is None else ("" if parent == "/" else parent) + "/" + name
        out.setdefault(path, []).append((v if v >= 0 else None, k))
        if v < 0:
            stack.append([path, ~v])
    assert all(left == 0 for _, left in stack)
    return out


@pytest.fixture(scope="module")
def doc():
    if not DEMO.exists():
        pytest.skip("sample-images/demo.tar is missing")
    p = subprocess.run([sys.executable, "-m", "slimscope", "analyze", str(DEMO), "--format",
                        "json", "--files"], capture_output=True, text=True, cwd=REPO_ROOT,
                       check=True)
    return json.loads(p.stdout)


def test_final_tree_holds_every_path_once_and_totals_final_bytes(doc):
    tree = data.final_tree(doc)
    nodes = decode(tree)
    assert set(nodes) == {f["path"] for f in doc["files"]} | {"/"}
    assert all(len(v) == 1 for v in nodes.values())
    assert tree["total"] == doc["totals"]["final_bytes"]
    assert sum(v[0][0] or 0 for v in nodes.values()) == doc["totals"]["final_bytes"]
    kinds = {f["path"]: f for f in doc["files"]}
    busybox = nodes["/bin/busybox"][0]
    assert busybox[0] == kinds["/bin/busybox"]["size"]
    assert tree["kt"][busybox[1]] == "-rwxr-xr-x 0:0 · from layer 0"
    assert tree["c"][busybox[1]] == 0            # legend entry of layer 0


def test_children_come_largest_first(doc):
    """The page groups a directory's small files from the first one too small on, so
    each directory's children must arrive sorted by bytes, largest first."""
    nodes = decode(data.final_tree(doc))
    totals = {p: 0 for p in nodes}
    for p, v in nodes.items():
        for anc in [p] + [p[:i] or "/" for i in range(len(p)) if p[i] == "/"]:
            totals[anc] += v[0][0] or 0
    order: dict = {}
    for p in nodes:                  # decode keeps the preorder
        if p != "/":
            order.setdefault(p.rsplit("/", 1)[0] or "/", []).append(totals[p])
    assert order["/"][0] == totals["/bin"]
    assert all(kids == sorted(kids, reverse=True) for kids in order.values())


def test_waste_tree_keeps_each_stored_copy(doc):
    tree = data.waste_tree(doc)
    nodes = decode(tree)
    assert tree["total"] == doc["totals"]["wasted_bytes"]
    leaves = sorted((p, b) for p, v in nodes.items() for b, _ in v if b is not None)
    assert leaves == sorted((w["path"], w["bytes"]) for w in doc["waste"])
    deleted = nodes["/root/.ssh/id_rsa"][0]
    assert tree["kt"][deleted[1]] == ("deleted: stored in layer 2, hidden by layer 6 · "
                                      "looks like a secret")
    assert tree["legend"][tree["c"][deleted[1]]][0] == "deleted"


def test_growth_tree_is_sized_by_the_change():
    diff = {"files": [
        {"path": "/a/new", "change": "added", "old_bytes": 0, "new_bytes": 70, "delta": 70},
        {"path": "/a/big", "change": "grew", "old_bytes": 10, "new_bytes": 40, "delta": 30},
        {"path": "/b/gone", "change": "removed", "old_bytes": 5, "new_bytes": 0, "delta": -5}]}
    growth, shrink = data.diff_trees(diff)
    assert growth["total"] == 100 and shrink["total"] == 5
    assert {p: v[0][0] for p, v in decode(growth).items() if v[0][0] is not None} == \
        {"/a/new": 70, "/a/big": 30}
    assert "/b/gone" in decode(shrink)


def test_a_path_deeper_than_pythons_stack():
    b = data.TreeBuilder()
    b.add_leaf("/" + "/".join(["d"] * 3000) + "/f", 7, b.kind(("x",), "x", 0))
    tree = b.encode()
    assert tree["total"] == 7 and len(tree["n"]) == 3002


def test_a_name_that_is_not_utf8_still_makes_a_page(doc):
    """Tar names that are not UTF-8 arrive surrogate-escaped; the page shows U+FFFD."""
    from slimscope.html import analysis_page  # noqa: PLC0415

    doc = json.loads(json.dumps(doc))
    bad = "/app/caf" + b"\xe9".decode("utf-8", "surrogateescape")
    doc["files"].append({"path": bad, "type": "file", "size": 123456, "mode": 0o644, "uid": 0,
                         "gid": 0, "layer": 6, "link": None, "digest": None})
    page = analysis_page(doc)
    assert "/app/caf\ufffd" in page          # the largest-files table
    page.encode("utf-8")
