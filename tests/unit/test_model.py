"""The explorer's file model: per-layer views agree with the byte ledger."""

from __future__ import annotations

import random

import pytest

from slimscope.core.analysis import analyze
from slimscope.core.compose import compose, unpack
from slimscope.index.records import FILE, OPAQUE, WHITEOUT
from slimscope.tui.filters import path_matcher
from slimscope.tui.model import CHANGES, DELETED, IMAGE, ImageModel
from tests.support.random_images import random_layers
from tests.support.synth import docker_archive
from tests.support.tui_images import demo_image


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


# -- the columnar views against the composer, on random layered images ----------

def _parents(paths):
    out = set()
    for p in paths:
        while p != "/":
            p = p.rsplit("/", 1)[0] or "/"
            out.add(p)
    return out | {"/"}


@pytest.mark.parametrize("seed", range(40))
def test_views_agree_with_composition(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "img.tar"
    docker_archive(str(path), random_layers(rng, rng.randint(1, 5)))
    a = analyze(str(path), use_cache=False)
    model = ImageModel(a)
    for n in range(len(a.layers)):
        prefix = compose(model.indexes[:n + 1])
        image = model.shown(n, IMAGE)
        rows = image.view.rows
        real = {p: e.ref for p, e in rows.items() if e.ref >= 0 and e.counted}
        assert real == prefix.final
        ghosts = {p for p, e in rows.items() if not e.counted}
        assert ghosts == {p for p, k in zip(model.indexes[n].paths, model.indexes[n].kinds)
                          if k in (WHITEOUT, OPAQUE)} - set(real)
        assert set(rows) == set(real) | ghosts | _parents(set(real) | ghosts)
        emptied = {p for p, k in zip(model.indexes[n].paths, model.indexes[n].kinds)
                   if k == OPAQUE}
        for p, ref in real.items():
            assert rows[p].status == (5 if p in emptied else prefix.status[n][ref & 0xFFFFFFFF]
                                      if ref >> 32 == n else 6)
        assert image.total == visible_bytes(prefix)
        for d, kids in image.children.items():
            own = rows[d].size if rows[d].counted else 0
            assert image.totals[d] == own + sum(image.totals[k] for k in kids)
        # the changes view lists this layer's entries (the last word per path)
        idx = model.indexes[n]
        changes = model.shown(n, CHANGES).view.rows
        assert {p for p in changes if changes[p].ref >= 0} == set(idx.paths)
        # a filter keeps the matching rows, what is under a matching directory, and parents
        text = rng.choice(["a", "f", "*g*", "/b/*"])
        match = path_matcher(text)
        kept = model.shown(n, IMAGE, text)
        leaves = {p for p in rows if p in kept and not (kept.children.get(p))}
        for p in leaves - {"/"}:
            chain = [p] + sorted(_parents([p]) - {"/"}, key=len, reverse=True)
            assert any(match(q) for q in chain), (text, p)
        expect = sum(rows[p].size for p in rows if rows[p].counted and p != "/" and any(
            match(q) for q in [p] + list(_parents([p]) - {"/"})))
        assert kept.total == expect


def test_the_unfiltered_view_is_kept_beside_its_view(model):
    full = model.full(3, IMAGE)
    assert model.shown(3, IMAGE) is full and model.shown(3, IMAGE, "  ") is full
    assert full.view is model.view(3, IMAGE) and full.matched == len(full.view.rows)
    assert model.shown(3, IMAGE, "doc") is not full
