"""Images read as one tar stream, front to back: the base of every source whose bytes
arrive as an image archive (`docker save` in the legacy `<id>/layer.tar` layout or the
OCI layout Docker >= 25 writes, the same gzip-compressed, and OCI archives), whether
from a file (slimscope.image.archive), a pipe, the engine or podman and containerd.

A tar stream is read in a single forward pass: small JSON blobs are kept, every
tar-like blob is indexed as it goes by, and the manifest is resolved at the end.
A second pass is made only for the members whose bytes did not fit the index cached
under their id. Nothing is written to disk.
"""

from __future__ import annotations

import abc
import io
import posixpath
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Optional

from slimscope.errors import BadInput
from slimscope.image.feed import LayerFeed

if TYPE_CHECKING:  # tarfile (with shutil, bz2, lzma) loads only when a stream is read:
    import tarfile  # a plain archive file is listed by slimscope.index.tarwalk
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
from slimscope.index.digests import blob_name, check_digest, digest_of_name, sha256_digest
from slimscope.index.streams import (
    CHUNK,
    COMPRESSED_MAGIC,
    ByteFile,
    CountingReader,
    sniff,
    uncompressed,
)
from slimscope.index.walk import Indexed

SMALL_BLOB = 8 << 20  # JSON blobs (configs, manifests, indexes) are far below this


class Scan(NamedTuple):
    """What one pass over an archive found, by member name."""

    blobs: dict[str, bytes]     # small blobs (configs, manifests, indexes)
    layers: dict[str, Indexed]  # layer blobs, indexed
    links: dict[str, str]       # members that are links, to the member they point at


# Called as each layer member is indexed, once the manifest says which layers it holds.
Preview = Callable[[str, Indexed], None]


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
        import tarfile

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
        import tarfile

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
