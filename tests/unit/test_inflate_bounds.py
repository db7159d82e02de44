"""Decompression is bounded: a bomb ends in seconds with one line; a real layer and
an explicitly raised limit still read."""

from __future__ import annotations

import gzip
import io
import time

import pytest

from slimscope.errors import BadInput
from slimscope.index.streams import InflateLimit
from slimscope.index.walk import index_blob
from tests.support.hostile import gzip_bomb, oci_with_blob, one_line_error, run_cli, zstd_bomb
from tests.support.synth import layer_tar

ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def test_zstd_terabyte_bomb_ends_in_seconds(tmp_path):
    blob = zstd_bomb(1 << 40)
    assert len(blob) < 40 << 20
    oci_with_blob(str(tmp_path / "img"), blob, ZSTD)
    start = time.monotonic()
    r = run_cli("analyze", str(tmp_path / "img"), timeout=60)
    line = one_line_error(r)
    assert time.monotonic() - start < 20
    assert "inflates more than 100 times" in line and "SLIMSCOPE_MAX_EXPANSION" in line
    assert "layer 0" in line


def test_gzip_bomb_is_refused(monkeypatch):
    from slimscope.index import streams
    monkeypatch.setattr(streams, "EXPANSION_FLOOR", 32 << 20)
    with pytest.raises(InflateLimit):
        index_blob(io.BytesIO(gzip_bomb(1 << 30, 8 << 20)))


def test_absolute_cap_and_raising_it(monkeypatch):
    tar = layer_tar([("a", "file", b"x" * 200_000)])
    blob = gzip.compress(tar)
    monkeypatch.setenv("SLIMSCOPE_MAX_LAYER_BYTES", "100000")
    with pytest.raises(BadInput, match="SLIMSCOPE_MAX_LAYER_BYTES"):
        index_blob(io.BytesIO(blob))
    monkeypatch.setenv("SLIMSCOPE_MAX_LAYER_BYTES", str(1 << 30))
    assert index_blob(io.BytesIO(blob)).index.sizes[0] == 200_000


def test_ratio_limit_can_be_raised(monkeypatch):
    from slimscope.index import streams
    monkeypatch.setattr(streams, "EXPANSION_FLOOR", 1 << 16)
    tar = layer_tar([("zeros", "file", bytes(4 << 20))])
    blob = gzip.compress(tar, 9)
    with pytest.raises(InflateLimit, match="100 times"):
        index_blob(io.BytesIO(blob))
    monkeypatch.setenv("SLIMSCOPE_MAX_EXPANSION", "100000")
    assert index_blob(io.BytesIO(blob)).index.sizes[0] == 4 << 20


def test_bad_limit_value_is_one_line(monkeypatch):
    monkeypatch.setenv("SLIMSCOPE_MAX_EXPANSION", "lots")
    with pytest.raises(BadInput, match="whole number"):
        index_blob(io.BytesIO(gzip.compress(layer_tar([("a", "file", b"x")]))))
