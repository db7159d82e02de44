"""The gate's path rules read the core's path table; no rule changes the analysis."""

from __future__ import annotations

import copy

import pytest

from slimscope.core.analysis import analyze, measure_compressed
from slimscope.gate.config import GateConfig
from slimscope.gate.rules import Context, Forbid, MaxCompressedSize, PathBudgets, glob_match
from tests.support.random_images import counted_by_hand, random_analysis
from tests.support.synth import docker_archive

GLOBS = ["/a/**", "b", "*.d", "/b-c", "/b/**/f*", "**/g2", "/"]


def forbid_by_hand(a, globs) -> list:
    """(path, bytes, text start) of each hit, walking the sorted records one by one."""
    records = list(a.files())
    counted = counted_by_hand(records)
    kinds = {r.path: r.type for r in records}
    paths = sorted(kinds)
    hits, covered = [], []
    for i, p in enumerate(paths):
        if p == "/" or any(p.startswith(c + "/") for c in covered):
            continue
        glob = next((g for g in globs if glob_match(g, p)), None)
        if glob is None:
            continue
        if kinds[p] == "dir":
            sub = [q for q in paths[i + 1:] if q.startswith(p + "/")]
            if sub:
                hits.append((p, sum(counted[q] for q in sub), f"{p}/ ({len(sub)} entries"))
                covered.append(p)
        else:
            hits.append((p, counted[p], f"{p} ("))
    return sorted(hits)


def budgets_by_hand(a, glob) -> list:
    """(path, bytes) of the counted files the glob or a directory above them matches."""
    out = []
    for p, n in sorted(counted_by_hand(list(a.files())).items()):
        q = p
        while n and q and q != "/":
            if glob_match(glob, q):
                out.append((p, n))
                break
            q = q.rsplit("/", 1)[0] or "/"
    return out


@pytest.mark.parametrize("seed", range(25))
def test_forbid_and_path_budgets_agree_with_a_walk_over_the_records(tmp_path, seed):
    a = random_analysis(tmp_path, seed)
    ctx = Context(GateConfig())
    r = Forbid(GLOBS).evaluate(a, ctx)
    expected = forbid_by_hand(a, GLOBS)
    assert sorted((c.path, c.bytes) for c in r.culprits) == [(p, n) for p, n, _ in expected]
    texts = {c.path: c.text for c in r.culprits}
    assert all(texts[p].startswith(t) for p, _, t in expected)
    assert r.measured == len(expected)
    for c in r.culprits:
        assert c.layer == a.entry(c.path).layer
    budgets = PathBudgets({g: 10 for g in GLOBS})
    measured = budgets.measure(a, ctx)
    for g in GLOBS:
        assert measured[g] == budgets_by_hand(a, g), g


def test_max_compressed_size_does_not_change_the_analysis(tmp_path):
    path = tmp_path / "plain.tar"
    docker_archive(str(path), [[("etc/a", "file", b"a" * 5000)], [("etc/b", "file", b"b" * 9)]])
    a = analyze(str(path), use_cache=False)
    assert a.compressed_bytes is None           # a docker archive stores layers uncompressed
    before = copy.deepcopy(a.layers)
    rule = MaxCompressedSize(1)
    r = rule.evaluate(a, Context(GateConfig()))
    assert a.layers == before
    assert not r.passed and r.measured > 0 and "gzip-compressed to measure" in r.note
    measure_compressed(a)                        # what `slimscope ci` does before the rules
    assert a.compressed_bytes == r.measured and all(l.compressed_measured for l in a.layers)
    again = rule.evaluate(a, Context(GateConfig()))
    assert (again.measured, again.note, [c.bytes for c in again.culprits]) == \
        (r.measured, r.note, [c.bytes for c in r.culprits])
