"""Images for the TUI tests, written with tarfile as OCI layouts (no engine needed).

Byte-for-byte reproducible (fixed mtimes, contents derived from a seed), so the
snapshot tests see the same screen on every machine.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from tests.support.bases import FIXED_MTIME as MTIME
from tests.support.images import noise


class LayerTar:
    """Builds one uncompressed layer tar in memory."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, kind, mode, uid=0, gid=0, link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime, ti.linkname = kind, mode, uid, gid, MTIME, link
        ti.uname = ti.gname = ""
        return ti

    def dir(self, name, mode=0o755, uid=0, gid=0):
        self.tar.addfile(self._info(name.rstrip("/") + "/", tarfile.DIRTYPE, mode, uid, gid))
        return self

    def file(self, name, data: bytes, mode=0o644, uid=0, gid=0):
        ti = self._info(name, tarfile.REGTYPE, mode, uid, gid)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))
        return self

    def symlink(self, name, target):
        self.tar.addfile(self._info(name, tarfile.SYMTYPE, 0o777, link=target))
        return self

    def hardlink(self, name, target):
        self.tar.addfile(self._info(name, tarfile.LNKTYPE, 0o644, link=target))
        return self

    def whiteout(self, name):
        d, _, base = name.rpartition("/")
        return self.file(f"{d}/.wh.{base}" if d else f".wh.{base}", b"")

    def opaque(self, dirname):
        return self.file(f"{dirname.rstrip('/')}/.wh..wh..opq", b"")

    def bytes(self) -> bytes:
        self.tar.close()
        return self.buf.getvalue()


def write_oci(out: Path, layers: list, commands: list, ref: str = "latest") -> Path:
    """An OCI layout at `out` with uncompressed layers (`layers` are layer tar bytes)."""
    out = Path(out)
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        h = hashlib.sha256(data).hexdigest()
        (blobs / h).write_bytes(data)
        return "sha256:" + h

    descs, diff_ids = [], []
    for data in layers:
        d = put(data)
        diff_ids.append(d)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d,
                      "size": len(data)})
    config = {
        "architecture": "amd64", "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": c} for c in commands],
    }
    cfg = json.dumps(config, sort_keys=True).encode()
    cfg_d = put(cfg)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_d,
                   "size": len(cfg)},
        "layers": descs}, sort_keys=True).encode()
    man_d = put(manifest)
    (out / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (out / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": man_d, "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": ref}}]}))
    return out


# The small demo image: every status, a hidden secret, a metadata-only copy, an opaque dir.
DEMO_COMMANDS = [
    "/bin/sh -c #(nop) ADD file:base in /",
    "/bin/sh -c #(nop) COPY dir:app in /app",
    "/bin/sh -c rm -rf /tmp/build.tar /root/.ssh/id_rsa && echo 'root:x:0:0::/root:/bin/sh' > /etc/passwd",
    "/bin/sh -c chmod 600 /app/data.bin && rm -rf /usr/share/doc && mkdir -p /usr/share/doc && echo hi > /usr/share/doc/NOTE",
]


def demo_layers() -> list:
    base = LayerTar()
    for d in ("bin", "etc", "usr", "usr/lib", "usr/share", "usr/share/doc", "usr/share/doc/pkg",
              "tmp", "root"):
        base.dir(d)
    base.dir("root", mode=0o700)
    base.file("bin/sh", noise(60_000, "sh"), mode=0o755)
    base.symlink("bin/ls", "sh")
    base.hardlink("bin/busybox", "bin/sh")
    base.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    base.file("usr/lib/libbig.so", noise(400_000, "libbig"), mode=0o755)
    base.file("usr/share/doc/pkg/README", noise(20_000, "readme"))
    base.file("usr/share/doc/pkg/changelog", noise(9_000, "changelog"))

    app = LayerTar()
    app.dir("app").dir("root/.ssh", mode=0o700)
    app.file("app/main.py", noise(3_000, "main"))
    app.file("app/data.bin", noise(120_000, "data"))
    app.file("root/.ssh/id_rsa", noise(1_700, "key"), mode=0o600)
    app.dir("tmp", mode=0o1777)
    app.file("tmp/build.tar", noise(300_000, "build"))

    clean = LayerTar()
    clean.dir("tmp", mode=0o1777).whiteout("tmp/build.tar")
    clean.dir("root/.ssh", mode=0o700).whiteout("root/.ssh/id_rsa")
    clean.dir("etc").file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")

    chmod = LayerTar()
    chmod.dir("app").file("app/data.bin", noise(120_000, "data"), mode=0o600)
    chmod.dir("usr/share/doc").opaque("usr/share/doc").file("usr/share/doc/NOTE", b"hi\n")
    return [base.bytes(), app.bytes(), clean.bytes(), chmod.bytes()]


def demo_image(out: Path) -> Path:
    return write_oci(out, demo_layers(), DEMO_COMMANDS, ref="demo")


def big_image(out: Path, files: int = 50_000, per_dir: int = 250) -> Path:
    """`files` small files in a base layer; a second layer changes, adds and deletes some."""
    base = LayerTar()
    base.dir("data")
    ndirs = (files + per_dir - 1) // per_dir
    for d in range(ndirs):
        base.dir(f"data/d{d:04d}")
    for n in range(files):
        d = n // per_dir
        base.file(f"data/d{d:04d}/f{n:06d}.txt", b"x" * (n % 97))
    top = LayerTar()
    for n in range(0, files, 50):          # delete every 50th file
        d = n // per_dir
        top.whiteout(f"data/d{d:04d}/f{n:06d}.txt")
    for n in range(1, files, 100):         # overwrite every 100th (offset 1)
        d = n // per_dir
        top.file(f"data/d{d:04d}/f{n:06d}.txt", b"y" * 10)
    top.dir("new")
    for n in range(700):                   # more rows than one page of the tree
        top.file(f"new/n{n:04d}.log", b"z" * 64)
    return write_oci(out, [base.bytes(), top.bytes()],
                     ["/bin/sh -c #(nop) ADD file:many in /", "/bin/sh -c churn"], ref="big")
