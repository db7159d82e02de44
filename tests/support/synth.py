"""Build layer tars and whole images in memory, for tests that need no engine.

A layer is a list of entries; an entry is a tuple (path, kind, extra...):
  ("etc/x", "file", b"data"[, mode])      ("d", "dir"[, mode])
  ("l", "symlink", "target")              ("h", "hardlink", "target/path")
  ("d/.wh.x", "whiteout")                 ("d/.wh..wh..opq", "opaque")
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile


def layer_tar(entries, mtime: int = 1_700_000_000) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for entry in entries:
            path, kind, *rest = entry
            ti = tarfile.TarInfo(path)
            ti.mtime = mtime
            data = None
            if kind == "file":
                data = rest[0] if rest else b""
                ti.size = len(data)
                ti.mode = rest[1] if len(rest) > 1 else 0o644
                if len(rest) > 2:
                    ti.uid, ti.gid = rest[2]
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = rest[0] if rest else 0o755
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = rest[0]
                ti.mode = 0o777
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = rest[0]
                ti.mode = 0o644
            elif kind in ("whiteout", "opaque"):
                ti.size = 0
                ti.mode = 0o644
                data = b""
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            else:
                raise ValueError(kind)
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_for(layer_tars, history=None, extra=None) -> dict:
    cfg = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layer_tars]},
        "history": history or [{"created_by": f"step {i}"} for i in range(len(layer_tars))],
    }
    if extra:
        cfg.update(extra)
    return cfg


def _add(tf: tarfile.TarFile, name: str, data: bytes):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 0
    tf.addfile(ti, io.BytesIO(data))


def docker_archive(path: str, layers, tag: str = "synth:latest", history=None, gz: bool = False,
                   config: dict | None = None) -> str:
    """A legacy `docker save` archive (`<id>/layer.tar`, manifest.json)."""
    tars = [layer_tar(l) if isinstance(l, list) else l for l in layers]
    cfg = json.dumps(config or config_for(tars, history)).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        names = []
        for i, t in enumerate(tars):
            d = hashlib.sha256(f"{i}".encode() + t).hexdigest()
            _add(tf, f"{d}/VERSION", b"1.0")
            _add(tf, f"{d}/layer.tar", t)
            names.append(f"{d}/layer.tar")
        _add(tf, cfg_name, cfg)
        _add(tf, "manifest.json", json.dumps(
            [{"Config": cfg_name, "RepoTags": [tag] if tag else None, "Layers": names}]).encode())
    data = buf.getvalue()
    if gz:
        data = gzip.compress(data, 1)
    with open(path, "wb") as f:
        f.write(data)
    return path


def oci_layout(directory: str, layers, compression: str = "gzip", ref: str = "latest",
               history=None, platforms=None) -> str:
    """An OCI image layout directory; `platforms` makes an index with one manifest each."""
    tars = [layer_tar(l) if isinstance(l, list) else l for l in layers]
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data: bytes) -> str:
        d = sha(data)
        with open(os.path.join(blobs, d.split(":")[1]), "wb") as f:
            f.write(data)
        return d

    def manifest_for(arch: str) -> dict:
        descs = []
        for t in tars:
            if compression == "gzip":
                blob, mt = gzip.compress(t, 1, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
            elif compression == "zstd":
                import zstandard
                blob, mt = zstandard.ZstdCompressor().compress(t), \
                    "application/vnd.oci.image.layer.v1.tar+zstd"
            else:
                blob, mt = t, "application/vnd.oci.image.layer.v1.tar"
            descs.append({"mediaType": mt, "digest": put(blob), "size": len(blob)})
        cfg = config_for(tars, history, {"architecture": arch})
        cfg_bytes = json.dumps(cfg).encode()
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": put(cfg_bytes), "size": len(cfg_bytes)},
             "layers": descs}
        mb = json.dumps(m).encode()
        return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(mb),
                "size": len(mb)}

    if platforms:
        entries = []
        for p in platforms:
            desc = manifest_for(p.split("/")[1])
            desc["platform"] = {"os": p.split("/")[0], "architecture": p.split("/")[1]}
            entries.append(desc)
        idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": entries}
        ib = json.dumps(idx).encode()
        top = [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(ib),
                "size": len(ib), "annotations": {"org.opencontainers.image.ref.name": ref}}]
    else:
        desc = manifest_for("amd64")
        desc["annotations"] = {"org.opencontainers.image.ref.name": ref}
        top = [desc]
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": top}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return directory


def oci_archive(path: str, directory: str) -> str:
    with tarfile.open(path, "w") as tf:
        for name in sorted(os.listdir(directory)):
            tf.add(os.path.join(directory, name), arcname=name)
    return path
