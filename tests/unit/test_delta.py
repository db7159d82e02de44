"""The diff model: typed views of an analysis and of its saved report, and what changed."""

from __future__ import annotations

import pytest

from slimscope.core.delta import LayerView, Totals, compare, view_from_json, view_of
from slimscope.core.report import to_json
from slimscope.errors import BadInput
from tests.support.random_images import counted_by_hand, random_analysis


@pytest.mark.parametrize("seed", range(8))
def test_a_saved_report_gives_the_same_view(tmp_path, seed):
    a = random_analysis(tmp_path, seed)
    live = view_of(a)
    saved = view_from_json(to_json(a, include_files=True), "saved.json")
    assert live.totals == saved.totals
    assert live.totals == Totals(a.final_bytes, a.total_bytes, a.wasted_bytes, None,
                                 len(a.layers), a.file_count)
    assert live.layers == saved.layers
    assert all(isinstance(l, LayerView) for l in saved.layers)
    d = compare(live, saved)
    assert d.files == [] and d.dirs == [] and d.growth == 0
    assert len(d.shared_layers) == len(a.layers)


def changes_by_hand(old, new) -> list:
    """(path, change, old bytes, new bytes), worked out from the two file lists."""
    o = {r.path: r for r in old.files()}
    n = {r.path: r for r in new.files()}
    oc, nc = counted_by_hand(list(o.values())), counted_by_hand(list(n.values()))
    out = []
    for p in o.keys() | n.keys():
        if p not in o:
            if n[p].type != "dir":
                out.append((p, "added", 0, nc[p]))
        elif p not in n:
            if o[p].type != "dir":
                out.append((p, "removed", oc[p], 0))
        elif shown(o[p]) != shown(n[p]):
            out.append((p, "grew" if shown(n[p]) > shown(o[p]) else "shrank", shown(o[p]),
                        shown(n[p])))
        elif shown(n[p]) and o[p].digest and n[p].digest and o[p].digest != n[p].digest:
            out.append((p, "changed", shown(o[p]), shown(n[p])))
    return sorted(out)


def shown(rec) -> int:
    """The bytes of the body a path shows, whichever name of its hardlink group holds it."""
    return rec.size if rec.type in ("file", "hardlink") else 0


def test_a_hardlink_group_that_swapped_its_body_name_is_no_change(tmp_path):
    from slimscope.core.analysis import analyze
    from tests.support.synth import docker_archive

    body = b"gzip wrapper " * 180
    old = [("usr", "dir"), ("usr/bin", "dir"), ("usr/bin/gunzip", "file", body, 0o755),
           ("usr/bin/uncompress", "hardlink", "usr/bin/gunzip")]
    new = [("usr", "dir"), ("usr/bin", "dir"), ("usr/bin/uncompress", "file", body, 0o755),
           ("usr/bin/gunzip", "hardlink", "usr/bin/uncompress"), ("usr/bin/new", "file", b"n")]
    docker_archive(str(tmp_path / "old.tar"), [old])
    docker_archive(str(tmp_path / "new.tar"), [new])
    d = compare(view_of(analyze(str(tmp_path / "old.tar"), use_cache=False)),
                view_of(analyze(str(tmp_path / "new.tar"), use_cache=False)))
    assert [(c.path, c.change) for c in d.files] == [("/usr/bin/new", "added")]
    assert d.growth == 1


@pytest.mark.parametrize("seed", range(12))
def test_changes_between_two_random_images(tmp_path, seed):
    old = random_analysis(tmp_path, seed)
    new = random_analysis(tmp_path, seed + 1000)
    d = compare(view_of(old), view_of(new), depth=2)
    got = sorted((c.path, c.change, c.old_bytes, c.new_bytes) for c in d.files)
    assert got == changes_by_hand(old, new)
    so, sn = old.final_table.dir_totals(2), new.final_table.dir_totals(2)
    assert sorted(d.dirs) == sorted((k, so.get(k, 0), sn.get(k, 0))
                                    for k in so.keys() | sn.keys()
                                    if so.get(k, 0) != sn.get(k, 0))
    assert d.growth == new.final_bytes - old.final_bytes


def test_a_layer_without_diff_id_is_a_malformed_report(tmp_path):
    a = random_analysis(tmp_path, 1)
    doc = to_json(a)
    del doc["layers"][0]["diff_id"]
    with pytest.raises(BadInput, match="malformed"):
        view_from_json(doc, "r.json")
    doc = to_json(a, include_files=True)
    doc["files"][0]["type"] = "socket"
    with pytest.raises(BadInput, match="unknown file type"):
        view_from_json(doc, "r.json")
    doc = to_json(a, include_files=True)
    first_file = next(f for f in doc["files"] if f["type"] == "file")
    first_file["size"] = "large"
    with pytest.raises(BadInput, match="malformed"):
        view_from_json(doc, "r.json")


def test_growth_needs_both_final_sizes(tmp_path):
    a = random_analysis(tmp_path, 2)
    doc = to_json(a)
    del doc["totals"]["final_bytes"]
    d = compare(view_from_json(doc, "old.json"), view_of(a))
    assert d.totals["final_bytes"] == (None, a.final_bytes)
    with pytest.raises(BadInput, match="final_bytes"):
        _ = d.growth


def test_same_size_bodies_are_read_in_one_go_per_image(tmp_path, monkeypatch):
    """A lazily read layer's big bodies that decide "changed" are read together, one
    fill per image, not one per path; and the one that changed is found."""
    import os

    from slimscope.core.analysis import analyze
    from slimscope.image.model import Image
    from tests.support.synth import docker_archive

    bodies = [os.urandom(40_000 + k) for k in range(6)]   # no size twice in an image
    changed = bytearray(bodies[3])
    changed[100] ^= 1
    old = docker_archive(str(tmp_path / "old.tar"),
                         [[(f"data/b{k}", "file", b) for k, b in enumerate(bodies)]])
    new = docker_archive(str(tmp_path / "new.tar"),
                         [[(f"data/b{k}", "file", bytes(changed) if k == 3 else b)
                           for k, b in enumerate(bodies)]])
    a, b = analyze(old, use_cache=False), analyze(new, use_cache=False)
    fills = []
    real = Image.fill_digests
    monkeypatch.setattr(Image, "fill_digests",
                        lambda self, wants: fills.append(sum(map(len, wants.values())))
                        or real(self, wants))
    d = compare(view_of(a), view_of(b))
    assert [(c.path, c.change) for c in d.files] == [("/data/b3", "changed")]
    assert fills == [6, 6]
