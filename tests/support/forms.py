"""Every on-disk form an image can be handed over in: `docker save` (plain and
gzip'd), OCI layouts and archives with gzip or zstd layers (via skopeo), and the
layout Docker >= 25 writes for `docker save`, re-packed from a legacy one.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.support.engine import _need_client


def _write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _save_stream(image_ref: str):
    return _need_client().api.get_image(image_ref, chunk_size=1 << 20)


def save_archive(image_ref: str, path) -> Path:
    """`docker save image_ref > path` (Debian's 20.10: the legacy layout)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            for chunk in _save_stream(image_ref):
                fh.write(chunk)
    return _write_atomically(Path(path), write)


def save_gzip(image_ref: str, path) -> Path:
    """`docker save image_ref | gzip > path` (gzip header without a timestamp)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for chunk in _save_stream(image_ref):
                gz.write(chunk)
    return _write_atomically(Path(path), write)


def _skopeo(image_ref: str, dest: str, compression: str) -> None:
    if compression not in ("gzip", "zstd"):
        raise ValueError(f"compression must be gzip or zstd, not {compression!r}")
    if shutil.which("skopeo") is None:
        raise RuntimeError("skopeo is not installed (apt-get install skopeo)")
    cmd = ["skopeo", "copy", "--quiet", "--insecure-policy",
           "--dest-compress-format", compression]
    if os.environ.get("DOCKER_HOST"):  # skopeo does not read DOCKER_HOST itself
        cmd += ["--src-daemon-host", os.environ["DOCKER_HOST"]]
    cmd += [f"docker-daemon:{image_ref}", dest]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


def oci_layout(image_ref: str, dir, compression: str = "gzip") -> Path:
    """An OCI layout directory (tag ``latest``) with gzip or zstd layers, via skopeo.
    An existing `dir` is replaced."""
    dest = Path(dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _skopeo(image_ref, f"oci:{tmp}:latest", compression)
        os.chmod(tmp, 0o755)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def oci_archive(image_ref: str, path, compression: str = "gzip") -> Path:
    """An OCI archive (a tar of an OCI layout, tag ``latest``), via skopeo."""
    def write(tmp: Path) -> None:
        tmp.unlink()  # skopeo wants to create the file itself
        _skopeo(image_ref, f"oci-archive:{tmp}:latest", compression)
    return _write_atomically(Path(path), write)


# --------------------------------------------------------------------------- #
# The Docker >= 25 `docker save` layout, made from a legacy one
# --------------------------------------------------------------------------- #

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def full_reference(familiar: str) -> str:
    """``name:tag`` as containerd spells it (``docker.io/library/name:tag``)."""
    name, _, tag = familiar.rpartition(":")
    if not name or "/" in tag:
        name, tag = familiar, "latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    return f"{name}:{tag}"


def repack_docker25(legacy_save_tar, out_path) -> Path:
    """Re-pack a legacy `docker save` archive (``<id>/layer.tar``, ``<id>.json``,
    ``manifest.json``, ``repositories``) the way Docker >= 25 writes it: an OCI
    layout (``oci-layout``, ``index.json``, ``blobs/sha256/*``: config, OCI
    manifest with uncompressed ``layer.v1.tar`` layers whose digest is the
    diff_id, the layers, and the per-layer v1 json blobs Docker keeps writing)
    plus a ``manifest.json`` and ``repositories`` that point into ``blobs/``.

    Entries are written in lexical order, as Docker's walk does, so layer
    blobs come before ``manifest.json`` in the stream.
    """
    legacy_save_tar, out_path = Path(legacy_save_tar), Path(out_path)
    with tarfile.open(legacy_save_tar, "r:*") as src:
        members = {m.name.lstrip("./"): m for m in src.getmembers()}

        def read(name: str) -> bytes:
            f = src.extractfile(members[name])
            assert f is not None
            return f.read()

        def sha_of(name: str) -> tuple[str, int]:
            # Counted, not taken from the header: engine 20.10 writes the
            # layer.tar of a repeated diff_id as a symlink to the first one.
            h, size = hashlib.sha256(), 0
            f = src.extractfile(members[name])
            assert f is not None
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
            return h.hexdigest(), size

        legacy_manifest = json.loads(read("manifest.json"))
        blobs: dict[str, tuple[str, int]] = {}  # hex -> (legacy member name, size)
        new_manifest, index_manifests, repositories = [], [], {}
        small_blobs: dict[str, bytes] = {}

        for item in legacy_manifest:
            config = read(item["Config"])
            config_hex = hashlib.sha256(config).hexdigest()
            small_blobs[config_hex] = config
            cfg = json.loads(config)
            layer_descs, layer_paths = [], []
            for lname in item["Layers"]:
                hexd, size = sha_of(lname)
                blobs.setdefault(hexd, (lname, size))
                layer_descs.append({"mediaType": MT_LAYER, "digest": f"sha256:{hexd}", "size": size})
                layer_paths.append(f"blobs/sha256/{hexd}")
                v1json = lname.rsplit("/", 1)[0] + "/json"
                if v1json in members:
                    data = read(v1json)
                    small_blobs[hashlib.sha256(data).hexdigest()] = data
            platform = {"architecture": cfg.get("architecture", "amd64"), "os": cfg.get("os", "linux")}
            if cfg.get("variant"):
                platform["variant"] = cfg["variant"]
            manifest = _compact({
                "schemaVersion": 2,
                "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": f"sha256:{config_hex}",
                           "size": len(config), "platform": platform},
                "layers": layer_descs,
            })
            manifest_hex = hashlib.sha256(manifest).hexdigest()
            small_blobs[manifest_hex] = manifest
            tags = item.get("RepoTags") or []
            for familiar in tags:
                ref = full_reference(familiar)
                index_manifests.append({
                    "mediaType": MT_MANIFEST, "digest": f"sha256:{manifest_hex}",
                    "size": len(manifest), "platform": platform,
                    "annotations": {"io.containerd.image.name": ref,
                                    "org.opencontainers.image.ref.name": ref.rpartition(":")[2]},
                })
                name, _, tag = familiar.rpartition(":")
                top = layer_descs[-1]["digest"].split(":", 1)[1] if layer_descs else ""
                repositories.setdefault(name, {})[tag] = top
            if not tags:
                index_manifests.append({"mediaType": MT_MANIFEST, "digest": f"sha256:{manifest_hex}",
                                        "size": len(manifest), "platform": platform})
            new_manifest.append({"Config": f"blobs/sha256/{config_hex}", "RepoTags": tags or None,
                                 "Layers": layer_paths})

        top_files: dict[str, bytes] = {
            "index.json": _compact({"schemaVersion": 2, "mediaType": MT_INDEX,
                                    "manifests": index_manifests}),
            "manifest.json": _compact(new_manifest) + b"\n",
            "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        }
        if repositories:
            top_files["repositories"] = _compact(repositories) + b"\n"

        def write(tmp: Path) -> None:
            with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as out:
                def entry(name: str, kind: bytes, size: int = 0, mode: int = 0o644) -> tarfile.TarInfo:
                    ti = tarfile.TarInfo(name)
                    ti.type, ti.size, ti.mode, ti.mtime = kind, size, mode, 0
                    return ti
                out.addfile(entry("blobs/", tarfile.DIRTYPE, mode=0o755))
                out.addfile(entry("blobs/sha256/", tarfile.DIRTYPE, mode=0o755))
                for hexd in sorted(set(blobs) | set(small_blobs)):
                    if hexd in small_blobs:
                        data = small_blobs[hexd]
                        out.addfile(entry(f"blobs/sha256/{hexd}", tarfile.REGTYPE, len(data)),
                                    io.BytesIO(data))
                    else:
                        lname, size = blobs[hexd]
                        out.addfile(entry(f"blobs/sha256/{hexd}", tarfile.REGTYPE, size),
                                    src.extractfile(members[lname]))
                for name in sorted(top_files):
                    data = top_files[name]
                    out.addfile(entry(name, tarfile.REGTYPE, len(data)), io.BytesIO(data))

        return _write_atomically(out_path, write)
