"""A legacy `docker save` archive (layers named `<id>/layer.tar`, no digest) is read
from the layer cache by the diff_ids its config lists, and only for the bytes those
diff_ids name."""

from __future__ import annotations

import pytest

from slimscope.errors import BadInput
from slimscope.image.layerkeys import legacy_key
from slimscope.image.model import Options
from slimscope.image.reference import load_image
from slimscope.index.cache import IndexCache
from tests.support.synth import config_for, docker_archive, layer_tar

LAYER_A = [("etc", "dir"), ("etc/a", "file", b"a" * 300), ("etc/b", "file", b"b" * 20)]
LAYER_B = [("usr", "dir"), ("usr/x", "file", b"x" * 1000)]


def load(path, cache_dir, hashing=True):
    return load_image(path, Options(cache=IndexCache(cache_dir), hash_contents=hashing))


def poison(cache_dir, diff_id):
    cache = IndexCache(cache_dir)
    idx = cache.get(diff_id, False)
    assert idx is not None, "the cold run stores each layer under its diff_id"
    idx.paths[-1] = "/from-cache"
    cache.put([diff_id], idx)


@pytest.mark.parametrize("gz", [False, True])
def test_warm_legacy_archive_reads_the_cache(tmp_path, gz):
    path = docker_archive(str(tmp_path / "img.tar"), [LAYER_A, LAYER_B], gz=gz)
    cache_dir = str(tmp_path / "cache")
    cold = load(path, cache_dir)
    assert all(not layer.member.startswith("sha256") for layer in cold.layers)
    poison(cache_dir, cold.layers[1].diff_id)
    if gz:  # read in one pass, its config after its layers: found by the member's id
        poison(cache_dir, legacy_key(cold.layers[1].member))
    warm = load(path, cache_dir)
    assert warm.layers[1].index.paths[-1] == "/from-cache"
    assert [l.digest for l in warm.layers] == [l.digest for l in cold.layers]
    assert [l.diff_id for l in warm.layers] == [l.diff_id for l in cold.layers]


def test_a_cached_index_never_answers_for_other_bytes(tmp_path):
    cache_dir = str(tmp_path / "cache")
    good = load(docker_archive(str(tmp_path / "good.tar"), [LAYER_A]), cache_dir)
    diff_id = good.layers[0].diff_id
    # Same diff_id in the config, other bytes in the member: refused, as without a cache.
    other = layer_tar(LAYER_B)
    cfg = config_for([layer_tar(LAYER_A)])
    bad = docker_archive(str(tmp_path / "bad.tar"), [other], config=cfg)
    assert cfg["rootfs"]["diff_ids"] == [diff_id]
    with pytest.raises(BadInput, match="does not match its diff_id"):
        load(bad, cache_dir)


def test_an_unhashed_entry_does_not_serve_a_hashing_run(tmp_path):
    path = docker_archive(str(tmp_path / "img.tar"), [LAYER_A])
    cache_dir = str(tmp_path / "cache")
    cold = load(path, cache_dir, hashing=False)
    assert not cold.layers[0].index.hashed
    warm = load(path, cache_dir, hashing=True)
    assert warm.layers[0].index.hashed and warm.layers[0].index.digest(1) is not None


@pytest.mark.parametrize("gz", [False, True])
def test_an_entry_made_from_other_bytes_is_not_used(tmp_path, gz):
    """Under the member's id, an index of another layer: read again, not believed."""
    cache_dir = str(tmp_path / "cache")
    other = load(docker_archive(str(tmp_path / "other.tar"), [LAYER_B]), cache_dir)
    path = docker_archive(str(tmp_path / "img.tar"), [LAYER_A], gz=gz)
    fresh = load_image(path, Options(cache=None))
    cache = IndexCache(cache_dir)
    cache.put([legacy_key(fresh.layers[0].member)], other.layers[0].index)
    got = load(path, cache_dir)
    assert got.layers[0].index.paths == fresh.layers[0].index.paths
    assert got.layers[0].diff_id == fresh.layers[0].diff_id
