"""Hostile inputs built in memory: decompression bombs and OCI layouts with
blobs that are not what they should be. Shared by the unit tests and tests/fuzz."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile

from tests.support.synth import sha


def zero_tar_header(name: str, size: int) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.size = size
    return ti.tobuf(format=tarfile.GNU_FORMAT)


def zstd_bomb(total: int, block: int = 128 << 20) -> bytes:
    """A zstd layer holding one file of `total` zero bytes, as repeated frames (so a
    1 TiB bomb is built in a second and weighs ~30 MiB)."""
    import zstandard
    c = zstandard.ZstdCompressor(level=1)
    zeros = c.compress(bytes(block))
    frames = [c.compress(zero_tar_header("zero", total))]
    frames += [zeros] * (total // block)
    return b"".join(frames)


def gzip_bomb(total: int, block: int = 64 << 20) -> bytes:
    """The same as concatenated gzip members."""
    zeros = gzip.compress(bytes(block), 9, mtime=0)
    return gzip.compress(zero_tar_header("zero", total), 1, mtime=0) + zeros * (total // block)


def oci_with_blob(directory: str, layer_blob: bytes, media: str, diff_id: str = "") -> str:
    """An OCI layout of one layer whose blob is `layer_blob` as stored."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data: bytes) -> str:
        d = sha(data)
        path = os.path.join(blobs, d.split(":")[1])
        if not os.path.lexists(path):
            with open(path, "wb") as f:
                f.write(data)
        return d

    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [diff_id or sha(b"")]},
                      "history": [{"created_by": "step"}]}).encode()
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": put(cfg), "size": len(cfg)},
                    "layers": [{"mediaType": media, "digest": put(layer_blob),
                                "size": len(layer_blob)}]}).encode()
    top = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(m),
           "size": len(m), "annotations": {"org.opencontainers.image.ref.name": "latest"}}
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return sha(layer_blob)


def run_cli(*args: str, timeout: float = 60, env: dict | None = None, cwd: str | None = None
            ) -> subprocess.CompletedProcess:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    full = {**os.environ, "SLIMSCOPE_NO_CACHE": "1", "PYTHONPATH": here, **(env or {})}
    return subprocess.run([sys.executable, "-m", "slimscope", *args], capture_output=True,
                          text=True, timeout=timeout, env=full, cwd=cwd)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """The single stderr line of an exit-2 run (asserting there is exactly one and that
    it names no Python exception)."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "Error:" not in lines[0].split(":", 1)[0]
    assert "unexpected error" not in lines[0], lines[0]
    return lines[0]


def layer_bytes(entries: list) -> bytes:
    from tests.support.synth import layer_tar
    return layer_tar(entries)


__all__ = ["zstd_bomb", "gzip_bomb", "oci_with_blob", "run_cli", "one_line_error", "io"]
