"""The explorer's file model: per-layer views agree with the byte ledger."""

from __future__ import annotations

import pytest

from slimscope.analysis import analyze
from slimscope.compose import compose, unpack
from slimscope.layerindex import FILE
from slimscope.tui.model import CHANGES, DELETED, IMAGE, ImageModel, path_matcher
from tests.tui_images import demo_image


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = demo_image(tmp_path_factory.mktemp("tui-model") / "demo")
    return ImageModel(analyze(str(path), use_cache=False))


def visible_bytes(composed) -> int:
    units = {composed.unit_of(r) for r in composed.final.values()} - {None}
    return sum(composed.unit_size(u) for u in units)


def test_every_view_adds_up(model):
    a = model.analysis
    for n, layer in enumerate(a.layers):
        changes = model.shown(n, CHANGES)
        hides = sum(e.hides for e in changes.view.rows.values())
        assert changes.total == layer.bytes + hides
        assert hides == layer.hides_bytes - sum(
            w.bytes for w in a.waste if w.hidden_by == n and w.reason not in ("deleted", "opaque"))
        image = model.shown(n, IMAGE)
        assert image.total == visible_bytes(compose(model.indexes[:n + 1]))
        # a directory's total is the sum of its children's
        for d, kids in image.children.items():
            own = image.view.rows[d].size if image.view.rows[d].counted else 0
            assert image.totals[d] == own + sum(image.totals[k] for k in kids)
    assert model.shown(len(a.layers) - 1, IMAGE).total == a.final_bytes


def test_whiteouts_cost_what_they_hide(model):
    rows = model.view(2, CHANGES).rows
    assert rows["/tmp/build.tar"].status == DELETED
    assert rows["/tmp/build.tar"].hides == 300_000
    assert model.view(3, CHANGES).rows["/usr/share/doc"].hides == 29_000


def test_history_and_added_in(model):
    h = model.history("/usr/share/doc/pkg/README")
    assert [(t.layer, t.what) for t in h] == [(0, "added"), (3, "hidden: /usr/share/doc was emptied")]
    assert model.added_in("/app/data.bin") == 1
    rec = model.record(model.view(3, IMAGE), "/app/data.bin")
    li, i = unpack(model.view(3, IMAGE).rows["/app/data.bin"].ref)
    assert (rec["mode"], rec["layer"], rec["size"]) == (0o600, 3, 120_000)
    assert model.indexes[li].kinds[i] == FILE


@pytest.mark.parametrize("text,path,hit", [
    ("DOC", "/usr/share/doc/x", True),       # fragment, any case
    ("*.so", "/usr/lib/libbig.so", True),    # glob without a slash: the name
    ("*.so", "/usr/lib/libbig.so.1", False),
    ("share/*/pkg", "/usr/share/doc/pkg", True),
    ("/usr/*", "/app/usr/x", False),
])
def test_path_matcher(text, path, hit):
    assert path_matcher(text)(path) is hit
