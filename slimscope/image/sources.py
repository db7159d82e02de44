"""Turn what the user named into an image: its config and its ordered, indexed layers.

Every tar-shaped source (a `docker save` archive in either layout, the same
gzip-compressed, an OCI archive, and the engine's own save stream) is read in a
single forward pass: small JSON blobs are kept, every tar-like blob is indexed as
it goes by, and the manifest is resolved at the end. Nothing is written to disk.
An OCI layout directory is read blob by blob, which lets the cache skip work.

Where each layer blob can be read on its own (an OCI layout's blob files, the
members of a plain archive file), big images are indexed in worker processes
(slimscope.index.parallel), with the result and the errors of the one-pass reading.
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
import json
import os
import platform as _platform
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from typing import IO, Callable, Iterator, Optional

from slimscope.index import parallel
from slimscope.engine import engine_client, short_error
from slimscope.errors import BadInput
from slimscope.index.layerindex import (CHUNK, HashingReader, IndexCache, LayerIndex, decompressed,
                                  index_blob, sniff)

SMALL_BLOB = 8 << 20  # JSON blobs (configs, manifests, indexes) are far below this

Progress = Optional[Callable[[int, Optional[int]], None]]  # (bytes done, bytes total or None)


@dataclass
class Layer:
    position: int
    digest: str            # the blob as stored
    diff_id: str           # sha256 of the uncompressed tar
    media_type: str
    stored_bytes: int      # the blob's size as stored
    compressed: bool       # whether the stored blob is gzip/zstd
    index: LayerIndex
    member: str = ""       # where the blob lives in its source (archive member or blob path)

    @property
    def size(self) -> int:
        return self.index.tar_bytes


@dataclass
class Image:
    reference: str
    id: str
    config: dict
    layers: list
    source: "Source" = field(repr=False)

    @property
    def os(self) -> str:
        return self.config.get("os", "")

    @property
    def architecture(self) -> str:
        return self.config.get("architecture", "")


@dataclass
class Options:
    hash_contents: bool = True
    image: Optional[str] = None        # which image of a multi-image archive
    platform: Optional[str] = None     # os/arch[/variant] for multi-platform indexes
    cache: Optional[IndexCache] = None
    progress: Progress = None


def host_platform() -> str:
    machine = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "armv7l": "arm", "i686": "386", "i386": "386", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(machine, machine)
    return f"linux/{arch}"


def _json(data: bytes, what: str) -> dict:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{what} is not valid JSON ({e})") from None
    if not isinstance(doc, (dict, list)):
        raise BadInput(f"{what} is not a JSON object")
    return doc


def _hex(digest: str, what: str) -> str:
    algo, _, hexpart = (digest or "").partition(":")
    if algo != "sha256" or len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        raise BadInput(f"{what} names an unsupported or malformed digest: {digest!r}")
    return hexpart


# -- manifest resolution, shared by every source ---------------------------------

@dataclass
class Resolved:
    reference: str
    config_digest: str
    config: dict
    layer_keys: list   # per layer: the key its blob is stored under (member name or digest)
    layer_digests: list  # per layer: the blob digest the manifest claims, or "" if none
    media_types: list


def _platform_str(p: dict) -> str:
    s = f"{p.get('os', '?')}/{p.get('architecture', '?')}"
    return s + (f"/{p['variant']}" if p.get("variant") else "")


def _platform_matches(p: dict, want: str) -> bool:
    parts = want.split("/")
    if len(parts) < 2:
        raise BadInput(f"--platform wants OS/ARCH[/VARIANT], got {want!r}")
    if p.get("os") != parts[0] or p.get("architecture") != parts[1]:
        return False
    return len(parts) < 3 or p.get("variant", "") == parts[2]


def _ref_names(desc: dict) -> list:
    """The names one descriptor carries, the fullest first (containerd's, then the tag)."""
    ann = desc.get("annotations") or {}
    return [ann[k] for k in ("io.containerd.image.name", "org.opencontainers.image.ref.name")
            if isinstance(ann.get(k), str) and ann[k]]


def _matches_ref(names, want: str) -> bool:
    for n in names:
        if n == want or n.endswith("/" + want) or n == want + ":latest" or n.endswith(":" + want):
            return True
    return False


def resolve_oci(read_blob: Callable[[str], bytes], index: dict, opts: Options,
                where: str) -> Resolved:
    """Walk an OCI index down to one image manifest (by --image and --platform)."""
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise BadInput(f"{where}: index.json lists no manifests")
    candidates = manifests
    if opts.image:
        candidates = [m for m in manifests if _matches_ref(_ref_names(m), opts.image)]
        if not candidates:
            names = sorted({n for m in manifests for n in _ref_names(m)}) or ["(unnamed)"]
            raise BadInput(f"{where}: no image {opts.image!r} here; it holds: {', '.join(names)}")
    named = [m for m in candidates if _ref_names(m)]
    if len({m.get("digest") for m in named}) > 1 and not opts.image:
        names_seen = sorted({_ref_names(m)[0] for m in named})
        raise BadInput(f"{where} holds several images, pick one with --image: {', '.join(names_seen)}")
    reference = _ref_names(named[0])[0] if named else where
    return _descend(read_blob, candidates, opts, where, reference, depth=0)


def _descend(read_blob, descs, opts, where, reference, depth) -> Resolved:
    if depth > 4:
        raise BadInput(f"{where}: image indexes nest too deep")
    with_platform = [d for d in descs if isinstance(d.get("platform"), dict)]
    if with_platform:
        want = opts.platform or host_platform()
        fits = [d for d in with_platform if _platform_matches(d["platform"], want)]
        if not fits:
            have = ", ".join(sorted({_platform_str(d["platform"]) for d in with_platform
                                     if d["platform"].get("os") != "unknown"}))
            raise BadInput(f"{where}: no manifest for platform {want}; it has: {have}")
        desc = fits[0]
    else:
        if len(descs) > 1:
            raise BadInput(f"{where} holds {len(descs)} manifests with no names or platforms to "
                           "choose by")
        desc = descs[0]
    mt = desc.get("mediaType", "")
    doc = _json(read_blob(desc.get("digest", "")), f"{where}: manifest {desc.get('digest')}")
    if "index" in mt or "manifest.list" in mt or ("manifests" in doc and "layers" not in doc):
        return _descend(read_blob, doc.get("manifests") or [], opts, where, reference, depth + 1)
    layers = doc.get("layers")
    cfg_desc = doc.get("config") or {}
    if not isinstance(layers, list) or "digest" not in cfg_desc:
        raise BadInput(f"{where}: manifest {desc.get('digest')} is not an image manifest")
    config = _json(read_blob(cfg_desc["digest"]), f"{where}: config {cfg_desc['digest']}")
    return Resolved(reference, cfg_desc["digest"], config,
                    [ld.get("digest", "") for ld in layers],
                    [ld.get("digest", "") for ld in layers],
                    [ld.get("mediaType", "") for ld in layers])


def resolve_docker_manifest(manifest: list, blobs: dict, opts: Options, where: str) -> Resolved:
    """`docker save`'s manifest.json (both the legacy and the Docker >= 25 layout)."""
    if not isinstance(manifest, list) or not manifest:
        raise BadInput(f"{where}: manifest.json lists no images")
    chosen = manifest
    if opts.image:
        chosen = [m for m in manifest if _matches_ref(m.get("RepoTags") or [], opts.image)
                  or (m.get("Config", "").split("/")[-1].split(".")[0].startswith(
                      opts.image.replace("sha256:", "")))]
        if not chosen:
            tags = sorted(t for m in manifest for t in (m.get("RepoTags") or [])) or ["(untagged)"]
            raise BadInput(f"{where}: no image {opts.image!r} here; it holds: {', '.join(tags)}")
    if len(chosen) > 1:
        tags = [", ".join(m.get("RepoTags") or []) or m.get("Config", "?") for m in chosen]
        raise BadInput(f"{where} holds several images, pick one with --image: {'; '.join(tags)}")
    m = chosen[0]
    cfg_name = m.get("Config", "")
    if cfg_name not in blobs:
        raise BadInput(f"{where}: manifest.json names a config that is missing: {cfg_name}")
    config = _json(blobs[cfg_name], f"{where}: {cfg_name}")
    cfg_digest = "sha256:" + hashlib.sha256(blobs[cfg_name]).hexdigest()
    layer_names = m.get("Layers") or []
    tags = m.get("RepoTags") or []
    return Resolved(tags[0] if tags else where, cfg_digest, config, list(layer_names),
                    ["" for _ in layer_names], ["" for _ in layer_names])


# -- sources -------------------------------------------------------------------

class Source:
    reference: str
    where: str

    def load(self, opts: Options) -> Image:
        raise NotImplementedError

    def layer_streams(self, image: Image) -> Iterator[tuple]:
        """Yield (positions, uncompressed tar stream) for every layer blob, in storage order."""
        raise NotImplementedError


def _check_diff_ids(res: Resolved, indexes: list, where: str):
    diff_ids = ((res.config.get("rootfs") or {}).get("diff_ids")) or []
    if len(diff_ids) != len(indexes):
        raise BadInput(f"{where}: the config lists {len(diff_ids)} layers but the manifest "
                       f"{len(indexes)}")
    for pos, (want, idx) in enumerate(zip(diff_ids, indexes)):
        if idx.diff_id and want != idx.diff_id:
            raise BadInput(f"{where}: layer {pos} does not match its diff_id "
                           f"(config says {want}, content is {idx.diff_id})")


class _Counter(io.RawIOBase):
    """Counts bytes read from the outer file, for progress."""

    def __init__(self, raw, progress: Progress, total: Optional[int]):
        self.raw, self.progress, self.total, self.done, self._last = raw, progress, total, 0, 0

    def readable(self):
        return True

    def readinto(self, b):
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.done += n
        if self.progress and (self.done - self._last >= (4 << 20) or n == 0):
            self._last = self.done
            self.progress(self.done, self.total)
        return n


class _Range(io.RawIOBase):
    """Bytes [offset, offset + size) of a file: one archive member, read by a worker."""

    def __init__(self, f, offset: int, size: int):
        self.f, self.left = f, size
        f.seek(offset)

    def readable(self):
        return True

    def readinto(self, b):
        n = self.f.readinto(memoryview(b)[:min(len(b), self.left)]) if self.left else 0
        self.left -= n
        return n


def _cached(cache: Optional[IndexCache], key: str) -> bool:
    # Cached layers only need hashing, which is no reason to start worker processes.
    return cache is not None and cache.has(key)


def _corrupt(where: str, e: Exception) -> BadInput:
    return BadInput(f"{where} is truncated or corrupt ({str(e) or type(e).__name__})")


def _index_member(name, reader, kind, hash_contents, cache):
    """Index one layer member of an archive (or take it from the cache)."""
    key = _digest_from_name(name)
    if key and cache is not None:
        hit = cache.get(key, hash_contents)
        if hit is not None:
            h = HashingReader(reader)
            h.drain()
            if h.hexdigest() == key:
                return hit, key, h.count, kind
    idx, digest, size, kind = index_blob(reader, hash_contents, what=f"layer {name}")
    if cache is not None:
        cache.put({digest, idx.diff_id}, idx)
    return idx, digest, size, kind


def _index_member_job(where, path, name, offset, size, kind, hash_contents, cache):
    """Worker: _index_member over a byte range of the archive file; errors read as in _scan.

    The index goes back pickled: its columns are lists and arrays, which pickle
    several times faster than LayerIndex.dumps() compresses them.
    """
    try:
        with open(path, "rb") as f:
            reader = io.BufferedReader(_Range(f, offset, size), CHUNK)
            idx, digest, got, kind = _index_member(name, reader, kind, hash_contents, cache)
    except BadInput:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise _corrupt(where, e) from None
    return idx, digest, got, kind


# gzip, bzip2, xz: an archive file read through a decompressor
COMPRESSED_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ")


def _link_target(name: str, ti: tarfile.TarInfo) -> str:
    """Where an archive member that is a link points, as a member name."""
    target = ti.linkname if ti.islnk() else posixpath.normpath(
        posixpath.join(posixpath.dirname(name), ti.linkname))
    return target.lstrip("/")


class TarStreamSource(Source):
    """Anything that reads as one tar stream of an image archive."""

    def open_stream(self) -> IO[bytes]:
        raise NotImplementedError

    def total_bytes(self) -> Optional[int]:
        return None

    def _scan(self, opts: Options):
        """One pass over the archive. Returns (small blobs by name, layer results by name, links)."""
        blobs: dict = {}
        layers: dict = {}
        links: dict = {}
        cache = opts.cache
        raw = self.open_stream()
        counted = io.BufferedReader(_Counter(raw, opts.progress, self.total_bytes()), CHUNK)
        try:
            try:
                # Big reads for a plain archive (few headers, long bodies); tarfile's small
                # default for a compressed one, whose every read is inflated in one piece.
                plain = not counted.peek(6)[:6].startswith(COMPRESSED_MAGIC)
                tf = tarfile.open(fileobj=counted, mode="r|*",
                                  bufsize=CHUNK if plain else tarfile.RECORDSIZE)
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise BadInput(f"{self.where} is not an image archive (not a tar: {e})") from None
            try:
                for ti in tf:
                    name = posixpath.normpath(ti.name).lstrip("/")
                    if name.startswith("../"):
                        raise BadInput(f"{self.where}: member {ti.name!r} climbs out with '..'")
                    if ti.issym() or ti.islnk():
                        links[name] = _link_target(name, ti)
                        continue
                    if not ti.isreg():
                        continue
                    f = tf.extractfile(ti)
                    head = f.peek(512)[:512] if hasattr(f, "peek") else b""
                    reader = f
                    if not head:
                        reader = io.BufferedReader(f, CHUNK)
                        head = reader.peek(512)[:512]
                    kind = sniff(head)
                    if kind in ("gzip", "zstd", "tar"):
                        layers[name] = _index_member(name, reader, kind, opts.hash_contents,
                                                     cache)
                    elif ti.size <= SMALL_BLOB:
                        data = reader.read()
                        if len(data) != ti.size:
                            raise BadInput(f"{self.where} is truncated (inside {name})")
                        blobs[name] = data
            except BadInput:
                raise
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise _corrupt(self.where, e) from None
        finally:
            raw.close()
        return blobs, layers, links

    def load(self, opts: Options) -> Image:
        blobs, layers, links = self._scan(opts)
        res = self._resolve(blobs, links, opts)
        ordered = []
        for pos, key in enumerate(res.layer_keys):
            name = self._member_for(key, links)
            if name not in layers:
                raise BadInput(f"{self.where}: layer {pos} ({key}) is missing from the archive")
            idx, digest, size, kind = layers[name]
            claimed = _digest_from_name(name)
            if claimed and claimed != digest:
                raise BadInput(f"{self.where}: blob {name} does not match its sha256 digest")
            if res.layer_digests[pos] and res.layer_digests[pos] != digest:
                raise BadInput(f"{self.where}: layer {pos} does not match the manifest's digest "
                               f"{res.layer_digests[pos]}")
            ordered.append(Layer(pos, digest, idx.diff_id, res.media_types[pos] or
                                 _media_type(kind), size, kind != "tar", idx, name))
        _check_diff_ids(res, [l.index for l in ordered], self.where)
        return Image(self.reference or _qualified(res.reference, self.where),
                     res.config_digest, res.config, ordered, self)

    def _member_for(self, key: str, links: dict) -> str:
        name = key.lstrip("/")
        if key.startswith("sha256:"):
            name = "blobs/sha256/" + key.split(":", 1)[1]
        seen = 0
        while name in links and seen < 8:
            name = posixpath.normpath(links[name])
            seen += 1
        return name

    def _resolve(self, blobs: dict, links: dict, opts: Options) -> Resolved:
        for name, target in links.items():
            if name not in blobs and target in blobs:
                blobs[name] = blobs[target]
        if "manifest.json" in blobs:
            manifest = _json(blobs["manifest.json"], f"{self.where}: manifest.json")
            # Docker >= 25 names blobs by digest: check what can be checked.
            for name, data in blobs.items():
                claimed = _digest_from_name(name)
                if claimed and claimed != "sha256:" + hashlib.sha256(data).hexdigest():
                    raise BadInput(f"{self.where}: blob {name} does not match its sha256 digest")
            return resolve_docker_manifest(manifest, blobs, opts, self.where)
        if "index.json" in blobs:
            def read_blob(digest: str) -> bytes:
                name = "blobs/sha256/" + _hex(digest, self.where)
                if name not in blobs:
                    raise BadInput(f"{self.where}: blob {digest} is missing from the archive")
                data = blobs[name]
                if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                    raise BadInput(f"{self.where}: blob {digest} does not match its sha256 digest")
                return data
            return resolve_oci(read_blob, _json(blobs["index.json"], f"{self.where}: index.json"),
                               opts, self.where)
        raise BadInput(f"{self.where} is not an image archive (no manifest.json or index.json)")

    def layer_streams(self, image: Image):
        """Re-read the archive and hand out each layer's uncompressed tar in storage order."""
        positions: dict = {}
        for layer in image.layers:
            positions.setdefault(layer.member, []).append(layer.position)
        raw = self.open_stream()
        try:
            tf = tarfile.open(fileobj=io.BufferedReader(raw, CHUNK), mode="r|*")
            for ti in tf:
                name = posixpath.normpath(ti.name).lstrip("/")
                if not ti.isreg() or name not in positions:
                    continue
                buffered = io.BufferedReader(tf.extractfile(ti), CHUNK)
                yield positions[name], decompressed(buffered, sniff(buffered.peek(512)[:512]))
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise BadInput(f"{self.where} is truncated or corrupt ({e})") from None
        finally:
            raw.close()


def _qualified(reference: str, where: str) -> str:
    """OCI layouts often name an image by a bare tag ("latest"): say where it lives too."""
    if reference and reference != where and "/" not in reference and ":" not in reference:
        return f"{where}:{reference}"
    return reference


def _digest_from_name(name: str) -> str:
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] == "sha256" and len(parts[2]) == 64:
        return "sha256:" + parts[2]
    return ""


def _media_type(kind: str) -> str:
    return {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}.get(
        kind, "application/vnd.oci.image.layer.v1.tar")


class ArchiveSource(TarStreamSource):
    """`docker save` archives (legacy or OCI layout), gzip-compressed too, and OCI archives."""

    def __init__(self, path: str, reference: str = ""):
        self.path = path
        self.where = path
        self.reference = reference

    def open_stream(self):
        try:
            return open(self.path, "rb")
        except OSError as e:
            raise BadInput(f"cannot read {self.path}: {e.strerror}") from None

    def total_bytes(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return None

    def _scan(self, opts: Options):
        """A plain archive file can be read at any offset: index its layers in parallel."""
        plan = self._plan()
        if plan is None:
            return super()._scan(opts)
        blobs, links, members, file_size = plan
        layer_bytes = sum(m[2] for m in members)
        jobs = parallel.jobs_for(len(members), sum(
            m[2] for m in members if not _cached(opts.cache, _digest_from_name(m[0]))))
        if jobs == 1:
            return super()._scan(opts)
        done = [file_size - layer_bytes]  # everything but the layer bodies is read already

        def on_done(i, result):
            done[0] += members[i][2]
            if opts.progress:
                opts.progress(done[0], file_size)

        tasks = [(self.where, self.path, name, offset, size, kind, opts.hash_contents, opts.cache)
                 for name, offset, size, kind in members]
        results = parallel.run_ordered(_index_member_job, tasks, jobs, on_done,
                                       [m[2] for m in members])
        return blobs, {m[0]: r for m, r in zip(members, results)}, links

    def _plan(self):
        """List a plain archive by its headers alone (tarfile seeks past bodies).

        Returns (small blobs, links, layer members as (name, offset, size, kind), file
        size), or None when anything is unusual (compressed, truncated, names that
        climb out, repeated or sparse members): the one-pass scan then handles it and
        says what is wrong exactly as it always has.
        """
        blobs, links, members, seen = {}, {}, [], set()
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if f.read(6).startswith(COMPRESSED_MAGIC):
                    return None
                f.seek(0)
                tf = tarfile.open(fileobj=f, mode="r:")
                for ti in tf:
                    name = posixpath.normpath(ti.name).lstrip("/")
                    if name.startswith("../") or name in seen or ti.issparse():
                        return None
                    seen.add(name)
                    if ti.issym() or ti.islnk():
                        links[name] = _link_target(name, ti)
                        continue
                    if not ti.isreg():
                        continue
                    if ti.offset_data + ti.size > size:
                        return None
                    f.seek(ti.offset_data)
                    kind = sniff(f.read(min(ti.size, 512)))
                    if kind in ("gzip", "zstd", "tar"):
                        members.append((name, ti.offset_data, ti.size, kind))
                    elif ti.size <= SMALL_BLOB:
                        f.seek(ti.offset_data)
                        blobs[name] = f.read(ti.size)
        except (tarfile.TarError, OSError, EOFError, ValueError):
            return None
        return blobs, links, members, size


class OCIDirSource(Source):
    """An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`)."""

    def __init__(self, path: str, reference: str = ""):
        self.path = path
        self.where = path
        self.reference = reference

    def _blob_path(self, digest: str) -> str:
        return os.path.join(self.path, "blobs", "sha256", _hex(digest, self.where))

    def read_blob(self, digest: str) -> bytes:
        p = self._blob_path(digest)
        try:
            with open(p, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise BadInput(f"{self.where}: blob {digest} is missing") from None
        except OSError as e:
            raise BadInput(f"{self.where}: cannot read blob {digest}: {e.strerror}") from None
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise BadInput(f"{self.where}: blob {digest} does not match its sha256 digest")
        return data

    def load(self, opts: Options) -> Image:
        try:
            with open(os.path.join(self.path, "index.json"), "rb") as f:
                index = _json(f.read(), f"{self.where}/index.json")
        except FileNotFoundError:
            raise BadInput(f"{self.where} is not an OCI layout (no index.json)") from None
        res = resolve_oci(self.read_blob, index, opts, self.where)
        sizes = []
        for d in res.layer_digests:
            try:
                sizes.append(os.path.getsize(self._blob_path(d)))
            except OSError:
                sizes.append(0)
        total = sum(sizes)
        done = 0
        layers = []
        tasks = [(self.where, pos, digest, self._blob_path(digest), opts.hash_contents, opts.cache)
                 for pos, digest in enumerate(res.layer_digests)]
        jobs = parallel.jobs_for(len(tasks), sum(
            size for size, digest in zip(sizes, res.layer_digests)
            if not _cached(opts.cache, digest)))
        if jobs > 1:
            def on_done(pos, result):
                nonlocal done
                done += result[1]
                if opts.progress:
                    opts.progress(done, total)
            results = parallel.run_ordered(_oci_layer, tasks, jobs, on_done, sizes)
        elif len(tasks) > 1 and all(_cached(opts.cache, digest) for digest in res.layer_digests):
            # Every index is cached: what is left is checking each blob's digest, which
            # hashlib does without the GIL, so threads overlap it with loading the indexes.
            with ThreadPoolExecutor(min(len(tasks), os.cpu_count() or 1)) as ex:
                results = list(ex.map(lambda task: _oci_layer(*task), tasks))
            if opts.progress:
                opts.progress(total, total)
        else:
            results = []
            for task in tasks:
                progress = (lambda d, t, base=done: opts.progress(base + d, total)) \
                    if opts.progress else None
                results.append(_oci_layer(*task, progress))
                done += results[-1][1]
        for (_, pos, digest, p, _, _), (idx, size, kind) in zip(tasks, results):
            layers.append(Layer(pos, digest, idx.diff_id, res.media_types[pos], size,
                                kind != "tar", idx, p))
        _check_diff_ids(res, [l.index for l in layers], self.where)
        return Image(self.reference or _qualified(res.reference, self.where), res.config_digest,
                     res.config, layers, self)

    def layer_streams(self, image: Image):
        for layer in image.layers:
            f = open(layer.member, "rb")
            buffered = io.BufferedReader(f, CHUNK)
            yield [layer.position], decompressed(buffered, sniff(buffered.peek(512)[:512]))


def _oci_layer(where, pos, digest, p, hash_contents, cache, progress=None):
    """Index one layer blob of an OCI layout (or take it from the cache): (index, size, kind)."""
    try:
        f = open(p, "rb")
    except FileNotFoundError:
        raise BadInput(f"{where}: layer {pos} blob {digest} is missing") from None
    with f:
        reader = io.BufferedReader(_Counter(f, progress, None), CHUNK)
        hit = cache.get(digest, hash_contents) if cache is not None else None
        if hit is not None:
            h = HashingReader(reader)
            h.drain()
            if h.hexdigest() != digest:
                raise BadInput(f"{where}: blob {digest} does not match its sha256 digest")
            with open(p, "rb") as head:
                return hit, h.count, sniff(head.read(512))
        idx, got, size, kind = index_blob(reader, hash_contents,
                                          what=f"layer {pos} ({digest[:19]})")
        if got != digest:
            raise BadInput(f"{where}: blob {digest} does not match its sha256 digest")
        if cache is not None:
            cache.put({digest, idx.diff_id}, idx)
    return idx, size, kind


class IterStream(io.RawIOBase):
    """A file over an iterator of byte chunks (the engine's save stream)."""

    def __init__(self, chunks, on_close=None):
        self._it = iter(chunks)
        self._buf = b""
        self._on_close = on_close

    def readable(self):
        return True

    def readinto(self, b):
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self):
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
        super().close()


class DaemonSource(TarStreamSource):
    """An image in the local Docker engine, streamed through `docker save`."""

    def __init__(self, ref: str, bare: bool = False):
        self.ref = ref
        self.bare = bare  # named without a prefix: it may as well have been a mistyped path
        self.reference = ref
        self.where = f"docker-daemon:{ref}"
        self._client = None
        self._size = None
        self._engine_id = None

    def client(self):
        if self._client is None:
            try:
                self._client = engine_client()
            except EngineUnavailable as e:
                if self.bare:
                    raise EngineUnavailable(f"{self.ref!r} is not a file or directory, and {e} "
                                            "to look it up as an image") from None
                raise
        return self._client

    def inspect(self) -> dict:
        import docker
        try:
            img = self.client().images.get(self.ref)
        except docker.errors.ImageNotFound:
            raise BadInput(f"no image {self.ref!r} in the Docker engine") from None
        except docker.errors.APIError as e:
            raise BadInput(f"the Docker engine refused {self.ref!r}: {short_error(e)}") from None
        self._size = img.attrs.get("Size")
        self._engine_id = img.id
        return img.attrs

    def open_stream(self):
        self.inspect()
        try:
            resp = self.client().api.get_image(self._engine_id)
        except Exception as e:
            raise BadInput(f"the Docker engine could not save {self.ref!r}: {short_error(e)}") from None
        return IterStream(resp, getattr(resp, "close", None))

    def total_bytes(self):
        return self._size


def open_source(name: str) -> Source:
    """Auto-detect a source; skopeo-style prefixes force one."""
    prefix, sep, rest = name.partition(":")
    if sep and prefix in ("docker-archive", "oci-archive"):
        path = _strip_ref_suffix(rest)
        if not os.path.isfile(path):
            raise BadInput(f"no such archive: {path}")
        return ArchiveSource(path)
    if sep and prefix == "oci":
        path = _strip_ref_suffix(rest)
        if not os.path.isdir(path):
            raise BadInput(f"no such OCI layout directory: {path}")
        return OCIDirSource(path)
    if sep and prefix in ("docker-daemon", "docker"):
        return DaemonSource(rest.lstrip("/"))
    if os.path.isdir(name):
        return OCIDirSource(name)
    if os.path.exists(name):
        if not os.path.isfile(name):
            raise BadInput(f"{name} is neither an archive nor an OCI layout directory")
        return ArchiveSource(name)
    if "/" in name and (name.startswith((".", "/")) or name.endswith((".tar", ".tgz", ".gz"))):
        raise BadInput(f"no such file: {name}")
    return DaemonSource(name, bare=True)


def _strip_ref_suffix(path: str) -> str:
    # `oci:DIR:TAG` and `docker-archive:PATH:REF` as skopeo writes them.
    if os.path.exists(path):
        return path
    head, sep, _ = path.rpartition(":")
    return head if sep and os.path.exists(head) else path


def load_image(name: str, opts: Optional[Options] = None) -> Image:
    return open_source(name).load(opts or Options())
