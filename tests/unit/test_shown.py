"""What the file pane shows of a view: kept rows, their parents, and totals by prefix sums."""

from __future__ import annotations

import numpy as np
import pytest

from slimscope.core.analysis import analyze
from slimscope.tui.entry import CHANGES, IMAGE
from slimscope.tui.model import ImageModel
from slimscope.tui.shown import Shown, under_kept_dirs
from tests.support.synth import docker_archive

LAYERS = [
    [("usr/lib/big.so", "file", b"b" * 500), ("usr/lib/small.so", "file", b"s" * 5),
     ("usr/share/doc/a", "file", b"d" * 50), ("usr/share/doc/b", "file", b"d" * 50),
     ("etc/conf", "file", b"c" * 70), ("etc/z", "file", b"z" * 70)],
    [("usr/share/.wh.doc", "whiteout"), ("etc/conf", "file", b"C" * 90)],
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("tui-shown") / "img.tar"
    docker_archive(str(path), LAYERS)
    return ImageModel(analyze(str(path), use_cache=False))


def _under(path, p):
    return p == path or p.startswith(path.rstrip("/") + "/")


def keep_of(view, paths):
    keep = np.zeros(len(view.table.paths), bool)
    keep[[view.table.group[p] for p in paths]] = True
    return keep


@pytest.mark.parametrize("layer,mode", [(0, IMAGE), (1, IMAGE), (1, CHANGES)])
def test_totals_are_the_sums_of_what_each_directory_holds(model, layer, mode):
    v = model.view(layer, mode)
    shown = Shown(v, v.exists, count_hidden=False)
    w = v.weights(mode == CHANGES)
    for path in v.rows:
        expect = sum(int(w[v.table.group[p]]) for p in v.rows if _under(path, p))
        assert shown.totals[path] == expect, path
    assert shown.total == shown.totals["/"]


def test_a_kept_row_brings_its_parents_and_only_its_bytes(model):
    v = model.view(0, IMAGE)
    shown = Shown(v, keep_of(v, ["/usr/lib/small.so", "/etc/z"]), count_hidden=False)
    assert set(shown.totals) == {"/", "/usr", "/usr/lib", "/usr/lib/small.so", "/etc", "/etc/z"}
    assert "/usr/lib/big.so" not in shown and "/usr/lib" in shown
    assert (shown.total, shown.totals["/usr"]) == (75, 5)
    assert (shown.matched, shown.entries, shown.whiteouts) == (2, 2, 0)


def test_children_sort_by_total_then_path(model):
    v = model.view(0, IMAGE)
    shown = Shown(v, v.exists, count_hidden=False)
    assert shown.sorted_children("/") == ["/usr", "/etc"]                 # 605 > 140
    assert shown.sorted_children("/etc") == ["/etc/conf", "/etc/z"]       # a tie: by path
    assert shown.sorted_children("/", by_size=False) == ["/etc", "/usr"]
    assert shown.sorted_children("/etc/z") == [] and shown.sorted_children("/nope") == []


def test_children_maps_the_directories_with_shown_rows(model):
    v = model.view(0, IMAGE)
    shown = Shown(v, keep_of(v, ["/usr/share/doc/a"]), count_hidden=False)
    kids = shown.children
    assert dict(kids) == {"/": ["/usr"], "/usr": ["/usr/share"], "/usr/share": ["/usr/share/doc"],
                          "/usr/share/doc": ["/usr/share/doc/a"]}
    assert len(kids) == 4
    assert "/usr/share/doc/a" not in kids and "/usr/lib" not in kids and None not in kids
    with pytest.raises(KeyError):
        kids["/usr/lib"]


def test_hidden_bytes_count_where_asked(model):
    v = model.view(1, IMAGE)
    whiteout = keep_of(v, ["/usr/share/doc"])
    assert Shown(v, whiteout, count_hidden=False).total == 0
    counted = Shown(v, whiteout, count_hidden=True)
    assert counted.total == counted.totals["/usr/share"] == 100
    assert counted.whiteouts == 1 and counted.entries == 0


def test_a_kept_directory_keeps_what_is_under_it(model):
    v = model.view(0, IMAGE)
    t = v.table
    under = under_kept_dirs(t, keep_of(v, ["/usr/share"]), v.dirlike())
    assert {t.paths[g] for g in np.nonzero(under)[0]} == {
        "/usr/share/doc", "/usr/share/doc/a", "/usr/share/doc/b"}
    # a kept file keeps nothing but itself
    assert not under_kept_dirs(t, keep_of(v, ["/etc/z"]), v.dirlike()).any()
