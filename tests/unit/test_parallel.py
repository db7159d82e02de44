"""Layers indexed in worker processes give exactly what the one-process path gives."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import subprocess
import sys

import pytest

from slimscope.errors import BadInput
from slimscope.image.model import Options
from slimscope.image.reference import load_image
from slimscope.index import parallel
from slimscope.index.cache import IndexCache
from tests.support.synth import docker_archive, layer_tar, oci_archive, oci_layout

# Enough layers and entries for the workers to share, small enough to stay fast.
LAYERS = [
    [("etc", "dir"), ("etc/conf", "file", b"c" * 100), ("big", "file", b"B" * 5000),
     ("bin", "dir"), ("bin/sh", "file", b"#!" * 300, 0o755), ("bin/ash", "hardlink", "bin/sh")],
    [(".wh.big", "whiteout"), ("etc", "dir"), ("etc/conf", "file", b"c" * 100, 0o600),
     ("etc/link", "symlink", "conf")],
    [("etc/.wh..wh..opq", "opaque"), ("etc/new", "file", b"n" * 3000)]
    + [(f"data/f{i}", "file", bytes([i]) * i) for i in range(200)],
    [("data/.wh.f7", "whiteout"), ("fifo", "fifo"), ("data/f8", "file", b"again")],
]

FORMS = ["docker-archive", "oci-gzip", "oci-zstd", "oci-plain", "oci-archive"]


def build(tmp_path, form, layers=LAYERS):
    if form == "docker-archive":
        return docker_archive(str(tmp_path / "i.tar"), layers)
    comp = {"oci-zstd": "zstd", "oci-plain": "none"}.get(form, "gzip")
    layout = oci_layout(str(tmp_path / "layout"), layers, compression=comp)
    return oci_archive(str(tmp_path / "i.oci.tar"), layout) if form == "oci-archive" else layout


@pytest.fixture
def workers(monkeypatch):
    """Force the parallel path on small images; count how often it ran."""
    monkeypatch.setenv("SLIMSCOPE_JOBS", "2")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    calls = []
    run = parallel.run_ordered

    def counting(fn, tasks, jobs, on_done=None, sizes=None):
        calls.append(len(tasks))
        return run(fn, tasks, jobs, on_done, sizes)

    monkeypatch.setattr(parallel, "run_ordered", counting)
    return calls


def load(name, jobs, monkeypatch, **kw):
    monkeypatch.setenv("SLIMSCOPE_JOBS", str(jobs))
    return load_image(name, Options(**kw))


def described(image):
    return (image.reference, image.id, image.config,
            [(l.position, l.digest, l.diff_id, l.media_type, l.stored_bytes, l.compressed,
              l.member, l.index) for l in image.layers])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("hash_contents", [True, False])
def test_parallel_gives_the_same_image(tmp_path, monkeypatch, workers, form, hash_contents):
    name = build(tmp_path, form)
    sequential = load(name, 1, monkeypatch, hash_contents=hash_contents)
    assert workers == []
    par = load(name, 2, monkeypatch, hash_contents=hash_contents)
    assert workers == [len(LAYERS)]
    assert described(par) == described(sequential)
    assert len(par.layers[2].index) > 200


def test_parallel_progress_reaches_the_total(tmp_path, monkeypatch, workers):
    for form in ("docker-archive", "oci-gzip"):
        seen = []
        (tmp_path / form).mkdir()
        load(build(tmp_path / form, form), 2, monkeypatch,
             progress=lambda done, total, seen=seen: seen.append((done, total)))
        assert len(seen) == len(LAYERS)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
        assert seen[-1][0] == seen[-1][1] > 0


@pytest.mark.parametrize("form", ["docker-archive", "oci-gzip"])
def test_workers_fill_the_cache_and_use_it(tmp_path, monkeypatch, workers, form):
    name = build(tmp_path, form)
    cache = str(tmp_path / "cache")
    first = load(name, 2, monkeypatch, cache=IndexCache(cache))
    assert len(os.listdir(cache)) >= len(LAYERS)
    assert not [f for f in os.listdir(cache) if f.endswith(".tmp")]
    # A cached index must be what is used: poison it and see the poison.
    key = first.layers[0].diff_id if form == "docker-archive" else first.layers[0].digest
    idx = IndexCache(cache).get(key, True)
    idx.paths[0] = "/from-cache"
    IndexCache(cache).put([key], idx)
    # legacy members, named by no digest, are looked up by the config's diff_ids
    assert load(name, 2, monkeypatch, cache=IndexCache(cache)).layers[0].index.paths[0] == \
        "/from-cache"


def test_gzip_archive_stays_sequential(tmp_path, monkeypatch, workers):
    name = docker_archive(str(tmp_path / "i.tar.gz"), LAYERS, gz=True)
    load(name, 2, monkeypatch)
    assert workers == []


def corrupt_gzip(entries) -> bytes:
    data = bytearray(gzip.compress(layer_tar(entries), 1, mtime=0))
    data[30:60] = b"\xff" * 30
    return bytes(data)


def test_first_bad_layer_is_reported_and_no_worker_is_left(tmp_path, monkeypatch, workers):
    """Layers 1 and 3 are corrupt: as sequentially, layer 1 is the one named."""
    layers = [layer_tar(LAYERS[0]), corrupt_gzip(LAYERS[1]), layer_tar(LAYERS[2]),
              corrupt_gzip(LAYERS[3])]
    name = docker_archive(str(tmp_path / "bad.tar"), layers)
    with pytest.raises(BadInput) as sequential:
        load(name, 1, monkeypatch)
    with pytest.raises(BadInput) as par:
        load(name, 2, monkeypatch)
    assert workers and str(par.value) == str(sequential.value)
    assert multiprocessing.active_children() == []


def test_jobs_setting(monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 100)
    monkeypatch.setenv("SLIMSCOPE_JOBS", "4")
    assert parallel.jobs_for(3, 1000) == 3 and parallel.jobs_for(3, 99) == 1
    assert parallel.jobs_for(1, 1000) == 1
    # one layer holds nearly all of it: a worker would read it alone, the others idle
    assert parallel.jobs_for(3, 1000, largest=950) == 1
    assert parallel.jobs_for(2, 1000, largest=600) == 2    # 400 bytes off the longest path
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    assert parallel.jobs_for(3, 1000) == 1
    monkeypatch.setenv("SLIMSCOPE_JOBS", "many")
    with pytest.raises(BadInput, match="SLIMSCOPE_JOBS"):
        parallel.jobs_for(3, 1000)


# -- through the real CLI: one line on stderr, exit 2, the same line as sequentially ---------

FORCED = ("import sys; from slimscope.index import parallel; parallel.PARALLEL_MIN_BYTES = 0; "
          "from slimscope.cli import main; sys.argv[0] = 'slimscope'; main()")


def cli(jobs, *args):
    return subprocess.run([sys.executable, "-c", FORCED, *args], capture_output=True, text=True,
                          env={**os.environ, "SLIMSCOPE_NO_CACHE": "1", "SLIMSCOPE_JOBS": jobs})


def oci_with_corrupt_layer(tmp_path):
    d = oci_layout(str(tmp_path / "l"), LAYERS)
    index = json.load(open(os.path.join(d, "index.json")))
    man = json.load(open(os.path.join(d, "blobs/sha256", index["manifests"][0]["digest"][7:])))
    blob = os.path.join(d, "blobs/sha256", man["layers"][2]["digest"][7:])
    data = bytearray(open(blob, "rb").read())
    data[30:60] = b"\xff" * 30
    open(blob, "wb").write(bytes(data))
    return d


@pytest.mark.parametrize("case", ["oci-corrupt-layer", "archive-corrupt-layer", "archive-dotdot"])
def test_bad_layer_through_the_cli(tmp_path, case):
    if case == "oci-corrupt-layer":
        name, match = oci_with_corrupt_layer(tmp_path), "layer 2"
    elif case == "archive-corrupt-layer":
        name = docker_archive(str(tmp_path / "bad.tar"),
                              [layer_tar(LAYERS[0]), corrupt_gzip(LAYERS[1])] + LAYERS[2:])
        match = "truncated or corrupt"
    else:
        name = docker_archive(str(tmp_path / "bad.tar"),
                              LAYERS[:2] + [[("../evil", "file", b"x")]] + LAYERS[3:])
        match = "climbs out"
    sequential, par = cli("1", "analyze", name), cli("2", "analyze", name)
    for r in (sequential, par):
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
        assert match in lines[0], lines[0]
    assert par.stderr == sequential.stderr


def test_a_warm_cache_starts_no_workers(tmp_path, monkeypatch, workers):
    name = build(tmp_path, "oci-gzip")
    cache = str(tmp_path / "cache")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1)
    load(name, 2, monkeypatch, cache=IndexCache(cache))
    assert workers == [len(LAYERS)]
    again = load(name, 2, monkeypatch, cache=IndexCache(cache))
    assert workers == [len(LAYERS)]  # every layer was cached: nothing to parse, no processes
    assert described(again) == described(load(name, 1, monkeypatch))


def test_workers_start_under_a_print_capture(tmp_path, monkeypatch, workers):
    """The TUI loads while Textual captures sys.stderr with an object whose fileno is -1."""

    class Capture:
        def write(self, text):
            return len(text)

        def flush(self):
            pass

        def fileno(self):
            return -1

    name = build(tmp_path, "oci-gzip")
    capture = Capture()
    monkeypatch.setattr(sys, "stderr", capture)
    par = load(name, 2, monkeypatch)
    assert workers and sys.stderr is capture
    assert described(par) == described(load(name, 1, monkeypatch))


# -- a layer read lazily: its cost follows its entries, not its bytes ----------------------

def _big_files(n: int, size: int) -> list:
    return [(f"data/blob{k}", "file", os.urandom(size)) for k in range(n)]


def _small_files(n: int) -> list:
    return [(f"app/f{k:05d}", "file", b"%d" % k * (100 + k % 900)) for k in range(n)]


def test_lazy_cost_follows_the_entries(tmp_path):
    from slimscope.index.tarwalk import lazy_cost
    big, small = layer_tar(_big_files(3, 4 << 20)), layer_tar(_small_files(6000))
    path = tmp_path / "both"
    path.write_bytes(big + small)
    with open(path, "rb") as f:
        assert lazy_cost(f, 0, len(big)) < len(big) // 20      # 3 bodies, seeked past
        assert lazy_cost(f, len(big), len(small)) == len(small)  # every entry read
        assert lazy_cost(f, len(big), 4096) == 4096             # too small to sample


def test_workers_start_for_many_entries_not_for_big_bodies(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1 << 20)
    monkeypatch.delenv("SLIMSCOPE_JOBS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    started = []
    real = parallel.run_ordered
    monkeypatch.setattr(parallel, "run_ordered",
                        lambda *a, **k: started.append(1) or real(*a, **k))
    big = docker_archive(str(tmp_path / "big.tar"),
                         [_big_files(2, 3 << 20), _big_files(2, 3 << 20)])
    small = docker_archive(str(tmp_path / "small.tar"),
                           [_small_files(5000), [(p.replace("app/", "lib/"), k, d)
                                                 for p, k, d in _small_files(5000)]])
    for name, workers in ((big, False), (small, True)):
        started.clear()
        image = load_image(name, Options(cache=None, lazy_digests=True))
        assert bool(started) == workers, name
        assert len(image.layers) == 2
