"""The offline rewrite: the final filesystem streamed into one new layer.

Every layer is read once, in storage order, through `source.layer_streams`;
nothing is extracted. Entries keep their tar headers (mode with setuid/setgid/
sticky, owner, mtime, PAX records such as `SCHILY.xattr.security.capability`,
device numbers). Directories are written first, from the index, so every parent
precedes its children; bodies follow as their layers go by; hardlinks come last,
pointing at the name that carries their body (a surviving twin when the first
name was deleted or removed).

With `start > 0` (--keep-base) the layers below `start` are copied as they are
and the new layer is a diff over them: what the upper layers changed, plus a
whiteout for every base path the result no longer shows.
"""

from __future__ import annotations

import copy
import datetime
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field

from slimscope import stale
from slimscope.core.compose import compose, unpack
from slimscope.errors import BadInput
from slimscope.index.records import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    SYMLINK,
    TAR_KINDS,
    WH_OPAQUE,
    WH_PREFIX,
    clean_path,
    parent_of,
)
from slimscope.index.streams import CHUNK
from slimscope.slim.tarout import stream_writer

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

# PAX records that tarfile rebuilds from the TarInfo fields; stale copies would win.
_REBUILT_PAX = ("path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "hdrcharset")


class _HashWriter:
    """A write-only file that hashes and counts what passes through."""

    def __init__(self, f):
        self.f, self.sha, self.n = f, hashlib.sha256(), 0

    def write(self, b):
        self.f.write(b)
        self.sha.update(b)
        self.n += len(b)
        return len(b)

    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


class _Tee:
    """Reads through to `raw`, copying every byte to `sink` and hashing it."""

    def __init__(self, raw, sink):
        self.raw, self.out = raw, _HashWriter(sink)

    def read(self, n=-1):
        data = self.raw.read(n) if n is not None and n >= 0 else self.raw.read()
        if data:
            self.out.write(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass


@dataclass
class LayerFile:
    path: str       # an uncompressed layer tar on disk
    diff_id: str
    size: int


@dataclass
class Squashed:
    base: list                 # LayerFile per kept base layer
    layer: LayerFile           # the new layer
    entries: int = 0
    whiteouts: int = 0
    notes: list = field(default_factory=list)


def _members(tf, idx, what):
    """(entry number, TarInfo) for the tar members, numbered as the LayerIndex numbers them."""
    i = 0
    for ti in tf:
        name = ti.name
        base = name.rstrip("/").rsplit("/", 1)[-1]
        if base.startswith(WH_PREFIX):
            if base != WH_OPAQUE and base.startswith(WH_PREFIX + WH_PREFIX):
                continue
            yield i, ti
            i += 1
            continue
        kind = TAR_KINDS.get(ti.type)
        if kind is None:
            continue
        path = clean_path(name, what)
        if path == "/" and kind == DIR:
            continue
        if i >= len(idx.paths) or idx.paths[i] != path:
            raise BadInput(f"{what} is not what was analyzed a moment ago (at {path}); "
                           "did the image change?")
        yield i, ti
        i += 1


def _tarinfo(name: str, idx, i: int, kind: bytes) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name.lstrip("/"))
    ti.type = kind
    ti.mode, ti.uid, ti.gid, ti.mtime = idx.modes[i], idx.uids[i], idx.gids[i], idx.mtimes[i]
    return ti


def restamp(ti: tarfile.TarInfo, path: str, idx=None, i: int = 0) -> tarfile.TarInfo:
    """Give a read TarInfo a new name (and the metadata of entry i of idx, when given)."""
    for key in _REBUILT_PAX:
        ti.pax_headers.pop(key, None)
    ti.name = path.lstrip("/")
    if idx is not None:
        ti.mode, ti.uid, ti.gid, ti.mtime = idx.modes[i], idx.uids[i], idx.gids[i], idx.mtimes[i]
        ti.uname = ti.gname = ""
    if ti.type in (tarfile.AREGTYPE, tarfile.CONTTYPE):
        ti.type = tarfile.REGTYPE
    return ti


def _has_xattrs(ti: tarfile.TarInfo) -> bool:
    return any(k.startswith(("SCHILY.xattr.", "LIBARCHIVE.xattr.")) for k in ti.pax_headers)


def squash(analysis, plan, start: int, workdir: str) -> Squashed:
    """Write the new layer (and copies of the kept base layers) into workdir."""
    composed = analysis.composed
    layers = composed.layers
    image = analysis.image
    keep = {p: r for p, r in composed.final.items() if p not in plan.removed}
    upper = {p: r for p, r in keep.items() if (r >> 32) >= start}

    def kind_of(ref):
        li, i = unpack(ref)
        return layers[li].kinds[i]

    # Every content unit the new layer shows, the names it shows it under, and
    # the one name that carries the body (its own when that survives).
    names: dict = {}
    for p, r in upper.items():
        u = composed.unit_of(r)
        if u is not None:
            names.setdefault(u, []).append(p)
    body_name = {}
    for u, ps in names.items():
        li, i = unpack(u)
        own = layers[li].paths[i]
        body_name[u] = own if upper.get(own) == u else min(ps)
    wanted: dict = {}     # layer -> {entry: [paths to write it under]}
    for u, name in body_name.items():
        li, i = unpack(u)
        wanted.setdefault(li, {}).setdefault(i, []).append(name)
    dirs = []
    for p, r in upper.items():
        k = kind_of(r)
        li, i = unpack(r)
        if k in (SYMLINK, CHAR, BLOCK, FIFO):
            wanted.setdefault(li, {}).setdefault(i, []).append(p)
        elif k == DIR:
            dirs.append(p)
            wanted.setdefault(li, {}).setdefault(i, []).append(p)   # re-emitted only with xattrs

    whiteouts = []
    if start:
        base_final = compose(layers[:start]).final
        for p in base_final:
            if p in keep:
                continue
            parent = parent_of(p)
            if parent == "/" or (parent in keep and kind_of(keep[parent]) == DIR):
                whiteouts.append(p)

    out_path = os.path.join(workdir, "layer.tar")
    result = Squashed([], LayerFile(out_path, "", 0))
    with open(out_path, "wb") as raw:
        hw = _HashWriter(raw)
        with stream_writer(hw) as out:
            for p in sorted(dirs):
                li, i = unpack(upper[p])
                out.addfile(_tarinfo(p, layers[li], i, tarfile.DIRTYPE))
            for p in sorted(whiteouts):
                parent = parent_of(p)
                wh = (parent.rstrip("/") + "/" + WH_PREFIX + p.rsplit("/", 1)[1])
                ti = tarfile.TarInfo(wh.lstrip("/"))
                ti.mode = 0o644
                out.addfile(ti)
            written = len(dirs) + len(whiteouts)
            kept: dict = {}    # position -> copy; sources stream layers in their own order
            for positions, stream in image.source.layer_streams(image):
                spool = None
                if min(positions) < start:
                    pos = min(positions)
                    spool = open(os.path.join(workdir, f"base-{pos}.tar"), "wb")
                    stream = _Tee(stream, spool)
                todo: dict = {}
                for pos in positions:
                    for i, ps in wanted.get(pos, {}).items():
                        todo.setdefault(i, []).extend(ps)
                try:
                    if todo:
                        written += _copy_entries(stream, layers[positions[0]], todo, out, upper,
                                                 layers, f"layer {positions[0]}")
                    if spool is not None:
                        stream.drain()
                        spool.close()
                        diff_id = stream.out.digest()
                        if diff_id != layers[positions[0]].diff_id:
                            raise BadInput(f"layer {positions[0]} does not match its diff_id on "
                                           "the second read; did the image change?")
                        for pos in positions:
                            if pos < start:
                                kept[pos] = LayerFile(spool.name, diff_id, stream.out.n)
                finally:
                    if spool is not None and not spool.closed:
                        spool.close()
            result.base = [kept[pos] for pos in range(start)]
            # hardlinks last: their body is in the tar by now
            for u, ps in sorted(names.items(), key=lambda kv: body_name[kv[0]]):
                for p in sorted(ps):
                    if p == body_name[u]:
                        continue
                    li, i = unpack(upper[p])
                    ti = _tarinfo(p, layers[li], i, tarfile.LNKTYPE)
                    ti.linkname = body_name[u].lstrip("/")
                    out.addfile(ti)
                    written += 1
    result.layer = LayerFile(out_path, hw.digest(), hw.n)
    result.entries = written
    result.whiteouts = len(whiteouts)
    return result


def _copy_entries(stream, idx, todo: dict, out, upper: dict, layers, what: str) -> int:
    n = 0
    tf = tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape")
    for i, ti in _members(tf, idx, what):
        targets = todo.get(i)
        if not targets:
            continue
        first = targets[0]
        if ti.isdir():
            if _has_xattrs(ti):
                out.addfile(restamp(ti, first))
                n += 1
            continue
        if ti.isreg():
            li, j = unpack(upper[first])
            own = idx.paths[i] == first
            out.addfile(restamp(ti, first, None if own else layers[li], j), tf.extractfile(ti))
            n += 1
            for other in targets[1:]:
                li, j = unpack(upper[other])
                link = _tarinfo(other, layers[li], j, tarfile.LNKTYPE)
                link.linkname = first.lstrip("/")
                out.addfile(link)
                n += 1
            continue
        for p in targets:
            out.addfile(restamp(copy.copy(ti), p))
            n += 1
    return n


# -- the image around the layers ------------------------------------------------

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


def write_docker_archive(path: str, config: dict, layers: list, tags: list) -> None:
    """A `docker load`-able tar: manifest.json pointing into blobs/sha256 (the layout
    Docker 25 writes, which Docker 20 loads too), also a valid OCI archive."""
    cfg_bytes = _compact(config)
    descs = [{"mediaType": MT_LAYER, "digest": lf.diff_id, "size": lf.size} for lf in layers]
    manifest = _oci_manifest(cfg_bytes, descs)
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
        {"mediaType": MT_MANIFEST, "digest": _blob_digest(manifest), "size": len(manifest),
         "platform": _platform(config), **({"annotations": _ref_annotations(tags[0])} if tags
                                           else {})}]}
    docker_manifest = [{"Config": "blobs/sha256/" + _blob_digest(cfg_bytes)[7:],
                        "RepoTags": list(tags) or None,
                        "Layers": ["blobs/sha256/" + lf.diff_id[7:] for lf in layers]}]
    small = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": _compact(index),
             "manifest.json": _compact(docker_manifest)}

    def entry(name, size=0, kind=tarfile.REGTYPE, mode=0o644):
        ti = tarfile.TarInfo(name)
        ti.type, ti.size, ti.mode, ti.mtime = kind, size, mode, 0
        return ti

    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as out:
        out.addfile(entry("blobs", kind=tarfile.DIRTYPE, mode=0o755))
        out.addfile(entry("blobs/sha256", kind=tarfile.DIRTYPE, mode=0o755))
        done = set()
        for lf in layers:
            if lf.diff_id in done:
                continue
            done.add(lf.diff_id)
            with open(lf.path, "rb") as f:
                out.addfile(entry("blobs/sha256/" + lf.diff_id[7:], lf.size), f)
        for data in (cfg_bytes, manifest):
            out.addfile(entry("blobs/sha256/" + _blob_digest(data)[7:], len(data)),
                        _bytes_io(data))
        for name, data in small.items():
            out.addfile(entry(name, len(data)), _bytes_io(data))


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


def workdir_near(path: str | None) -> tempfile.TemporaryDirectory:
    """A scratch directory next to the output (same filesystem), else in $TMPDIR."""
    where = os.path.dirname(os.path.abspath(path)) if path else None
    try:
        stale.sweep(where or tempfile.gettempdir())
        return tempfile.TemporaryDirectory(prefix=stale.prefix("work"), dir=where)
    except OSError as e:
        raise BadInput(f"cannot write next to {path}: {e.strerror}") from None
