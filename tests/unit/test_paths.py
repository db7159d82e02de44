"""The core's path tables against answers worked out path by path, on random images."""

from __future__ import annotations

import random

import pytest

from slimscope.core.paths import FinalTable, HistoryTable, PathTree, after_prefix
from slimscope.core.report import to_json
from slimscope.index.records import FILE
from tests.support.random_images import counted_by_hand, random_analysis


def under(path: str, d: str) -> bool:
    return d == "/" and path != "/" or path.startswith(d + "/")


def test_tree_lists_every_ancestor_and_each_run_is_a_subtree():
    listed = ["/a/b/c", "/a/b-x", "/a/b.y/z", "/q", "/a/b/c/d/e"]
    t = PathTree(listed)
    assert t.paths == sorted(set(listed) | {"/", "/a", "/a/b", "/a/b.y", "/a/b/c/d"})
    for g, p in enumerate(t.paths):
        kids = {t.paths[k] for k in t.kids_of(g).tolist()}
        assert kids == {q for q in t.paths if q != p and q.rsplit("/", 1)[0] in (p, "")
                        and (q.rsplit("/", 1)[0] or "/") == p}
        if kids:
            run = set(t.paths[t.lo[g]:t.hi[g]])
            assert run == {q for q in t.paths if under(q, p)}, p
        assert (t.paths[t.parent[g]] if g else None) == (None if p == "/" else
                                                          p.rsplit("/", 1)[0] or "/")


@pytest.mark.parametrize("prefix", ["", "/", "/a/b", "/a/b/", "/zz", "/a/b\uffff"])
def test_prefix_rows_are_the_paths_that_start_with_it(prefix):
    t = PathTree(["/a/b/c", "/a/b-x", "/a/b.y/z", "/q", "/a/bc"])
    lo, hi = t.prefix_rows(prefix)
    assert t.paths[lo:hi] == [p for p in t.paths if p.startswith(prefix)]
    assert after_prefix("ab") == "ac" and after_prefix("") == ""


@pytest.mark.parametrize("seed", range(30))
def test_final_table_agrees_with_the_records(tmp_path, seed):
    a = random_analysis(tmp_path, seed)
    records = list(a.files())
    counted = counted_by_hand(records)
    t = a.final_table
    # (not always final_bytes: a hardlink whose target path now shows another body
    # counts nothing, and two hardlinks to one deleted body count it twice)
    assert sum(counted.values()) == int(t.sums[-1])
    by_path = {r.path: r for r in records}
    for g, p in enumerate(t.paths):
        rec = by_path.get(p)
        assert t.listed(g) == (rec is not None)
        if rec is not None:
            assert (t.kind_name(g), int(t.counted[g]), t.layer_of(g), t.digest(g)) == \
                (rec.type, counted[p], rec.layer, rec.digest), p
        assert t.bytes_under(g) == sum(n for q, n in counted.items() if under(q, p)), p
        assert t.entries_under(g) == sum(1 for q in by_path if under(q, p)), p
    for depth in (1, 2, 3):
        sums: dict = {}
        for p, n in counted.items():
            parts = p.strip("/").split("/")[:-1]
            for d in range(1, min(depth, len(parts)) + 1):
                key = "/" + "/".join(parts[:d])
                sums[key] = sums.get(key, 0) + n
        assert t.dir_totals(depth) == {k: v for k, v in sums.items() if v}


@pytest.mark.parametrize("seed", range(10))
def test_final_table_of_a_saved_report_is_the_same_table(tmp_path, seed):
    a = random_analysis(tmp_path, seed)
    mine = a.final_table
    saved = FinalTable.of_records(to_json(a, include_files=True)["files"], "report.json")
    assert saved.paths == mine.paths
    assert saved.kind.tolist() == mine.kind.tolist()
    assert saved.counted.tolist() == mine.counted.tolist()
    assert saved.layer.tolist() == mine.layer.tolist()
    assert [saved.digest(g) for g in range(len(saved))] == \
        [mine.digest(g) for g in range(len(mine))]


@pytest.mark.parametrize("seed", range(20))
def test_layer_bytes_under_a_prefix(tmp_path, seed):
    a = random_analysis(tmp_path, seed)
    t = HistoryTable(a.composed)
    rng = random.Random(seed)
    for li, idx in enumerate(a.composed.layers):
        for _ in range(5):
            prefixes = [rng.choice(["", "/", "/a", "/b", "/b/", "/b-c/", "/a/b"])
                        for _ in range(rng.randint(1, 3))]
            expected = sum(idx.sizes[i] for i in range(len(idx))
                           if idx.kinds[i] == FILE and idx.paths[i].startswith(tuple(prefixes)))
            assert t.layer_bytes_under(li, prefixes) == expected, (li, prefixes)
