"""slimscope.slim.writers.DockerArchive: a layer streamed into the archive as it is made
gives the archive that copying the same layer from a file gives, and one slimscope
reads back with that layer's diff_id."""

from __future__ import annotations

import hashlib
import tarfile

import pytest

from slimscope.core.analysis import analyze
from slimscope.slim.offline import LayerFile
from slimscope.slim.writers import DockerArchive, _entry, _header, write_docker_archive
from tests.support.synth import layer_tar


def _config(diff_ids: list[str]) -> dict:
    return {"architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids}}


def test_a_streamed_layer_makes_the_archive_a_copied_one_makes(tmp_path):
    data = layer_tar([("etc", "dir"), ("etc/a", "file", b"a" * 3000),
                      ("etc/b", "file", b"b" * 70_001)])
    data += bytes(300)   # a size that is no multiple of 512: the member is padded
    path = tmp_path / "layer.tar"
    path.write_bytes(data)
    diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
    copied = tmp_path / "copied.tar"
    write_docker_archive(str(copied), _config([diff_id]), [LayerFile(str(path), diff_id,
                                                                     len(data))], ["x/y:1"])

    streamed = tmp_path / "streamed.tar"
    with open(streamed, "wb") as f:
        out = DockerArchive(f)

        def produce(sink) -> None:
            for k in range(0, len(data), 4096):
                sink.write(data[k:k + 4096])
        layer = out.stream_layer(produce)
        assert (layer.diff_id, layer.size) == (diff_id, len(data))
        out.finish(_config([layer.diff_id]), [layer], ["x/y:1"])
    assert streamed.read_bytes() == copied.read_bytes()

    with tarfile.open(streamed) as tf:
        member = tf.extractfile("blobs/sha256/" + diff_id[7:])
        assert member is not None and member.read() == data
    a = analyze(str(streamed), use_cache=False)
    assert [layer.diff_id for layer in a.layers] == [diff_id]
    assert {r.path for r in a.files()} == {"/etc", "/etc/a", "/etc/b"}


def test_the_header_of_a_layer_past_8_gib_still_fills_one_block():
    ti = _entry("blobs/sha256/" + "f" * 64, 9 << 30)
    block = _header(ti, gnu=True)
    assert len(block) == 512
    back = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    assert (back.name, back.size) == (ti.name, 9 << 30)
    assert len(_header(ti)) > 512   # PAX would need a record of its own: no room for it


def test_copying_a_layer_shorter_than_its_record_is_an_error(tmp_path):
    path = tmp_path / "layer.tar"
    path.write_bytes(b"x" * 100)
    with open(tmp_path / "out.tar", "wb") as f:
        out = DockerArchive(f)
        with pytest.raises(OSError, match="shorter"):
            out.add_layer(LayerFile(str(path), "sha256:" + "0" * 64, 1000))
