"""OCI image layout directories (`oci-layout`, `index.json`, `blobs/`), as skopeo
writes them with plain, gzip or zstd layers.

Each blob is a file of its own, read on demand: a cached layer only needs its
digest checked, and big images are indexed in worker processes.
"""

from __future__ import annotations

import io
import os
from typing import Optional

from slimscope.errors import BadInput
from slimscope.image.feed import LayerFeed
from slimscope.image.manifest import check_diff_ids, image_name, json_object, resolve_oci
from slimscope.image.model import Image, Layer, LayerStreams, Options, Source
from slimscope.index import parallel
from slimscope.index.cache import IndexCache, cached_blob, is_cached, through_note
from slimscope.index.digests import blob_name, check_digest, sha256_digest
from slimscope.index.streams import CHUNK, CountingReader, InflateLimit, Progress, uncompressed
from slimscope.index.walk import Indexed, index_blob
from slimscope.regular import open_regular, read_regular, regular_size

SMALL_BLOB = 8 << 20  # manifests, indexes and configs are far below this


class OCIDirSource(Source):
    """An OCI image layout directory."""

    def __init__(self, path: str, reference: str = ""):
        self.path = path
        self.where = path
        self.reference = reference

    @property
    def local_path(self) -> Optional[str]:
        return self.path

    def _blob_path(self, digest: str) -> str:
        return os.path.join(self.path, blob_name(digest, self.where))

    def read_blob(self, digest: str) -> bytes:
        data = read_regular(self._blob_path(digest), f"{self.where}: blob {digest}", SMALL_BLOB,
                            self.path)
        check_digest(self.where, digest, digest, sha256_digest(data))
        return data

    def load(self, opts: Options) -> Image:
        index_path = os.path.join(self.path, "index.json")
        if not os.path.lexists(index_path):
            raise BadInput(f"{self.where} is not an OCI layout (no index.json)")
        index = json_object(read_regular(index_path, f"{self.where}/index.json", SMALL_BLOB,
                                         self.path), f"{self.where}/index.json")
        res = resolve_oci(self.read_blob, index, opts, self.where)
        sizes = []
        for d in res.layer_digests:
            sizes.append(regular_size(self._blob_path(d)) or 0)
        total = sum(sizes)
        done = 0
        tasks = [(self.where, pos, digest, self._blob_path(digest), opts.hash_contents, opts.cache,
                  self.path)
                 for pos, digest in enumerate(res.layer_digests)]
        uncached = [size for size, digest in zip(sizes, res.layer_digests)
                    if not is_cached(opts.cache, digest)]
        jobs = parallel.jobs_for(len(tasks), sum(uncached), max(uncached, default=0))

        def layer(pos: int, got: Indexed) -> Layer:
            _, _, digest, path, _, _, _ = tasks[pos]
            return Layer(pos, digest, got.index.diff_id, res.media_types[pos], got.stored_bytes,
                         got.kind != "tar", got.index, path)

        def image(layers: list[Layer]) -> Image:
            return Image(image_name(self.reference, res, self.where), res.config_digest,
                         res.config, layers, self)

        feed = LayerFeed(opts.on_layer)
        feed.start(len(tasks), image)
        results: list[Indexed]
        if jobs > 1:
            def on_done(pos: int, result: Indexed) -> None:
                nonlocal done
                done += result.stored_bytes
                if opts.progress:
                    opts.progress(done, total)
                feed.put(layer(pos, result))
            results = parallel.run_ordered(oci_layer, tasks, jobs, on_done, sizes)
        elif len(tasks) > 1 and all(is_cached(opts.cache, digest) for digest in res.layer_digests):
            # Every index is cached: what is left is checking each blob's digest, which
            # hashlib does without the GIL, so threads overlap it with loading the indexes.
            from concurrent.futures import ThreadPoolExecutor  # logging and threads: here only

            results = []
            with ThreadPoolExecutor(min(len(tasks), os.cpu_count() or 1)) as ex:
                for got in ex.map(lambda task: oci_layer(*task), tasks):
                    results.append(got)
                    feed.put(layer(len(results) - 1, got))
            if opts.progress:
                opts.progress(total, total)
        else:
            results = []
            for task in tasks:
                results.append(oci_layer(*task, progress=_offset(opts.progress, done, total)))
                done += results[-1].stored_bytes
                feed.put(layer(len(results) - 1, results[-1]))
        layers = [layer(pos, got) for pos, got in enumerate(results)]
        check_diff_ids(res, [l.index for l in layers], self.where)
        return image(layers)

    def layer_streams(self, image: Image) -> LayerStreams:
        for layer in image.layers:
            f = open_regular(layer.member, f"{self.where}: layer {layer.position} blob", self.path)
            yield [layer.position], uncompressed(f)  # type: ignore[arg-type]  # a buffered file


def _offset(progress: Progress, base: int, total: int) -> Progress:
    """Progress through one layer, reported as progress through all of them."""
    if progress is None:
        return None
    report = progress
    return lambda done, _: report(base + done, total)


def oci_layer(where: str, pos: int, digest: str, path: str, hash_contents: bool,
              cache: Optional[IndexCache], root: Optional[str] = None,
              progress: Progress = None) -> Indexed:
    """Index one layer blob of an OCI layout (or take it from the cache)."""
    what = f"layer {pos} ({digest[:19]})"
    fresh: list[Indexed] = []   # what was indexed here, to be cached once it checks out

    def read() -> Indexed:
        f.seek(0)
        reader = io.BufferedReader(CountingReader(f, progress, None), CHUNK)
        got = cached_blob(cache, digest, reader, hash_contents)
        if got is not None:
            return got
        try:
            fresh.append(index_blob(reader, hash_contents, what=what))
        except InflateLimit as e:
            raise BadInput(f"{where}: {what}: {e}") from None
        return fresh[0]

    def checked(got: Indexed) -> None:
        check_digest(where, digest, digest, got.digest)
        if fresh and cache is not None:
            cache.put({digest, got.index.diff_id}, got.index, got.digest, got.stored_bytes)

    with open_regular(path, f"{where}: layer {pos} blob {digest}", root) as f:
        got = through_note(cache, f, 0, os.fstat(f.fileno()).st_size, hash_contents, read,
                           checked)
    return got
