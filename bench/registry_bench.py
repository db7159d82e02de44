"""docker:// analysis against a real registry on loopback: time and bytes downloaded
for a cold analysis and for one whose base layers are cached already, against
`skopeo copy` of the same image to a local directory (what reading it from disk
would cost first).

    python3 -m bench.registry_bench [ENGINE-IMAGE]   (default slimscope-test/slim-debian:latest)

Image A is the engine image as skopeo pushes it; image B is A plus one small top
layer (made here on an OCI layout), so B shares every layer of A but its top one.
Bytes are the registry's own count (`http.response.written` in its access log).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

from tests.registry import LocalRegistry

DEFAULT_IMAGE = "slimscope-test/slim-debian:latest"


def _put(blobs: str, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest.split(":")[1]), "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def add_top_layer(layout: str) -> None:
    """Give the one image of an OCI layout one more layer (a small file)."""
    blobs = os.path.join(layout, "blobs", "sha256")
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    desc = index["manifests"][0]
    with open(os.path.join(blobs, desc["digest"].split(":")[1])) as f:
        manifest = json.load(f)
    with open(os.path.join(blobs, manifest["config"]["digest"].split(":")[1])) as f:
        config = json.load(f)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        body = os.urandom(200_000)
        ti = tarfile.TarInfo("app/top.bin")
        ti.size = len(body)
        tf.addfile(ti, io.BytesIO(body))
    tar = buf.getvalue()
    layer = _put(blobs, gzip.compress(tar, 6, mtime=0))
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
    config.setdefault("history", []).append({"created_by": "COPY top.bin /app/"})
    cfg = _put(blobs, json.dumps(config).encode())
    manifest["config"].update(cfg)
    manifest["layers"].append(layer)
    m = _put(blobs, json.dumps(manifest).encode())
    desc.update(m)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)


def _bytes(reg: LocalRegistry, mark: int) -> int:
    return sum(s.written for s in reg.served_since(mark) if s.method == "GET")


def _timed(reg: LocalRegistry, cmd: list[str], env: dict) -> tuple[float, int]:
    mark = reg.mark()
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return elapsed, _bytes(reg, mark)


def main(image: str) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="slimscope-registry-bench-")
    reg = LocalRegistry(os.path.join(work, "registry")).start()
    try:
        layout = os.path.join(work, "a")
        subprocess.run(["skopeo", "copy", "--insecure-policy", f"docker-daemon:{image}",
                        f"oci:{layout}:a"], check=True, capture_output=True)
        a = reg.push(f"oci:{layout}:a", "bench/a:1")
        add_top_layer(layout)
        b = reg.push(f"oci:{layout}:a", "bench/b:1")
        env = dict(os.environ, PYTHONPATH=root, SLIMSCOPE_CACHE_DIR=os.path.join(work, "cache"))
        analyze = [sys.executable, "-m", "slimscope", "analyze", "--format", "json"]
        rows = []
        dest = os.path.join(work, "dir-a")
        rows.append(("skopeo copy docker://…/a dir:", *_timed(
            reg, ["skopeo", "copy", "--insecure-policy", "--src-tls-verify=false", a,
                  f"dir:{dest}"], env)))
        oci = os.path.join(work, "oci-a")
        rows.append(("skopeo copy docker://…/a oci:", *_timed(
            reg, ["skopeo", "copy", "--insecure-policy", "--src-tls-verify=false", a,
                  f"oci:{oci}:a"], env)))
        local_env = dict(env, SLIMSCOPE_CACHE_DIR=os.path.join(work, "cache-local"))
        t = time.perf_counter()
        subprocess.run(analyze + [oci], env=local_env, check=True, capture_output=True)
        rows.append(("then slimscope analyze oci: (cold cache, from disk)",
                     time.perf_counter() - t, 0))
        rows.append(("slimscope analyze docker://…/a (cold cache)", *_timed(reg, analyze + [a], env)))
        rows.append(("slimscope analyze docker://…/b (base cached)", *_timed(reg, analyze + [b], env)))
        rows.append(("slimscope analyze docker://…/a again (all cached)",
                     *_timed(reg, analyze + [a], env)))
        print(f"image: {image} (+ one 200 kB top layer for b)\n")
        print("| run | seconds | bytes downloaded |")
        print("|---|---:|---:|")
        for what, secs, n in rows:
            print(f"| {what} | {secs:.2f} | {n:,} |")
    finally:
        reg.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_IMAGE)
