"""One view of the explorer: which entry each path shows in a layer, seen in either mode."""

from __future__ import annotations

import numpy as np
import pytest

from slimscope.core.analysis import analyze
from slimscope.tui.entry import ADDED, CHANGES, DELETED, IMAGE, IMPLIED, INHERITED, OPAQUED
from slimscope.tui.model import ImageModel
from slimscope.tui.view import View
from tests.support.synth import docker_archive

# Layer 1 deletes /a/f, empties /b, adds /c/n, and deletes /k/x, whose body its hardlink
# /k/y keeps visible.
LAYERS = [
    [("a", "dir"), ("a/f", "file", b"x" * 10), ("a/g", "file", b"y" * 20), ("b", "dir"),
     ("b/h", "file", b"z" * 30), ("k", "dir"), ("k/x", "file", b"w" * 7),
     ("k/y", "hardlink", "k/x")],
    [("a/.wh.f", "whiteout"), ("b/.wh..wh..opq", "opaque"), ("c/n", "file", b"n" * 40),
     ("k/.wh.x", "whiteout")],
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("tui-view") / "img.tar"
    docker_archive(str(path), LAYERS)
    return ImageModel(analyze(str(path), use_cache=False))


def view(model, layer, mode):
    """A View made directly, as the model makes it, not the model's kept one."""
    return View(model.table, layer, mode, model.whiteout_costs[layer],
                model.composed.hardlink_unit)


def test_the_image_view_composes_through_its_layer(model):
    rows = view(model, 1, IMAGE).rows
    assert set(rows) == {"/", "/a", "/a/f", "/a/g", "/b", "/c", "/c/n", "/k", "/k/x", "/k/y"}
    assert rows["/a/g"].status == INHERITED and rows["/a/g"].size == 20
    assert rows["/c/n"].status == ADDED
    # a whiteout shows as a ghost row: what it hides, not counted in the image's totals
    gone = rows["/a/f"]
    assert (gone.kind_name, gone.status, gone.size, gone.hides, gone.counted) == \
        ("whiteout", DELETED, 0, 10, False)
    # an emptied directory keeps its row and says what it hides
    assert (rows["/b"].kind_name, rows["/b"].status, rows["/b"].hides) == ("dir", OPAQUED, 30)
    # /c is only implied by the tar
    assert rows["/c"].kind == IMPLIED and rows["/c"].ref == -1 and rows["/c"].is_dir


def test_a_hardlink_carries_the_body_its_deleted_name_left(model):
    assert view(model, 0, IMAGE).rows["/k/y"].size == 0        # /k/x counts it
    after = view(model, 1, IMAGE).rows
    assert after["/k/y"].size == 7
    assert after["/k/x"].hides == 0      # the body is still visible: the whiteout frees nothing


def test_the_changes_view_lists_the_layer_entries(model):
    rows = view(model, 1, CHANGES).rows
    assert set(rows) == {"/", "/a", "/a/f", "/b", "/c", "/c/n", "/k", "/k/x"}
    assert rows["/a/f"].counted and rows["/a/f"].hides == 10
    assert (rows["/b"].kind_name, rows["/b"].hides) == ("opaque", 30)
    assert rows["/a"].kind == IMPLIED


@pytest.mark.parametrize("layer,mode", [(0, IMAGE), (1, IMAGE), (0, CHANGES), (1, CHANGES)])
def test_the_arrays_agree_with_the_rows(model, layer, mode):
    v = view(model, layer, mode)
    t = v.table
    statuses, dirlike = v.statuses(), v.dirlike()
    with_hides, without = v.weights(True), v.weights(False)
    for path, e in v.rows.items():
        g = t.group[path]
        assert statuses[g] == e.status, path
        assert dirlike[g] == e.is_dir, path
        assert without[g] == e.size and with_hides[g] == e.size + e.hides, path
    assert np.array_equal(v.exists, np.isin(np.arange(len(t.paths)),
                                            [t.group[p] for p in v.rows]))


def test_rows_is_a_mapping_of_the_rows_only(model):
    rows = view(model, 1, CHANGES).rows
    assert len(rows) == len(list(rows)) == 8
    assert "/a/g" in model.table.group and "/a/g" not in rows   # a path of another layer
    assert "/nowhere" not in rows and 3 not in rows
    with pytest.raises(KeyError):
        rows["/a/g"]
    assert rows.get("/nowhere") is None
