"""Images read straight from a registry (`docker://HOST[:PORT]/REPO:TAG` or `…@sha256:…`),
without pulling them.

Only what is needed crosses the network: the manifest (an index is walked down to
one platform by the same resolution every transport uses), the config, and each
layer blob whose index is not cached already (the cache is keyed by blob digest,
so a cached layer is not fetched at all). Needed blobs are downloaded on threads,
each streamed once straight into the layer walk and hashed on the way: a blob that
is not what its digest says is refused.
"""

from __future__ import annotations

import dataclasses
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Optional

from slimscope.errors import BadInput
from slimscope.image.manifest import check_diff_ids, json_object, resolve_oci
from slimscope.image.model import Image, JSONObject, Layer, LayerStreams, Options, Source
from slimscope.image.reference import PREFIX
from slimscope.image.registry_auth import Access, current_access
from slimscope.image.registry_http import Registry
from slimscope.index.digests import check_digest, digest_hex, sha256_digest
from slimscope.index.records import LayerIndex
from slimscope.index.streams import CHUNK, HashingReader, Readable, uncompressed
from slimscope.index.walk import index_blob

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

DOCKER_HUB = "docker.io"
MAX_DOWNLOADS = 4   # blob downloads at once: enough to fill a link, few enough to be polite


@dataclasses.dataclass(frozen=True)
class RegistryRef:
    host: str
    repo: str
    ref: str          # a tag, or a digest "sha256:…"

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.host}/{self.repo}{'@' if ':' in self.ref else ':'}{self.ref}"


def parse_registry_ref(rest: str) -> RegistryRef:
    """`HOST[:PORT]/REPO[:TAG|@DIGEST]` (what follows `docker://`), named as skopeo does:
    a first part without a dot, a port or `localhost` is a Docker Hub repository."""
    if not rest or rest.startswith("/") or " " in rest:
        raise BadInput(f"not a registry reference: {PREFIX}{rest}")
    name, at, digest = rest.partition("@")
    tag = ""
    if not at:
        head, colon, maybe_tag = name.rpartition(":")
        if colon and "/" not in maybe_tag:
            name, tag = head, maybe_tag
    first, slash, remainder = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, repo = first, remainder
    else:
        host, repo = DOCKER_HUB, name
        if "/" not in repo:
            repo = f"library/{repo}"
    if not repo or repo != repo.lower() or any(p == "" for p in repo.split("/")):
        raise BadInput(f"{PREFIX}{rest}: {repo!r} is not a repository name")
    if at:
        digest_hex(digest, f"{PREFIX}{rest}")
        return RegistryRef(host, repo, digest)
    return RegistryRef(host, repo, tag or "latest")


def _api_host(host: str) -> str:
    return "registry-1.docker.io" if host == DOCKER_HUB else host


class RegistrySource(Source):
    """One image in a registry, read through the distribution API."""

    def __init__(self, ref: RegistryRef, access: Optional[Access] = None):
        self.ref = ref
        self.reference = ref.name
        self.where = ref.name
        self.registry = Registry(_api_host(ref.host), ref.repo, access or current_access())
        self.registry.where = f"{PREFIX}{ref.host}/{ref.repo}"
        self._manifests: dict[str, bytes] = {}
        self._manifest_digests: set[str] = set()
        self._top: Optional[tuple[str, str]] = None   # (digest, media type) of what ref names
        self._spooled: dict[str, str] = {}   # blob digest -> its checked copy (Options.spool)

    def check(self) -> None:
        self._top_manifest()

    def _top_manifest(self) -> tuple[str, str]:
        if self._top is None:
            body, media_type, _ = self.registry.manifest(self.ref.ref)
            digest = sha256_digest(body)
            if ":" in self.ref.ref:
                check_digest(self.where, self.ref.ref, self.ref.ref, digest)
            doc = json_object(body, f"{self.where}: manifest")
            if doc.get("schemaVersion") == 1:
                raise BadInput(f"{self.where}: a Docker schema 1 manifest, which registries no "
                               "longer serve and slimscope does not read")
            self._remember(digest, body, doc)
            self._top = (digest, media_type or str(doc.get("mediaType", "")))
        return self._top

    def _remember(self, digest: str, body: bytes, doc: JSONObject) -> None:
        self._manifests[digest] = body
        for desc in doc.get("manifests") or []:
            if isinstance(desc, dict) and isinstance(desc.get("digest"), str):
                self._manifest_digests.add(desc["digest"])

    def read_blob(self, digest: str) -> bytes:
        """A manifest or a config by digest, checked against it."""
        if digest in self._manifests:
            return self._manifests[digest]
        if digest in self._manifest_digests:
            body, _, _ = self.registry.manifest(digest)
            check_digest(self.where, digest, digest, sha256_digest(body))
            self._remember(digest, body, json_object(body, f"{self.where}: manifest {digest}"))
            return body
        data = self.registry.blob(digest)
        check_digest(self.where, digest, digest, sha256_digest(data))
        return data

    def _sizes(self, config_digest: str, count: int) -> list[int]:
        """The stored size of each layer, from the image manifest the resolution chose."""
        for body in self._manifests.values():
            doc = json_object(body, f"{self.where}: manifest")
            if (doc.get("config") or {}).get("digest") == config_digest:
                layers = doc.get("layers") or []
                return [int(ld.get("size") or 0) for ld in layers]
        return [0] * count

    def load(self, opts: Options) -> Image:
        digest, media_type = self._top_manifest()
        index = {"manifests": [{"mediaType": media_type, "digest": digest}]}
        res = resolve_oci(self.read_blob, index, opts, self.where)
        sizes = self._sizes(res.config_digest, len(res.layer_digests))
        indexes: dict[int, LayerIndex] = {}
        fetch: list[int] = []
        for pos, d in enumerate(res.layer_digests):
            hit = opts.cache.get(d, opts.hash_contents) if opts.cache is not None else None
            if hit is not None:
                indexes[pos] = hit
            else:
                fetch.append(pos)
        # Each blob once: two positions with the same blob are indexed by one download.
        unique: dict[str, int] = {}
        for pos in fetch:
            unique.setdefault(res.layer_digests[pos], pos)
        got = self._download(opts, [(pos, res.layer_digests[pos], sizes[pos])
                                    for pos in unique.values()])
        for pos in fetch:
            indexes[pos] = got[res.layer_digests[pos]]
        layers = [Layer(pos, d, indexes[pos].diff_id, res.media_types[pos], sizes[pos],
                        _compressed(res.media_types[pos]), indexes[pos], d)
                  for pos, d in enumerate(res.layer_digests)]
        check_diff_ids(res, [layer.index for layer in layers], self.where)
        return Image(self.reference, res.config_digest, res.config, layers, self)

    def _download(self, opts: Options, wanted: list[tuple[int, str, int]]) -> dict[str, LayerIndex]:
        total = sum(size for _, _, size in wanted)
        done = [0]
        lock = threading.Lock()

        def moved(n: int) -> None:
            with lock:
                done[0] += n
                if opts.progress:
                    opts.progress(done[0], total)

        def one(task: tuple[int, str, int]) -> tuple[str, LayerIndex]:
            pos, digest, _ = task
            stream = self.registry.open_blob(digest)
            kept = os.path.join(opts.spool, digest_hex(digest, self.where)) if opts.spool else ""
            copy = open(kept, "wb") if kept else None
            try:
                reader = io.BufferedReader(_Moved(stream, moved, copy), CHUNK)
                indexed = index_blob(reader, opts.hash_contents,
                                     what=f"{self.where}: layer {pos} ({digest[:19]})")
                check_digest(self.where, digest, digest, indexed.digest)
            except BaseException:
                if copy is not None:
                    copy.close()
                    os.unlink(kept)
                raise
            finally:
                stream.close()
            if copy is not None:
                copy.close()
                self._spooled[digest] = kept
            if opts.cache is not None:
                opts.cache.put({digest, indexed.index.diff_id}, indexed.index, digest,
                               indexed.stored_bytes)
            return digest, indexed.index

        if len(wanted) <= 1:
            return dict(one(t) for t in wanted)
        with ThreadPoolExecutor(min(MAX_DOWNLOADS, len(wanted))) as ex:
            return dict(ex.map(one, wanted))

    def layer_streams(self, image: Image) -> LayerStreams:
        for layer in image.layers:
            kept = self._spooled.get(layer.digest)
            if kept is not None:   # downloaded for the analysis and checked then
                with open(kept, "rb") as f:
                    yield [layer.position], uncompressed(f)
                continue
            blob = _Verified(self.registry.open_blob(layer.digest), layer.digest, self.where)
            yield [layer.position], uncompressed(blob)


def _compressed(media_type: str) -> bool:
    return media_type.endswith(("gzip", "zstd")) or media_type.endswith(".tar.gzip")


class _Moved(io.RawIOBase):
    """Reports how many bytes passed, to a shared progress total; and writes them into
    `copy`, if given."""

    def __init__(self, raw: Readable, moved: Any, copy: Optional[io.BufferedWriter] = None):
        self.raw, self.moved, self.copy = raw, moved, copy

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        with memoryview(b) as view:
            data = self.raw.read(len(view))
            view[:len(data)] = data
        if data:
            self.moved(len(data))
            if self.copy is not None:
                self.copy.write(data)
        return len(data)


class _Verified(io.RawIOBase):
    """A blob's bytes, refused at their end if they are not what the digest says."""

    def __init__(self, raw: Readable, digest: str, where: str):
        self.h, self.digest, self.where, self.raw = HashingReader(raw), digest, where, raw

    def readable(self) -> bool:
        return True

    def readinto(self, b: WriteableBuffer) -> int:
        n = self.h.readinto(b)
        if n == 0:
            check_digest(self.where, self.digest, self.digest, self.h.hexdigest())
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()
