"""Image archives read as tar streams: `docker save` (the legacy `<id>/layer.tar`
layout and the OCI layout Docker >= 25 writes), the same gzip-compressed, and OCI
archives.

A tar stream is read in a single forward pass: small JSON blobs are kept, every
tar-like blob is indexed as it goes by, and the manifest is resolved at the end.
Nothing is written to disk. A plain archive file can also be read at any offset,
which lets big images be indexed in worker processes (slimscope.index.parallel),
with the result and the errors of the one-pass reading.
"""

from __future__ import annotations

import abc
import io
import os
import posixpath
import tarfile
import zlib
from typing import NamedTuple, Optional

from slimscope.errors import BadInput
from slimscope.image.manifest import (
    check_diff_ids,
    image_name,
    json_object,
    media_type_for,
    parse_json,
    resolve_docker_manifest,
    resolve_oci,
)
from slimscope.image.model import Image, Layer, LayerStreams, Options, Resolved, Source
from slimscope.index import parallel
from slimscope.index.cache import IndexCache, cached_blob, is_cached
from slimscope.index.digests import blob_name, check_digest, digest_of_name, sha256_digest
from slimscope.index.streams import (
    CHUNK,
    COMPRESSED_MAGIC,
    ByteFile,
    CountingReader,
    InflateLimit,
    Peekable,
    RangeReader,
    sniff,
    uncompressed,
)
from slimscope.index.walk import Indexed, index_blob
from slimscope.regular import open_regular

SMALL_BLOB = 8 << 20  # JSON blobs (configs, manifests, indexes) are far below this
LAYER_KINDS = ("gzip", "zstd", "tar")


class Scan(NamedTuple):
    """What one pass over an archive found, by member name."""

    blobs: dict[str, bytes]     # small blobs (configs, manifests, indexes)
    layers: dict[str, Indexed]  # layer blobs, indexed
    links: dict[str, str]       # members that are links, to the member they point at


class Member(NamedTuple):
    """A layer member of a plain archive file: where its bytes are."""

    name: str
    offset: int
    size: int


def corrupt(where: str, e: Exception) -> BadInput:
    return BadInput(f"{where} is truncated or corrupt ({str(e) or type(e).__name__})")


def member_name(ti: tarfile.TarInfo) -> str:
    return posixpath.normpath(ti.name).lstrip("/")


def link_target(name: str, ti: tarfile.TarInfo) -> str:
    """Where an archive member that is a link points, as a member name."""
    target = ti.linkname if ti.islnk() else posixpath.normpath(
        posixpath.join(posixpath.dirname(name), ti.linkname))
    return target.lstrip("/")


def member_reader(tf: tarfile.TarFile, ti: tarfile.TarInfo) -> io.BufferedReader:
    f = tf.extractfile(ti)
    if not isinstance(f, io.BufferedReader):  # tarfile hands out regular members buffered
        raise BadInput(f"archive member {ti.name!r} cannot be read")
    return f


def index_member(name: str, reader: Peekable, hash_contents: bool,
                 cache: Optional[IndexCache]) -> Indexed:
    """Index one layer member of an archive (or take it from the cache)."""
    hit = cached_blob(cache, digest_of_name(name), reader, hash_contents)
    if hit is not None:
        return hit  # its digest is checked against the member's name in load()
    try:
        got = index_blob(reader, hash_contents, what=f"layer {name}")
    except InflateLimit as e:
        raise BadInput(f"layer {name}: {e}") from None
    if cache is not None:
        cache.put({got.digest, got.index.diff_id}, got.index, got.digest, got.stored_bytes)
    return got


def index_member_job(where: str, path: str, name: str, offset: int, size: int,
                     hash_contents: bool, cache: Optional[IndexCache]) -> Indexed:
    """Worker: index_member over a byte range of the archive file; errors read as in scan().

    The index goes back pickled: its columns are lists and arrays, which pickle
    several times faster than LayerIndex.dumps() compresses them.
    """
    try:
        with open(path, "rb") as f:
            reader = io.BufferedReader(RangeReader(f, offset, size), CHUNK)
            return index_member(name, reader, hash_contents, cache)
    except BadInput:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise corrupt(where, e) from None


class TarStreamSource(Source):
    """Anything that reads as one tar stream of an image archive."""

    @abc.abstractmethod
    def open_stream(self) -> ByteFile:
        """The archive's bytes from the start, to be read once and closed."""

    def total_bytes(self) -> Optional[int]:
        return None

    def scan(self, opts: Options) -> Scan:
        """One pass over the archive."""
        found = Scan({}, {}, {})
        raw = self.open_stream()
        counted = io.BufferedReader(CountingReader(raw, opts.progress, self.total_bytes()), CHUNK)
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
                    self._take(tf, ti, opts, found)
            except BadInput:
                raise
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise corrupt(self.where, e) from None
        finally:
            raw.close()
        return found

    def _take(self, tf: tarfile.TarFile, ti: tarfile.TarInfo, opts: Options, found: Scan) -> None:
        name = member_name(ti)
        if name.startswith("../"):
            raise BadInput(f"{self.where}: member {ti.name!r} climbs out with '..'")
        if ti.issym() or ti.islnk():
            found.links[name] = link_target(name, ti)
            return
        if not ti.isreg():
            return
        reader = member_reader(tf, ti)
        kind = sniff(reader.peek(512)[:512])
        if kind in LAYER_KINDS:
            found.layers[name] = index_member(name, reader, opts.hash_contents, opts.cache)
        elif ti.size <= SMALL_BLOB:
            data = reader.read()
            if len(data) != ti.size:
                raise BadInput(f"{self.where} is truncated (inside {name})")
            found.blobs[name] = data

    def load(self, opts: Options) -> Image:
        found = self.scan(opts)
        res = self._resolve(found, opts)
        ordered = []
        for pos, key in enumerate(res.layer_keys):
            name = self._member_for(key, found.links)
            if name not in found.layers:
                raise BadInput(f"{self.where}: layer {pos} ({key}) is missing from the archive")
            got = found.layers[name]
            idx, digest, size, kind = got.index, got.digest, got.stored_bytes, got.kind
            claimed = digest_of_name(name)
            if claimed:
                check_digest(self.where, name, claimed, digest)
            if res.layer_digests[pos] and res.layer_digests[pos] != digest:
                raise BadInput(f"{self.where}: layer {pos} does not match the manifest's digest "
                               f"{res.layer_digests[pos]}")
            ordered.append(Layer(pos, digest, idx.diff_id, res.media_types[pos] or
                                 media_type_for(kind), size, kind != "tar", idx, name))
        check_diff_ids(res, [layer.index for layer in ordered], self.where)
        return Image(image_name(self.reference, res, self.where), res.config_digest, res.config,
                     ordered, self)

    def _member_for(self, key: str, links: dict[str, str]) -> str:
        name = key.lstrip("/")
        if key.startswith("sha256:"):
            name = "blobs/sha256/" + key.split(":", 1)[1]
        seen = 0
        while name in links and seen < 8:
            name = posixpath.normpath(links[name])
            seen += 1
        return name

    def _resolve(self, found: Scan, opts: Options) -> Resolved:
        blobs = found.blobs
        for name, target in found.links.items():
            if name not in blobs and target in blobs:
                blobs[name] = blobs[target]
        if "manifest.json" in blobs:
            manifest = parse_json(blobs["manifest.json"], f"{self.where}: manifest.json")
            # Docker >= 25 names blobs by digest: check what can be checked.
            for name, data in blobs.items():
                claimed = digest_of_name(name)
                if claimed:
                    check_digest(self.where, name, claimed, sha256_digest(data))
            return resolve_docker_manifest(manifest, blobs, opts, self.where)
        if "index.json" in blobs:
            def read_blob(digest: str) -> bytes:
                name = blob_name(digest, self.where)
                if name not in blobs:
                    raise BadInput(f"{self.where}: blob {digest} is missing from the archive")
                data = blobs[name]
                check_digest(self.where, digest, digest, sha256_digest(data))
                return data
            return resolve_oci(read_blob, json_object(blobs["index.json"],
                                                      f"{self.where}: index.json"),
                               opts, self.where)
        raise BadInput(f"{self.where} is not an image archive (no manifest.json or index.json)")

    def layer_streams(self, image: Image) -> LayerStreams:
        """Re-read the archive and hand out each layer's uncompressed tar in storage order."""
        positions: dict[str, list[int]] = {}
        for layer in image.layers:
            positions.setdefault(layer.member, []).append(layer.position)
        raw = self.open_stream()
        try:
            tf = tarfile.open(fileobj=io.BufferedReader(raw, CHUNK), mode="r|*")
            for ti in tf:
                name = member_name(ti)
                if not ti.isreg() or name not in positions:
                    continue
                yield positions[name], uncompressed(member_reader(tf, ti))
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise BadInput(f"{self.where} is truncated or corrupt ({e})") from None
        finally:
            raw.close()


class ArchiveSource(TarStreamSource):
    """`docker save` archives (legacy or OCI layout), gzip-compressed too, and OCI archives."""

    def __init__(self, path: str, reference: str = ""):
        self.path = path
        self.where = path
        self.reference = reference

    @property
    def archive_path(self) -> Optional[str]:
        return self.path

    @property
    def local_path(self) -> Optional[str]:
        return self.path

    def open_stream(self) -> ByteFile:
        return open_regular(self.path, self.path)  # type: ignore[return-value]  # a buffered file

    def total_bytes(self) -> Optional[int]:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return None

    def scan(self, opts: Options) -> Scan:
        """A plain archive file can be read at any offset: index its layers in parallel."""
        plan = self._plan()
        if plan is None:
            return super().scan(opts)
        found, members, file_size = plan
        layer_bytes = sum(m.size for m in members)
        jobs = parallel.jobs_for(len(members), sum(
            m.size for m in members if not is_cached(opts.cache, digest_of_name(m.name))))
        if jobs == 1:
            return super().scan(opts)
        done = [file_size - layer_bytes]  # everything but the layer bodies is read already

        def on_done(i: int, result: Indexed) -> None:
            done[0] += members[i].size
            if opts.progress:
                opts.progress(done[0], file_size)

        tasks = [(self.where, self.path, m.name, m.offset, m.size, opts.hash_contents, opts.cache)
                 for m in members]
        results = parallel.run_ordered(index_member_job, tasks, jobs, on_done,
                                       [m.size for m in members])
        found.layers.update((m.name, r) for m, r in zip(members, results))
        return found

    def _plan(self) -> Optional[tuple[Scan, list[Member], int]]:
        """List a plain archive by its headers alone (tarfile seeks past bodies).

        Returns (small blobs and links, layer members, file size), or None when
        anything is unusual (compressed, truncated, names that climb out, repeated or
        sparse members): the one-pass scan then handles it and says what is wrong
        exactly as it always has.
        """
        found = Scan({}, {}, {})
        members: list[Member] = []
        seen: set[str] = set()
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if f.read(6).startswith(COMPRESSED_MAGIC):
                    return None
                f.seek(0)
                tf = tarfile.open(fileobj=f, mode="r:")
                for ti in tf:
                    name = member_name(ti)
                    if name.startswith("../") or name in seen or ti.issparse():
                        return None
                    seen.add(name)
                    if ti.issym() or ti.islnk():
                        found.links[name] = link_target(name, ti)
                        continue
                    if not ti.isreg():
                        continue
                    if ti.offset_data + ti.size > size:
                        return None
                    f.seek(ti.offset_data)
                    if sniff(f.read(min(ti.size, 512))) in LAYER_KINDS:
                        members.append(Member(name, ti.offset_data, ti.size))
                    elif ti.size <= SMALL_BLOB:
                        f.seek(ti.offset_data)
                        found.blobs[name] = f.read(ti.size)
        except (tarfile.TarError, OSError, EOFError, ValueError):
            return None
        return found, members, size
