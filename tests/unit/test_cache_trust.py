"""The layer cache is a directory anyone may have written to: what it holds is
used only when it says it was made from the blob asked for, and checks out."""

from __future__ import annotations

import os
import stat
import threading

from slimscope.image.model import Options
from slimscope.image.reference import load_image
from slimscope.index.cache import IndexCache, encode_entry
from tests.support.synth import oci_layout

LAYERS = [
    [("etc", "dir"), ("etc/conf", "file", b"c" * 100), ("big", "file", b"B" * 5000)],
    [("srv", "dir"), ("srv/data", "file", b"d" * 300)],
]


def _image(tmp_path):
    return oci_layout(str(tmp_path / "img"), LAYERS, "gzip")


def _load(d, cache_dir):
    return load_image(d, Options(cache=IndexCache(str(cache_dir))))


def _sizes(img):
    return [sum(l.index.sizes) for l in img.layers]


def test_poisoned_entry_is_rebuilt(tmp_path):
    d, cache = _image(tmp_path), tmp_path / "cache"
    truth = _sizes(_load(d, cache))
    key = _load(d, cache).layers[0].digest
    path = cache / (key.replace(":", "-") + ".idx")
    data = bytearray(path.read_bytes())
    # keep the header, change the index inside: its checksum no longer agrees
    poisoned = IndexCache(str(cache)).get(key, True)
    poisoned.sizes[1] = 10 ** 12
    head = bytes(data[:data.index(b"\n") + 1])
    path.write_bytes(head + poisoned.dumps())
    assert _sizes(_load(d, cache)) == truth
    # the entry was discarded and written again, right
    assert IndexCache(str(cache)).get(key, True).sizes[1] != 10 ** 12


def test_old_format_entry_is_not_used(tmp_path):
    d, cache = _image(tmp_path), tmp_path / "cache"
    truth = _sizes(_load(d, cache))
    key = _load(d, cache).layers[0].digest
    path = cache / (key.replace(":", "-") + ".idx")
    idx = IndexCache(str(cache)).get(key, True)
    idx.sizes[1] = 10 ** 12
    path.write_bytes(idx.dumps())  # a bare index, the way the first format stored it
    assert _sizes(_load(d, cache)) == truth


def test_swapped_entries_are_rebuilt(tmp_path):
    d, cache = _image(tmp_path), tmp_path / "cache"
    img = _load(d, cache)
    truth = _sizes(img)
    a, b = (cache / (l.digest.replace(":", "-") + ".idx") for l in img.layers)
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    again = _load(d, cache)  # not "corrupt": each entry names the blob it was made from
    assert _sizes(again) == truth


def test_entry_filed_under_another_key_is_refused(tmp_path):
    d, cache = _image(tmp_path), tmp_path / "cache"
    img = _load(d, cache)
    other = img.layers[1]
    entry = encode_entry([other.digest], other.index, other.digest, other.stored_bytes)
    (cache / (img.layers[0].digest.replace(":", "-") + ".idx")).write_bytes(entry)
    assert IndexCache(str(cache)).get(img.layers[0].digest, True) is None


def _run_with_timeout(fn, seconds=10):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "hung"
    return out.get("v")


def test_fifo_entry_does_not_hang(tmp_path):
    d, cache = _image(tmp_path), tmp_path / "cache"
    truth = _sizes(_load(d, cache))
    key = _load(d, cache).layers[0].digest
    path = cache / (key.replace(":", "-") + ".idx")
    path.unlink()
    os.mkfifo(path)
    assert _run_with_timeout(lambda: _sizes(_load(d, cache))) == truth


def test_dev_zero_entry_is_not_read(tmp_path):
    d, cache = _image(tmp_path), tmp_path / "cache"
    truth = _sizes(_load(d, cache))
    key = _load(d, cache).layers[0].digest
    path = cache / (key.replace(":", "-") + ".idx")
    path.unlink()
    path.symlink_to("/dev/zero")
    assert _run_with_timeout(lambda: _sizes(_load(d, cache))) == truth
    assert stat.S_ISCHR(os.stat("/dev/zero").st_mode)  # replaced, never written through


def test_huge_inflation_is_refused(tmp_path, monkeypatch):
    import hashlib
    import zlib

    from slimscope.index import cache as cache_mod
    monkeypatch.setattr(cache_mod, "MAX_INDEX_BYTES", 1 << 20)
    d, cache = _image(tmp_path), tmp_path / "cache"
    key = _load(d, cache).layers[0].digest
    bomb = zlib.compress(b"SLIMIDX1 0 1 0 - 0\n" + bytes(16 << 20), 9)
    head = b"SLIMCACHE2 %s - -1 - %d %s\n" % (key.encode(), len(bomb),
                                               hashlib.sha256(bomb).hexdigest().encode())
    (cache / (key.replace(":", "-") + ".idx")).write_bytes(head + bomb)
    assert IndexCache(str(cache)).get(key, True) is None


def test_unwritable_cache_fails_nothing(tmp_path):
    d = _image(tmp_path)
    (tmp_path / "blocked").write_bytes(b"")  # the cache directory cannot be made
    img = _load(d, tmp_path / "blocked" / "cache")
    assert len(img.layers) == 2


def test_full_disk_leaves_no_temporaries(tmp_path, monkeypatch):
    import errno
    d, cache = _image(tmp_path), tmp_path / "cache"
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "write", full)
    img = _load(d, cache)
    monkeypatch.setattr(os, "write", real_write)
    assert len(img.layers) == 2
    assert os.listdir(cache) == []
