"""The readers every source and the layer walk read through."""

from __future__ import annotations

import gzip
import hashlib
import io

import zstandard

from slimscope.index.streams import (
    CHUNK,
    CountingReader,
    HashingReader,
    IterStream,
    RangeReader,
    sniff,
    uncompressed,
)
from tests.support.synth import layer_tar

DATA = bytes(range(256)) * 5000  # 1.28 MB: more than one CHUNK


class NoReadinto:
    """A stream with read() only, like a decompressor's reader."""

    def __init__(self, data):
        self.f = io.BytesIO(data)

    def read(self, n=-1):
        return self.f.read(n)

    def close(self):
        pass


def test_hashing_reader_counts_and_hashes_through_either_path():
    want = "sha256:" + hashlib.sha256(DATA).hexdigest()
    for raw in (io.BytesIO(DATA), NoReadinto(DATA)):
        h = HashingReader(raw)
        got = io.BufferedReader(h, 4096).read()
        assert got == DATA and h.hexdigest() == want and h.count == len(DATA)
    h = HashingReader(io.BytesIO(DATA))
    assert h.read(10) == DATA[:10]
    h.drain()
    assert h.hexdigest() == want and h.count == len(DATA)


def test_counting_reader_reports_the_end():
    calls = []
    r = io.BufferedReader(CountingReader(io.BytesIO(DATA), lambda d, t: calls.append((d, t)), 7),
                          CHUNK)
    assert r.read() == DATA
    assert calls[-1] == (len(DATA), 7)


def test_range_reader_gives_exactly_its_range(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(DATA)
    with open(p, "rb") as f:
        assert io.BufferedReader(RangeReader(f, 1000, 70000), 4096).read() == DATA[1000:71000]
    with open(p, "rb") as f:
        assert io.BufferedReader(RangeReader(f, len(DATA) - 5, 5)).read() == DATA[-5:]


def test_iter_stream_joins_chunks_and_closes_once():
    closed = []
    chunks = [DATA[:3], b"", DATA[3:100000], DATA[100000:]]
    s = IterStream(iter(chunks), lambda: closed.append(1))
    assert io.BufferedReader(s, 777).read() == DATA
    s.close()
    s.close()
    assert closed == [1]


def test_sniff_and_uncompressed_agree_on_every_stored_form(tmp_path):
    tar = layer_tar([("etc", "dir"), ("etc/f", "file", b"x" * 3000)])
    forms = {"tar": tar, "gzip": gzip.compress(tar), "zstd": zstandard.ZstdCompressor().compress(tar)}
    for kind, blob in forms.items():
        assert sniff(blob[:512]) == kind
        (tmp_path / kind).write_bytes(blob)
        with open(tmp_path / kind, "rb") as f:
            assert uncompressed(f).read() == tar
    assert sniff(bytes(1024)) == "tar"            # an empty tar: end-of-archive blocks only
    assert sniff(b'  {"a": 1}') == "json" and sniff(b"hello") == "other"
