"""One measured task per process: `python bench/tasks.py TASK ARG...`.

Each task runs in a fresh interpreter so that its peak memory (ru_maxrss of this
process) is its own. The clock starts after the imports the task needs and stops
when the work is done; the task prints one JSON line: seconds, maxrss_kb, and
whatever it counted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The checkout to measure (run.py --code), else this one; first on the path either way.
sys.path.insert(0, os.environ.get("SLIMSCOPE_BENCH_CODE") or os.path.dirname(HERE))

CHUNK = 1 << 20


def _layer_streams(path: str):
    """Yield every layer's uncompressed tar stream, reading the image once, in order.

    This is the baseline: the least any reader of the image must do. A docker
    save archive is read as one stream; an OCI layout blob by blob.
    """
    if os.path.isdir(path):
        with open(os.path.join(path, "index.json")) as f:
            index = json.load(f)

        def blob(d):
            return os.path.join(path, "blobs", "sha256", d.split(":")[1])

        with open(blob(index["manifests"][0]["digest"])) as f:
            manifest = json.load(f)
        for layer in manifest["layers"]:
            with open(blob(layer["digest"]), "rb") as raw:
                mt = layer["mediaType"]
                if mt.endswith("gzip"):
                    import gzip
                    yield gzip.GzipFile(fileobj=io.BufferedReader(raw, CHUNK), mode="rb")
                elif mt.endswith("zstd"):
                    import zstandard
                    yield zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
                else:
                    yield raw
        return
    with open(path, "rb") as raw:
        outer = tarfile.open(fileobj=raw, mode="r|")
        for m in outer:
            if m.isfile() and m.name.endswith("layer.tar"):
                yield outer.extractfile(m)


def read_archive(path: str, sha: bool):
    entries = 0
    body = 0
    for stream in _layer_streams(path):
        inner = tarfile.open(fileobj=stream, mode="r|")
        for ti in inner:
            entries += 1
            if sha and ti.isfile():
                h = hashlib.sha256()
                f = inner.extractfile(ti)
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    h.update(chunk)
                body += ti.size
    return {"entries": entries, "hashed_bytes": body}


def analyze(path: str, hash_contents: bool, cache: str):
    from slimscope.core.analysis import analyze as run
    if cache:
        os.environ["SLIMSCOPE_CACHE_DIR"] = cache
    t0 = time.perf_counter()
    a = run(path, hash_contents=hash_contents, use_cache=bool(cache))
    seconds = time.perf_counter() - t0
    entries = sum(len(l.index) for l in a.image.layers)
    try:   # how many processes indexed the layers (a checkout before workers: one)
        from slimscope.index.parallel import jobs_for
        sizes = [l.size for l in a.image.layers]
        jobs = jobs_for(len(sizes), sum(sizes), max(sizes, default=0))
    except ImportError:
        jobs = 1
    return {"seconds": seconds, "entries": entries, "final_paths": len(a.composed.final),
            "total_bytes": a.total_bytes, "wasted_bytes": a.wasted_bytes, "jobs": jobs}


def main(argv):
    task, args = argv[0], argv[1:]
    t0 = time.perf_counter()
    if task == "headers":
        out = read_archive(args[0], sha=False)
    elif task == "headers+sha256":
        out = read_archive(args[0], sha=True)
    elif task == "analyze":
        out = analyze(args[0], args[1] == "hash", args[2] if len(args) > 2 else "")
    elif task == "tui":
        from tui_task import run_tui  # bench/tui_task.py
        out = run_tui(args[0], args[1] if len(args) > 1 else "")
    else:
        raise SystemExit(f"unknown task {task}")
    out.setdefault("seconds", time.perf_counter() - t0)
    out["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # worker processes (layer indexing): the largest one's peak
    out["children_maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
