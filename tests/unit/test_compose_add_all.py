"""compose's set-based path for layers that only add (_Composer._add_all) gives
exactly what the entry-by-entry walk gives: the same tree, statuses, ledger and
errors, on random layers full of the cases that must send it back to the walk; and
the visible units read from `ends` are those the final tree's paths name."""

from __future__ import annotations

import random

import pytest

from slimscope.core import compose as compose_mod
from slimscope.errors import BadInput
from slimscope.index.records import DIR, FILE, HARDLINK, OPAQUE, SYMLINK, WHITEOUT, LayerIndex

NAMES = ["a", "b", "c"]


def _path(rng: random.Random) -> str:
    return "/" + "/".join(rng.choice(NAMES) for _ in range(rng.randint(1, 3)))


def _layer(rng: random.Random, adds_only: bool) -> LayerIndex:
    idx = LayerIndex(hashed=True)
    kinds = [DIR, DIR, FILE, FILE, SYMLINK] + ([] if adds_only else [WHITEOUT, OPAQUE, HARDLINK])
    for _ in range(rng.randint(1, 8)):
        path, kind = _path(rng), rng.choice(kinds)
        link = None
        if kind == SYMLINK:
            link = "/etc"
        elif kind == HARDLINK:
            link = _path(rng)
        body = bytes([rng.randint(0, 2)]) * 32 if kind == FILE else bytes(32)
        idx.add(path, kind, 3 if kind == FILE else 0, 0o644, 0, 0, 0, body, link)
    return idx


def _outcome(layers: list[LayerIndex]):
    try:
        c = compose_mod.compose(layers)
    except BadInput as e:
        return ("error", str(e))
    return (list(c.final.items()), [bytes(s) for s in c.status], dict(c.hidden),
            sorted(c.visible), dict(c.hardlink_unit), [list(e) for e in c.ends], c.undecided)


@pytest.mark.parametrize("adds_only", [True, False])
def test_the_set_path_agrees_with_the_walk(monkeypatch, adds_only):
    rng = random.Random(19)
    took = 0
    for _ in range(3000):
        layers = [_layer(rng, adds_only and li > 0) for li in range(rng.randint(1, 4))]
        fast = _outcome(layers)
        with monkeypatch.context() as m:
            m.setattr(compose_mod._Composer, "_add_all", lambda self, li, idx: None)
            slow = _outcome(layers)
        with monkeypatch.context() as m:
            m.setattr(compose_mod, "_in_final", lambda c: [])
            by_paths = _outcome(layers)
        assert fast == slow == by_paths, [list(zip(l.paths, l.kinds)) for l in layers]
        took += fast[0] != "error"
    assert took > 300   # enough of them compose at all, so the set path was tried


def test_a_plain_added_layer_takes_the_set_path(monkeypatch):
    base, top = LayerIndex(hashed=True), LayerIndex(hashed=True)
    base.add("/usr", DIR, 0, 0o755, 0, 0, 0)
    top.add("/usr/lib", DIR, 0, 0o755, 0, 0, 0)
    top.add("/usr/lib/x.so", FILE, 3, 0o644, 0, 0, 0, b"\1" * 32)
    calls = []
    real = compose_mod._Composer._add_all

    def spy(self, li, idx):
        got = real(self, li, idx)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(compose_mod._Composer, "_add_all", spy)
    c = compose_mod.compose([base, top])
    assert calls == [True, True] and list(c.final) == ["/usr", "/usr/lib", "/usr/lib/x.so"]


def test_the_top_files_from_the_marks_are_those_of_a_walk_over_the_tree(monkeypatch):
    from slimscope.core import analysis as analysis_mod
    rng = random.Random(7)
    tried = 0
    for _ in range(2000):
        layers = [_layer(rng, False) for _ in range(rng.randint(1, 4))]
        for idx in layers:   # sizes that tie and that differ
            for i in range(len(idx)):
                if idx.kinds[i] == FILE:
                    idx.sizes[i] = rng.choice([1, 2, 2, 3, 50])
        try:
            c = compose_mod.compose(layers)
        except BadInput:
            continue
        a = analysis_mod.Analysis.__new__(analysis_mod.Analysis)
        a.composed = c
        for top in (1, 2, 3, 10):
            marks = [(r.path, r.size) for r in a.largest_files(top, digests=False)]
            with monkeypatch.context() as m:
                m.setattr(analysis_mod, "_top_by_marks", lambda c, top: None)
                walk = [(r.path, r.size) for r in a.largest_files(top, digests=False)]
            assert marks == walk
        tried += bool(c.in_final)
    assert tried > 300
