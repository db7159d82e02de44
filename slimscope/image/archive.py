"""Image archive files (`docker save`, legacy or OCI layout, gzip-compressed too, and
OCI archives), read as a tar stream (slimscope.image.tarstream) and, when the file is
a plain tar, at any offset.

A plain archive is listed by its headers first, so the manifest and config are known
before any layer is read: its layers are indexed in worker processes
(slimscope.index.parallel) with the result and the errors of the one-pass reading,
a legacy layer named by no digest is looked up in the cache by its diff_id, and a
view waiting for the bottom layers gets each one as it is indexed (the preview feed).
"""

from __future__ import annotations

import io
import os
import posixpath
import threading
import zlib
from typing import NamedTuple, Optional

from slimscope.errors import BadInput
from slimscope.image.feed import LayerFeed
from slimscope.image.layerkeys import LAYER_KINDS, index_member, verified_hit
from slimscope.image.model import Image, Options
from slimscope.image.tarstream import (
    SMALL_BLOB,
    Preview,
    Scan,
    TarStreamSource,
    corrupt,
    layer_of,
)
from slimscope.index import parallel
from slimscope.index.bodies import fill_digests
from slimscope.index.cache import IndexCache, file_identity, is_cached, through_note
from slimscope.index.digests import digest_of_name
from slimscope.index.records import LayerIndex
from slimscope.index.streams import (
    CHUNK,
    COMPRESSED_MAGIC,
    ByteFile,
    CountingReader,
    Progress,
    RangeReader,
    sniff,
)
from slimscope.index.tarlist import members as archive_members
from slimscope.index.tarwalk import SEEK_READ, index_range, lazy_cost
from slimscope.index.walk import Indexed
from slimscope.regular import open_regular

# the explorer asks for a digest in its UI thread while its loader may be filling others
_FILLING = threading.Lock()


class Member(NamedTuple):
    """A layer member of a plain archive file: where its bytes are."""

    name: str
    offset: int
    size: int


def lazy_key(identity: str) -> str:
    """The cache key of a lazy index of a file range: bound to that file as it is, never
    to a digest, since nothing checked the range's bytes against one."""
    return identity.replace("file-v1:", "lazy-v1:", 1) if identity else ""


def _plain_tar(f: io.BufferedReader, offset: int, size: int) -> bool:
    f.seek(offset)
    return sniff(f.read(min(size, 512))) == "tar"


def _range_index(f: io.BufferedReader, offset: int, size: int, diff_id: str,
                 hash_contents: bool, what: str) -> LayerIndex:
    """The lazy index of the uncompressed layer tar at [offset, offset + size)."""
    idx = index_range(f, offset, size, hash_contents, what, lazy=True)
    idx.diff_id, idx.tar_bytes = diff_id, size
    return idx


def _indexed(name: str, idx: LayerIndex) -> Indexed:
    return Indexed(idx, digest_of_name(name) or idx.diff_id, idx.tar_bytes, "tar")


def index_lazily(f: io.BufferedReader, name: str, offset: int, size: int,
                 cache: Optional[IndexCache], diff_id: str,
                 hash_contents: bool = True) -> Optional[Indexed]:
    """A lazy index of an uncompressed member (slimscope.index.bodies reads the rest
    when asked; without `hash_contents`, none is: every body is seeked past), from the
    cache entry bound to this file if it is there; None for a compressed member or
    one the config names no diff_id for."""
    if not diff_id or not _plain_tar(f, offset, size):
        return None
    key = lazy_key(file_identity(f.fileno(), offset, size)) if cache is not None else ""
    idx = cache.get(key, False) if cache is not None and key else None
    if idx is None or (hash_contents and not (idx.hashed or idx.lazy)) \
            or idx.diff_id != diff_id:
        idx = _range_index(f, offset, size, diff_id, hash_contents, f"layer {name}")
        if cache is not None and key and key == lazy_key(file_identity(f.fileno(), offset, size)):
            cache.put([key], idx)
    return _indexed(name, idx)


def index_member_job(where: str, path: str, name: str, offset: int, size: int,
                     hash_contents: bool, cache: Optional[IndexCache],
                     diff_id: str = "", lazy: bool = False,
                     progress: Progress = None) -> Indexed:
    """Worker: index_member over a byte range of the archive file; errors read as in scan().

    `diff_id` is what the image's config says the member's tar hashes to, when the
    member's name is no digest (a legacy `docker save`): the cache is looked up by it.
    `progress` (in this process only) hears of the member's bytes as they are read.
    `lazy` (and a diff_id) reads an uncompressed member lazily (index_lazily).

    The index goes back pickled: its columns are lists and arrays, which pickle
    several times faster than LayerIndex.dumps() compresses them.
    """
    try:
        with open(path, "rb") as f:
            if lazy:
                got = index_lazily(f, name, offset, size, cache, diff_id, hash_contents)
                if got is not None:
                    if progress:
                        progress(size, size)
                    return got

            def member() -> io.BufferedReader:
                raw = RangeReader(f, offset, size)
                return io.BufferedReader(CountingReader(raw, progress, size) if progress else raw,
                                         CHUNK)

            def read() -> Indexed:
                if diff_id and cache is not None and not digest_of_name(name):
                    hit, _ = verified_hit(cache, diff_id, member(), hash_contents, diff_id)
                    if hit is not None:
                        return hit
                return index_member(name, member(), hash_contents, cache)
            return through_note(cache, f, offset, size, hash_contents, read)
    except BadInput:
        raise
    except (OSError, EOFError, zlib.error) as e:  # (the walk is ours: no tarfile error)
        raise corrupt(where, e) from None


class ArchiveSource(TarStreamSource):
    """`docker save` archives (legacy or OCI layout), gzip-compressed too, and OCI archives."""

    def __init__(self, path: str, reference: str = ""):
        self.path = path
        self.where = path
        self.reference = reference
        # after a lazy scan: the file as it was then, its layer members, the cache
        self._lazy: Optional[tuple[os.stat_result, dict[str, Member], Optional[IndexCache]]] \
            = None

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
        lazy = opts.lazy_digests
        diff_ids = self._expected_diff_ids(found, opts) \
            if opts.cache is not None or lazy else {}
        keys = [digest_of_name(m.name) or diff_ids.get(m.name, "") for m in members]
        wanted = self._preview(found, opts, feed) if feed is not None else None
        layer_bytes = sum(m.size for m in members)
        if lazy and opts.cache is not None:  # or found by the entry bound to this file
            with open(self.path, "rb") as f:
                noted = [lazy_key(file_identity(f.fileno(), m.offset, m.size)) for m in members]
            keys = [lk if is_cached(opts.cache, lk) else key for lk, key in zip(noted, keys)]
        uncached = [m for m, key in zip(members, keys) if not is_cached(opts.cache, key)]
        work = [m.size for m in uncached]
        jobs = parallel.jobs_for(len(members), sum(work), max(work, default=0))
        if jobs > 1 and lazy:
            # a layer read lazily costs what its headers and small bodies do, not its size
            with open(self.path, "rb") as f:
                work = [lazy_cost(f, m.offset, m.size) if diff_ids.get(m.name)
                        and _plain_tar(f, m.offset, m.size) else m.size for m in uncached]
            jobs = parallel.jobs_for(len(members), sum(work), max(work, default=0))
        done = [file_size - layer_bytes]  # everything but the layer bodies is read already

        def on_done(i: int, result: Indexed) -> None:
            done[0] += members[i].size
            if opts.progress:
                opts.progress(done[0], file_size)
            if wanted:
                wanted[0](members[i].name, result)

        tasks = [(self.where, self.path, m.name, m.offset, m.size, opts.hash_contents, opts.cache,
                  diff_ids.get(m.name, ""), lazy) for m in members]
        self._lazy = (os.stat(self.path), {m.name: m for m in members}, opts.cache) \
            if lazy else None
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
                                               diff_ids.get(m.name, ""), lazy,
                                               step if opts.progress else None)
                on_done(i, by_index[i])
            results = [by_index[i] for i in range(len(members))]
        else:
            results = parallel.run_ordered(index_member_job, tasks, jobs, on_done,
                                           [m.size for m in members])
        found.layers.update((m.name, r) for m, r in zip(members, results))
        return found

    def fill_digests(self, image: Image, wants: dict[int, set[int]]) -> None:
        """Hash the bodies the lazy indexes of scan() noted, from the same file, and
        keep the digests in the cache entry bound to it."""
        if self._lazy is None:
            raise NotImplementedError("no layer of this archive was read lazily")
        seen, members, cache = self._lazy
        with _FILLING, open(self.path, "rb") as f:
            st = os.fstat(f.fileno())
            if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != (
                    seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns):
                raise BadInput(f"{self.where} changed while it was read")
            for pos, entries in sorted(wants.items()):
                layer = image.layers[pos]
                m = members[layer.member]
                tar = io.BufferedReader(RangeReader(f, m.offset, m.size), SEEK_READ)
                if fill_digests(tar, layer.index, entries, f"{self.where}: layer {pos}") \
                        and cache is not None:
                    key = lazy_key(file_identity(f.fileno(), m.offset, m.size))
                    if key:
                        cache.put([key], layer.index)

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

    def sketch(self, opts: Options) -> Optional[Image]:
        plan = self._plan()
        if plan is None:
            return None
        found, members, _ = plan
        try:
            res = self._resolve(Scan(dict(found.blobs), {}, dict(found.links)), opts)
        except BadInput:
            return None   # load() says what is wrong
        where = {m.name: m for m in members}
        diff_ids = self._expected_diff_ids(found, opts)
        layers = []
        with open(self.path, "rb") as f:
            if opts.cache is not None and all(
                    opts.cache.has(file_identity(f.fileno(), m.offset, m.size))
                    or opts.cache.has(lazy_key(file_identity(f.fileno(), m.offset, m.size)))
                    for m in members):
                return None   # every layer is noted: load() is as quick, and says more
            for pos, key in enumerate(res.layer_keys):
                m = where.get(self._member_for(key, found.links))
                if m is None:
                    return None
                if not _plain_tar(f, m.offset, m.size):
                    return None   # inflating is most of the work: no quicker than load()
                try:
                    idx = _range_index(f, m.offset, m.size, diff_ids.get(m.name, ""), False,
                                       f"layer {pos}")
                except BadInput:
                    return None
                layers.append(layer_of(res, pos, m.name, _indexed(m.name, idx)))
        return self._image(res, layers)

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
        """List a plain archive by its headers alone (bodies are seeked past).

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
                for m in archive_members(f):
                    name = posixpath.normpath(m.name).lstrip("/")
                    if name.startswith("../") or name in seen or m.sparse:
                        return None
                    seen.add(name)
                    if m.flag in (0x31, 0x32):  # hard or symbolic link
                        found.links[name] = (m.link if m.flag == 0x31 else posixpath.normpath(
                            posixpath.join(posixpath.dirname(name), m.link))).lstrip("/")
                        continue
                    if not m.regular:
                        continue
                    if m.offset + m.size > size:
                        return None
                    f.seek(m.offset)
                    if sniff(f.read(min(m.size, 512))) in LAYER_KINDS:
                        members.append(Member(name, m.offset, m.size))
                    elif m.size <= SMALL_BLOB:
                        f.seek(m.offset)
                        found.blobs[name] = f.read(m.size)
        except (OSError, EOFError, ValueError):
            return None
        return found, members, size
