"""File notes (slimscope.index.cache): a layer in a local file that has kept its
identity since it was read is answered from the cache without being read again; any
change to the file, and anything the note cannot vouch for, reads it again."""

from __future__ import annotations

import os

import pytest

from slimscope.errors import BadInput
from slimscope.image import archive, oci
from slimscope.image.model import Options
from slimscope.image.reference import load_image
from slimscope.index import cache as cache_mod
from slimscope.index.cache import IndexCache, file_identity
from tests.support.synth import docker_archive, oci_layout

LAYER_A = [("etc", "dir"), ("etc/a", "file", b"a" * 3000), ("etc/b", "file", b"b" * 20)]
LAYER_B = [("usr", "dir"), ("usr/x", "file", b"x" * 1000)]


def load(path, cache_dir, hashing=True):
    return load_image(path, Options(cache=IndexCache(cache_dir), hash_contents=hashing))


def summary(img):
    return [(l.digest, l.diff_id, l.stored_bytes, list(l.index.paths)) for l in img.layers]


def no_reading(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("a noted layer was read again")
    for mod, names in ((archive, ("verified_hit", "index_member")),
                       (oci, ("cached_blob", "index_blob"))):
        for name in names:
            monkeypatch.setattr(mod, name, refuse)


def make(kind, tmp_path):
    if kind == "docker-archive":
        return docker_archive(str(tmp_path / "img.tar"), [LAYER_A, LAYER_B])
    return oci_layout(str(tmp_path / "layout"), [LAYER_A, LAYER_B])


@pytest.mark.parametrize("kind", ["docker-archive", "oci"])
def test_an_unchanged_file_is_not_read_again(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    path, cache_dir = make(kind, tmp_path), str(tmp_path / "cache")
    cold = load(path, cache_dir)
    no_reading(monkeypatch)
    assert summary(load(path, cache_dir)) == summary(cold)


@pytest.mark.parametrize("kind", ["docker-archive", "oci"])
def test_a_file_changed_with_its_times_put_back_is_read_again(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    path, cache_dir = make(kind, tmp_path), str(tmp_path / "cache")
    load(path, cache_dir)
    victim = path if kind == "docker-archive" else max(
        (os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs), key=os.path.getsize)
    st = os.stat(victim)
    with open(victim, "r+b") as f:  # the same size, one byte of a file body changed
        data = f.read()
        at = data.rindex(b"a" * 3000) if kind == "docker-archive" else len(data) // 2
        f.seek(at)
        f.write(bytes([data[at] ^ 1]))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime back; ctime moved on
    with pytest.raises(BadInput, match="does not match"):
        load(path, cache_dir)


def test_a_note_without_its_entry_reads_the_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    path, cache_dir = make("docker-archive", tmp_path), str(tmp_path / "cache")
    cold = load(path, cache_dir)
    for name in os.listdir(os.path.join(cache_dir)):
        if not name.startswith("file-v1-"):
            os.unlink(os.path.join(cache_dir, name))
    assert summary(load(path, cache_dir)) == summary(cold)


def test_an_unhashed_note_does_not_serve_a_hashing_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    path, cache_dir = make("docker-archive", tmp_path), str(tmp_path / "cache")
    load(path, cache_dir, hashing=False)
    warm = load(path, cache_dir, hashing=True)
    assert all(l.index.hashed for l in warm.layers)


def test_a_note_is_only_for_a_regular_file(tmp_path):
    r, w = os.pipe()
    try:
        assert file_identity(r, 0, 10) == ""
    finally:
        os.close(r)
        os.close(w)
    p = tmp_path / "f"
    p.write_bytes(b"x" * 10)
    with open(p, "rb") as f:
        one = file_identity(f.fileno(), 0, 10)
        assert one.startswith("file-v1:") and one != file_identity(f.fileno(), 0, 9)


def test_a_damaged_note_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMSCOPE_JOBS", "1")
    path, cache_dir = make("docker-archive", tmp_path), str(tmp_path / "cache")
    cold = load(path, cache_dir)
    notes = [n for n in os.listdir(cache_dir) if n.startswith("file-v1-")]
    assert len(notes) == 2
    other = open(os.path.join(cache_dir, notes[1]), "rb").read()
    with open(os.path.join(cache_dir, notes[0]), "wb") as f:
        f.write(other)  # another range's note under this one's name: not believed
    assert summary(load(path, cache_dir)) == summary(cold)
    assert cache_mod.NOTE == "SLIMNOTE1"


def test_small_digests_agree_with_hashlib():
    import hashlib

    from slimscope.index.digests import small_sha256_hex
    for data in (b"", b"abc", bytes(range(256)) * 4099):
        assert small_sha256_hex(data) == hashlib.sha256(data).hexdigest()
