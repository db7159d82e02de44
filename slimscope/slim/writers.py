"""Writing a slimmed image: its rewritten config, and the two forms -o takes (a
`docker load`-able archive and an OCI layout directory)."""

from __future__ import annotations

import copy
import datetime
import gzip
import hashlib
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from typing import BinaryIO

from slimscope.index.streams import CHUNK
from slimscope.slim.offline import LayerFile, _HashWriter

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rewrite_config(config: dict, start: int, diff_ids: list, comment: str) -> dict:
    """The full config kept; rootfs.diff_ids replaced; history entries of the
    squashed layers kept for the record but marked empty, one entry added."""
    cfg = copy.deepcopy(config)
    cfg["rootfs"] = {"type": "layers", "diff_ids": list(diff_ids)}
    history = []
    seen = 0
    squashed = 0
    for h in cfg.get("history") or []:
        h = dict(h)
        if not h.get("empty_layer"):
            if seen >= start:
                h["empty_layer"] = True
                squashed += 1
            seen += 1
        history.append(h)
    history.append({"created": now_rfc3339(), "created_by": "slimscope slim", "comment": comment})
    cfg["history"] = history
    return cfg


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def _blob_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _platform(cfg: dict) -> dict:
    p = {"architecture": cfg.get("architecture") or "amd64", "os": cfg.get("os") or "linux"}
    if cfg.get("variant"):
        p["variant"] = cfg["variant"]
    return p


def _oci_manifest(cfg_bytes: bytes, layer_descs: list) -> bytes:
    return _compact({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                     "config": {"mediaType": MT_CONFIG, "digest": _blob_digest(cfg_bytes),
                                "size": len(cfg_bytes)},
                     "layers": layer_descs})


def _ref_annotations(tag: str) -> dict:
    if not tag:     # still findable as `oci:DIR:latest`, the reference tools assume
        return {"org.opencontainers.image.ref.name": "latest"}
    name, _, t = tag.rpartition(":")
    if not name or "/" in t:
        name, t = tag, "latest"
    return {"io.containerd.image.name": f"{name}:{t}", "org.opencontainers.image.ref.name": t}


def _entry(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE,
           mode: int = 0o644) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.mtime = kind, size, mode, 0
    return ti


def _header(ti: tarfile.TarInfo, gnu: bool = False) -> bytes:
    return ti.tobuf(tarfile.GNU_FORMAT if gnu else tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


class DockerArchive:
    """A `docker load`-able tar written member by member into a file that seeks:
    manifest.json pointing into blobs/sha256 (the layout Docker 25 writes, which
    Docker 20 loads too), also a valid OCI archive.

    A layer can be written into it as it is made (stream_layer): its name and size
    are known only at its end, so its header is written then, over a placeholder.
    That spares writing the layer to a file of its own and copying it in.
    """

    def __init__(self, f: BinaryIO):
        self.f = f
        self.blobs: set[str] = set()
        f.write(_header(_entry("blobs", kind=tarfile.DIRTYPE, mode=0o755)))
        f.write(_header(_entry("blobs/sha256", kind=tarfile.DIRTYPE, mode=0o755)))

    def _pad(self, size: int) -> None:
        if size % 512:
            self.f.write(bytes(512 - size % 512))

    def add_bytes(self, name: str, data: bytes) -> None:
        self.f.write(_header(_entry(name, len(data))))
        self.f.write(data)
        self._pad(len(data))

    def add_layer(self, lf: LayerFile) -> None:
        """A layer tar already on disk, copied in (once, however often it is listed)."""
        if lf.diff_id in self.blobs:
            return
        self.blobs.add(lf.diff_id)
        self.f.write(_header(_entry("blobs/sha256/" + lf.diff_id[7:], lf.size)))
        with open(lf.path, "rb") as src:
            left = lf.size
            while left:
                chunk = src.read(min(left, CHUNK))
                if not chunk:
                    raise OSError(f"{lf.path} is shorter than {lf.size} bytes")
                self.f.write(chunk)
                left -= len(chunk)
        self._pad(lf.size)

    def stream_layer(self, produce: Callable[[_HashWriter], object]) -> LayerFile:
        """A layer tar written into the archive by `produce`; its LayerFile (whose path
        is the archive's: it has no file of its own)."""
        f = self.f
        at = f.tell()
        f.write(bytes(512))           # the header's place, until name and size are known
        sink = _HashWriter(f)
        produce(sink)
        size, diff_id = sink.n, sink.digest()
        self._pad(size)
        end = f.tell()
        ti = _entry("blobs/sha256/" + diff_id[7:], size)
        # (a size past ustar's 8 GiB in GNU base-256: a PAX record would not fit the place)
        header = _header(ti, gnu=size >= 8 << 30)
        assert len(header) == 512
        f.seek(at)
        f.write(header)
        f.seek(end)
        self.blobs.add(diff_id)
        return LayerFile(getattr(f, "name", ""), diff_id, size)

    def finish(self, config: dict, layers: list, tags: list) -> None:
        """The config, the manifests and the end of the archive."""
        cfg_bytes = _compact(config)
        descs = [{"mediaType": MT_LAYER, "digest": lf.diff_id, "size": lf.size} for lf in layers]
        manifest = _oci_manifest(cfg_bytes, descs)
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
            {"mediaType": MT_MANIFEST, "digest": _blob_digest(manifest), "size": len(manifest),
             "platform": _platform(config), **({"annotations": _ref_annotations(tags[0])}
                                               if tags else {})}]}
        docker_manifest = [{"Config": "blobs/sha256/" + _blob_digest(cfg_bytes)[7:],
                            "RepoTags": list(tags) or None,
                            "Layers": ["blobs/sha256/" + lf.diff_id[7:] for lf in layers]}]
        for data in (cfg_bytes, manifest):
            self.add_bytes("blobs/sha256/" + _blob_digest(data)[7:], data)
        self.add_bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        self.add_bytes("index.json", _compact(index))
        self.add_bytes("manifest.json", _compact(docker_manifest))
        # two end blocks, then up to a whole record, as tarfile ends an archive
        end = self.f.tell() + 1024
        self.f.write(bytes(1024 + (-end) % tarfile.RECORDSIZE))


def write_docker_archive(path: str, config: dict, layers: list, tags: list) -> None:
    """A `docker load`-able archive of layer tars on disk (DockerArchive)."""
    with open(path, "wb") as f:
        out = DockerArchive(f)
        for lf in layers:
            out.add_layer(lf)
        out.finish(config, layers, tags)


def _bytes_io(data: bytes):
    import io
    return io.BytesIO(data)


def write_oci_layout(directory: str, config: dict, layers: list, tag: str) -> None:
    """An OCI image layout directory with gzip-compressed layers."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    descs = []
    for lf in layers:
        tmp = os.path.join(blobs, ".layer.tmp")
        with open(tmp, "wb") as raw:
            hw = _HashWriter(raw)
            with gzip.GzipFile(fileobj=hw, mode="wb", mtime=0, compresslevel=6) as gz, \
                    open(lf.path, "rb") as src:
                shutil.copyfileobj(src, gz, CHUNK)
        digest = hw.digest()
        os.replace(tmp, os.path.join(blobs, digest[7:]))
        descs.append({"mediaType": MT_LAYER_GZIP, "digest": digest, "size": hw.n})
    cfg_bytes = _compact(config)
    manifest = _oci_manifest(cfg_bytes, descs)
    for data in (cfg_bytes, manifest):
        with open(os.path.join(blobs, _blob_digest(data)[7:]), "wb") as f:
            f.write(data)
    desc = {"mediaType": MT_MANIFEST, "digest": _blob_digest(manifest), "size": len(manifest),
            "platform": _platform(config)}
    ann = _ref_annotations(tag)
    if ann:
        desc["annotations"] = ann
    with open(os.path.join(directory, "index.json"), "wb") as f:
        f.write(_compact({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [desc]}))
    with open(os.path.join(directory, "oci-layout"), "wb") as f:
        f.write(b'{"imageLayoutVersion":"1.0.0"}')
