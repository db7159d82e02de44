"""An archive file's uncompressed layers are read lazily: big bodies are hashed only
when a digest of theirs is asked for. Every output must be what reading every byte
(--verify) gives, and the bodies left unread must be the ones nobody asked about."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys

import pytest

from slimscope.core.analysis import analyze
from slimscope.core.report import to_json
from slimscope.errors import BadInput
from slimscope.index.bodies import fill_digests
from slimscope.index.records import FILE, LAZY_HASH_MAX, LayerIndex
from slimscope.index.tarwalk import index_tar
from tests.support.synth import docker_archive, layer_tar


def body(seed: int, size: int) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]


BIG = LAZY_HASH_MAX + 1000
LAYERS = [
    [("opt", "dir"),
     ("opt/alone.bin", "file", body(1, BIG + 1)),          # no other file is this big
     ("opt/twin-a.bin", "file", body(2, BIG + 2)),         # a duplicate of twin-b
     ("opt/twin-b.bin", "file", body(2, BIG + 2)),
     ("opt/same-size.bin", "file", body(3, BIG + 3)),      # as big as other, not the same
     ("opt/other.bin", "file", body(4, BIG + 3)),
     ("opt/chmod.bin", "file", body(5, BIG + 5)),          # stored again, only its mode new
     ("opt/rewritten.bin", "file", body(6, BIG + 6)),      # stored again, new content
     ("opt/deleted.bin", "file", body(7, BIG + 7)),        # deleted later: wasted
     ("opt/small.txt", "file", b"small" * 10),
     ("opt/link.bin", "hardlink", "opt/alone.bin")],
    [("opt", "dir"),
     ("opt/chmod.bin", "file", body(5, BIG + 5), 0o755),
     ("opt/rewritten.bin", "file", body(60, BIG + 6)),
     ("opt/.wh.deleted.bin", "whiteout"),
     ("opt/copy.bin", "file", body(1, BIG + 1))],           # now alone.bin has a twin
]


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    return docker_archive(str(tmp_path / "img.tar"), LAYERS)


def report(a, files=False) -> str:
    return json.dumps(to_json(a, files), sort_keys=True)


def unread(a) -> set[str]:
    return {idx.paths[i] for idx in a.composed.layers for i in range(len(idx))
            if idx.wants_digest(i)}


@pytest.mark.parametrize("use_cache", [False, True])
def test_lazy_reports_equal_verified_ones(archive, use_cache):
    whole = analyze(archive, use_cache=use_cache, verify=True)
    assert not unread(whole)
    for files in (False, True, False):   # the second lazy run reads from the cache
        lazy = analyze(archive, use_cache=use_cache)
        assert report(lazy, files) == report(whole, files)
    reasons = {w.path: w.reason for w in whole.waste}
    assert reasons == {"/opt/chmod.bin": "metadata-only", "/opt/rewritten.bin": "overwritten",
                       "/opt/deleted.bin": "deleted"}
    assert sorted(d.paths for d in whole.duplicates) == [
        ["/opt/alone.bin", "/opt/copy.bin", "/opt/link.bin"], ["/opt/twin-a.bin", "/opt/twin-b.bin"]]


def test_only_the_bodies_a_report_needs_are_read(archive):
    # Here each big body is a duplicate, shares its size with another, was stored
    # again at its size, or is wasted. All but the wasted one are read at once; the
    # wasted body waits until its digest is asked for (the text report never asks).
    a = analyze(archive, use_cache=False)
    assert unread(a) == {"/opt/deleted.bin"}
    [gone] = [w for w in a.waste if w.path == "/opt/deleted.bin"]
    assert gone.digest == "sha256:" + hashlib.sha256(body(7, BIG + 7)).hexdigest()
    assert unread(a) == set()
    single = docker_archive(os.path.join(os.path.dirname(archive), "one.tar"),
                            [[("a.bin", "file", body(9, BIG)), ("b.bin", "file", body(8, BIG + 9))]])
    one = analyze(single, use_cache=False)
    assert unread(one) == {"/a.bin", "/b.bin"}
    # a record asks for its digest: read then, and the same as reading everything
    rec = one.entry("/a.bin")
    assert rec is not None and rec.digest == "sha256:" + hashlib.sha256(body(9, BIG)).hexdigest()
    assert unread(one) == {"/b.bin"}


def test_a_warm_run_keeps_the_digests_read(archive):
    first = analyze(archive)
    list(first.files())             # every shown digest read, and written to the cache
    assert all(w.digest for w in first.waste)   # and the wasted ones
    warm = analyze(archive)
    assert not unread(warm) and warm.composed.layers[0].hashed


def test_walk_and_fill_give_the_digests_of_a_full_walk():
    tar = layer_tar(LAYERS[0])
    whole = index_tar(io.BytesIO(tar), True)
    lazy = index_tar(io.BufferedReader(io.BytesIO(tar)), True, seek=True, lazy=True)
    assert lazy.lazy and not lazy.hashed
    kept = [i for i in range(len(lazy)) if lazy.kinds[i] == FILE and lazy.sizes[i] <= LAZY_HASH_MAX]
    assert kept and all(lazy.digest(i) == whole.digest(i) for i in kept)
    assert LayerIndex.loads(lazy.dumps()).offsets == lazy.offsets
    assert fill_digests(io.BytesIO(tar), lazy, range(len(lazy))) > 0
    assert lazy.hashed and not lazy.lazy and lazy.digests == whole.digests


def test_a_truncated_lazy_layer_is_refused():
    tar = layer_tar([("big.bin", "file", body(1, BIG * 3))])
    with pytest.raises(BadInput, match="truncated"):
        index_tar(io.BufferedReader(io.BytesIO(tar[:BIG])), True, seek=True, lazy=True)


def test_an_archive_changed_before_its_digests_are_read(archive):
    a = analyze(archive, use_cache=False)
    single = docker_archive(os.path.join(os.path.dirname(archive), "one.tar"),
                            [[("a.bin", "file", body(9, BIG))]])
    one = analyze(single, use_cache=False)
    os.utime(single, ns=(1, 1))
    with pytest.raises(BadInput, match="changed while it was read"):
        one.entry("/a.bin")
    assert a.entry("/opt/alone.bin") is not None


def test_cli_verify_and_default_print_the_same(archive):
    def run(*args):
        p = subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                           text=True, env={**os.environ, "SLIMSCOPE_NO_CACHE": "1"})
        assert p.returncode == 0, p.stderr
        return p.stdout
    assert run("analyze", archive) == run("analyze", "--verify", archive)
    assert run("analyze", "--format", "json", "--files", archive) == \
        run("analyze", "--verify", "--format", "json", "--files", archive)


@pytest.mark.parametrize("args", [[], ["--no-hash"]])
def test_a_layer_cut_inside_a_body_it_seeks_past_is_refused(tmp_path, args):
    """Seeking past a body proves nothing by itself (a file seeks past its end): the
    walk checks that the layer holds every body it passed."""
    tar = layer_tar([("big.bin", "file", body(1, BIG * 3)), ("after", "file", b"x")])
    p = docker_archive(str(tmp_path / "cut.tar"), [tar[:BIG]])
    r = subprocess.run([sys.executable, "-m", "slimscope", "analyze", *args, p],
                       capture_output=True, text=True,
                       env={**os.environ, "SLIMSCOPE_NO_CACHE": "1"})
    assert r.returncode == 2 and "truncated" in r.stderr, (r.stdout, r.stderr)
