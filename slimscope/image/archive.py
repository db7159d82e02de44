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
from collections.abc import Callable
from typing import NamedTuple, Optional

from slimscope.errors import BadInput
from slimscope.image.feed import LayerFeed
from slimscope.image.layerkeys import LAYER_KINDS, index_member, legacy_key, verified_hit
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
from slimscope.index.cache import IndexCache, file_identity, is_cached, note_blob, noted_blob
from slimscope.index.digests import blob_name, check_digest, digest_of_name, sha256_digest
from slimscope.index.streams import (
    CHUNK,
    COMPRESSED_MAGIC,
    ByteFile,
    CountingReader,
    Progress,
    RangeReader,
    sniff,
    uncompressed,
)
from slimscope.index.walk import Indexed
from slimscope.regular import open_regular

SMALL_BLOB = 8 << 20  # JSON blobs (configs, manifests, indexes) are far below this


class Scan(NamedTuple):
    """What one pass over an archive found, by member name."""

    blobs: dict[str, bytes]     # small blobs (configs, manifests, indexes)
    layers: dict[str, Indexed]  # layer blobs, indexed
    links: dict[str, str]       # members that are links, to the member they point at


# Called as each layer member is indexed, once the manifest says which layers it holds.
Preview = Callable[[str, Indexed], None]


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


def index_member_job(where: str, path: str, name: str, offset: int, size: int,
                     hash_contents: bool, cache: Optional[IndexCache],
                     diff_id: str = "", progress: Progress = None) -> Indexed:
    """Worker: index_member over a byte range of the archive file; errors read as in scan().

    `diff_id` is what the image's config says the member's tar hashes to, when the
    member's name is no digest (a legacy `docker save`): the cache is looked up by it.
    `progress` (in this process only) hears of the member's bytes as they are read.

    The index goes back pickled: its columns are lists and arrays, which pickle
    several times faster than LayerIndex.dumps() compresses them.
    """
    try:
        with open(path, "rb") as f:
            def member() -> io.BufferedReader:
                raw = RangeReader(f, offset, size)
                return io.BufferedReader(CountingReader(raw, progress, size) if progress else raw,
                                         CHUNK)
            identity = file_identity(f.fileno(), offset, size) if cache is not None else ""
            if identity:
                f.seek(offset)
                got = noted_blob(cache, identity, f.read(min(size, 512)), hash_contents)
                if got is not None:
                    return got
            got = None
            if diff_id and cache is not None and not digest_of_name(name):
                got, _ = verified_hit(cache, diff_id, member(), hash_contents, diff_id)
            if got is None:
                got = index_member(name, member(), hash_contents, cache)
            if identity and identity == file_identity(f.fileno(), offset, size):
                note_blob(cache, identity, got)
            return got
    except BadInput:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise corrupt(where, e) from None


def layer_of(res: Resolved, pos: int, name: str, got: Indexed) -> Layer:
    return Layer(pos, got.digest, got.index.diff_id, res.media_types[pos] or
                 media_type_for(got.kind), got.stored_bytes, got.kind != "tar", got.index, name)


class TarStreamSource(Source):
    """Anything that reads as one tar stream of an image archive."""

    @abc.abstractmethod
    def open_stream(self) -> ByteFile:
        """The archive's bytes from the start, to be read once and closed."""

    def total_bytes(self) -> Optional[int]:
        return None

    def scan(self, opts: Options, feed: Optional[LayerFeed] = None,
             preview: Optional[Preview] = None) -> Scan:
        """One pass over the archive (two if a cached index turned out not to fit).
        `preview` is told of each layer as it is indexed, when the manifest was read
        first (ArchiveSource); a stream alone cannot."""
        found = Scan({}, {}, {})
        retry: set[str] = set()
        self._pass(opts, found, retry, None, preview)
        if retry:  # members whose bytes did not match the index cached under their id
            self._pass(opts, found, set(), retry, preview)
        return found

    def _pass(self, opts: Options, found: Scan, retry: set[str], only: Optional[set[str]],
              preview: Optional[Preview] = None) -> None:
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
                    name = self._take(tf, ti, opts, found, retry, only)
                    if name and preview is not None:
                        preview(name, found.layers[name])
            except BadInput:
                raise
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise corrupt(self.where, e) from None
        finally:
            raw.close()

    def _take(self, tf: tarfile.TarFile, ti: tarfile.TarInfo, opts: Options, found: Scan,
              retry: set[str], only: Optional[set[str]]) -> Optional[str]:
        """Keep what one member holds; the member's name if it is a layer now indexed."""
        name = member_name(ti)
        if only is not None and name not in only:
            return None
        if name.startswith("../"):
            raise BadInput(f"{self.where}: member {ti.name!r} climbs out with '..'")
        if ti.issym() or ti.islnk():
            found.links[name] = link_target(name, ti)
            return None
        if not ti.isreg():
            return None
        reader = member_reader(tf, ti)
        kind = sniff(reader.peek(512)[:512])
        if kind in LAYER_KINDS:
            # A stream's config comes after its layers: a legacy member is looked up by its id.
            key = legacy_key(name) if only is None else ""
            if key and opts.cache is not None:
                hit, consumed = verified_hit(opts.cache, key, reader, opts.hash_contents)
                if hit is not None:
                    found.layers[name] = hit
                    return name
                if consumed:
                    retry.add(name)
                    return None
            found.layers[name] = index_member(name, reader, opts.hash_contents, opts.cache)
            return name
        if ti.size <= SMALL_BLOB:
            data = reader.read()
            if len(data) != ti.size:
                raise BadInput(f"{self.where} is truncated (inside {name})")
            found.blobs[name] = data
        return None

    def load(self, opts: Options) -> Image:
        found = self.scan(opts, LayerFeed(opts.on_layer))
        res = self._resolve(found, opts)
        ordered = []
        for pos, key in enumerate(res.layer_keys):
            name = self._member_for(key, found.links)
            if name not in found.layers:
                raise BadInput(f"{self.where}: layer {pos} ({key}) is missing from the archive")
            got = found.layers[name]
            claimed = digest_of_name(name)
            if claimed:
                check_digest(self.where, name, claimed, got.digest)
            if res.layer_digests[pos] and res.layer_digests[pos] != got.digest:
                raise BadInput(f"{self.where}: layer {pos} does not match the manifest's digest "
                               f"{res.layer_digests[pos]}")
            ordered.append(layer_of(res, pos, name, got))
        check_diff_ids(res, [layer.index for layer in ordered], self.where)
        return self._image(res, ordered)

    def _image(self, res: Resolved, layers: list[Layer]) -> Image:
        return Image(image_name(self.reference, res, self.where), res.config_digest, res.config,
                     layers, self)

    def _preview(self, found: Scan, opts: Options,
                 feed: LayerFeed) -> Optional[tuple[Preview, dict[str, int]]]:
        """When the small blobs are known before the layers are indexed (a plain archive
        file, listed first): the feed started on the manifest's layer order, what hands
        it each indexed member, and each member's first position. None if no one
        listens or the manifest does not resolve yet (load() then says why, at the
        point it always has)."""
        if not feed.wanted:
            return None
        try:
            res = self._resolve(Scan(dict(found.blobs), {}, dict(found.links)), opts)
        except BadInput:
            return None
        order: dict[str, list[int]] = {}
        for pos, key in enumerate(res.layer_keys):
            order.setdefault(self._member_for(key, found.links), []).append(pos)
        feed.start(len(res.layer_keys), lambda layers: self._image(res, layers))

        def preview(name: str, got: Indexed) -> None:
            for pos in order.get(name, ()):
                feed.put(layer_of(res, pos, name, got))
        return preview, {name: positions[0] for name, positions in order.items()}

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

    def scan(self, opts: Options, feed: Optional[LayerFeed] = None,
             preview: Optional[Preview] = None) -> Scan:
        """A plain archive file can be read at any offset: index its layers in parallel.

        Its headers are listed first, so the manifest and config are known before any
        layer is read: a legacy archive's layers, named by no digest, are looked up in
        the cache by the diff_ids the config gives them, and the feed gets each layer
        as it is indexed (`preview` is the stream scan's; this one makes its own).
        """
        plan = self._plan()
        if plan is None:
            return super().scan(opts)
        found, members, file_size = plan
        diff_ids = self._expected_diff_ids(found, opts) if opts.cache is not None else {}
        keys = [digest_of_name(m.name) or diff_ids.get(m.name, "") for m in members]
        wanted = self._preview(found, opts, feed) if feed is not None else None
        layer_bytes = sum(m.size for m in members)
        uncached = [m.size for m, key in zip(members, keys) if not is_cached(opts.cache, key)]
        jobs = parallel.jobs_for(len(members), sum(uncached), max(uncached, default=0))
        done = [file_size - layer_bytes]  # everything but the layer bodies is read already

        def on_done(i: int, result: Indexed) -> None:
            done[0] += members[i].size
            if opts.progress:
                opts.progress(done[0], file_size)
            if wanted:
                wanted[0](members[i].name, result)

        tasks = [(self.where, self.path, m.name, m.offset, m.size, opts.hash_contents, opts.cache,
                  diff_ids.get(m.name, "")) for m in members]
        if jobs == 1:
            # Someone watching layers arrive gets them bottom first, which a legacy
            # archive (members sorted by id) does not store them as.
            rank = wanted[1] if wanted else {}
            order = sorted(range(len(members)),
                           key=lambda i: rank.get(members[i].name, len(rank)))
            by_index: dict[int, Indexed] = {}
            for i in order:
                m = members[i]

                def step(n: int, _total: Optional[int]) -> None:
                    if opts.progress:
                        opts.progress(done[0] + n, file_size)
                by_index[i] = index_member_job(self.where, self.path, m.name, m.offset, m.size,
                                               opts.hash_contents, opts.cache,
                                               diff_ids.get(m.name, ""),
                                               step if opts.progress else None)
                on_done(i, by_index[i])
            results = [by_index[i] for i in range(len(members))]
        else:
            results = parallel.run_ordered(index_member_job, tasks, jobs, on_done,
                                           [m.size for m in members])
        found.layers.update((m.name, r) for m, r in zip(members, results))
        return found

    def _expected_diff_ids(self, found: Scan, opts: Options) -> dict[str, str]:
        """Member name -> the diff_id the config gives it, for members named by no digest."""
        try:
            res = self._resolve(Scan(dict(found.blobs), {}, dict(found.links)), opts)
        except BadInput:
            return {}  # load() says what is wrong, as it always has
        diff_ids = (res.config.get("rootfs") or {}).get("diff_ids") or []
        if not isinstance(diff_ids, list) or len(diff_ids) != len(res.layer_keys):
            return {}
        out: dict[str, str] = {}
        for key, diff_id in zip(res.layer_keys, diff_ids):
            if isinstance(diff_id, str) and diff_id.startswith("sha256:"):
                out.setdefault(self._member_for(key, found.links), diff_id)
        return out

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
