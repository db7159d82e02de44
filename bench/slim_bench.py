"""slim vs docker-squash vs `docker export | docker import`, on (a) loaded into the engine.

Every contender starts from the same image in the engine and ends with a new
tagged image in the engine; the output tag is removed after each run so that no
run finds another's layers already loaded. docker-squash is installed from PyPI
into a venv under the bench cache dir (never into the project's environment).
versus_squash: default `slim` beside docker-squash alone, for the peers benchmark
(bench/peers_bench.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import installed

OUT = "slimscope-bench/out"


def _sh(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def _engine_ok() -> bool:
    try:
        return _sh(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def squash_venv(root: str) -> str:
    venv = os.path.join(root, "squash-venv")
    exe = os.path.join(venv, "bin", "docker-squash")
    if not os.path.exists(exe):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        p = _sh([os.path.join(venv, "bin", "pip"), "install", "-q", "docker-squash"])
        if p.returncode:
            raise RuntimeError(f"pip install docker-squash failed: {p.stderr[-2000:]}")
    return exe


def _image_id(ref: str) -> str:
    p = _sh(["docker", "image", "inspect", "--format", "{{.Id}}", ref])
    return p.stdout.strip() if p.returncode == 0 else ""


def _image_size(ref: str) -> int:
    p = _sh(["docker", "image", "inspect", "--format", "{{.Size}}", ref])
    return int(p.stdout.strip()) if p.returncode == 0 else -1


def ensure_loaded(archive: str) -> str:
    """Load ARCHIVE into the engine unless its image is there already; its tag."""
    import tarfile
    with tarfile.open(archive) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))
    tag = manifest[0]["RepoTags"][0]
    want = "sha256:" + manifest[0]["Config"].split(".")[0]
    if _image_id(tag) != want:
        p = _sh(["docker", "load", "-i", archive])
        if p.returncode:
            raise RuntimeError(f"docker load failed: {p.stderr.strip()}")
    return tag


def _rmi(tag: str) -> None:
    _sh(["docker", "rmi", "-f", tag])


TIMEOUT = float(os.environ.get("SLIMSCOPE_BENCH_SLIM_TIMEOUT", "900"))


class TimedOut(Exception):
    pass


def _timed(cmd, env=None, cwd=None, shell=False) -> float:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=cwd, shell=shell, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 15)   # the contender's own process group, nothing else
        proc.communicate()
        raise TimedOut from None
    dt = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {(err or out)[-2000:]}")
    return dt


def versus_squash(code: str, archive: str, root: str, repeat: int) -> dict[str, list[dict]]:
    """`slim` with its default options (verification on) and `docker-squash -t OUT SOURCE`,
    each from ARCHIVE loaded into the engine to a new tagged image; wall seconds of every
    run, the two interleaved. The caller checks that an engine answers."""
    squash = squash_venv(root)
    src = ensure_loaded(archive)
    env = dict(os.environ, PYTHONPATH=code, SLIMSCOPE_NO_CACHE="1")
    env.pop("SLIMSCOPE_CACHE_DIR", None)
    contenders = {
        "slim": (f"{OUT}-peers-slim", [installed.python(root), "-m", "slimscope", "slim", src,
                                       "--tag", f"{OUT}-peers-slim"]),
        "docker-squash": (f"{OUT}-peers-squash", [squash, "-t", f"{OUT}-peers-squash", src]),
    }
    runs: dict[str, list[dict]] = {k: [] for k in contenders}
    for _ in range(repeat):
        for label, (tag, cmd) in contenders.items():
            _rmi(tag)
            try:
                runs[label].append({"seconds": _timed(cmd, env=env, cwd=code)})
            except TimedOut:
                runs[label].append({"seconds": TIMEOUT, "timed_out": True})
            finally:
                _rmi(tag)
    return runs


def run(r, imgs) -> dict:
    from run import Skip  # the runner's own exception
    if not _engine_ok():
        raise Skip("no Docker engine answers")
    root = os.path.dirname(imgs.root)
    squash = squash_venv(root)
    src = ensure_loaded(imgs.small_archive())
    env = dict(os.environ, PYTHONPATH=r.code)
    env.pop("SLIMSCOPE_CACHE_DIR", None)
    env["SLIMSCOPE_NO_CACHE"] = "1"   # every slim run reads the image afresh
    sizes = {}

    def contender(label, tag, cmd, shell=False):
        def go():
            _rmi(tag)
            try:
                seconds = _timed(cmd, env=env, cwd=r.code, shell=shell)
                sizes[label] = _image_size(tag)
            except TimedOut:
                return {"seconds": TIMEOUT, "timed_out": True}
            finally:
                _rmi(tag)
            return {"seconds": seconds}
        return go

    slim = [installed.python(root), "-m", "slimscope", "slim", src]
    export_import = (f"cid=$(docker create {src} /bin/true) && "
                     f"docker export $cid | docker import - {OUT}-exim >/dev/null; "
                     f"rc=$?; docker rm -f $cid >/dev/null; exit $rc")
    named = {
        "docker-squash": contender("docker-squash", f"{OUT}-squash",
                                   [squash, "-t", f"{OUT}-squash", src]),
        "docker export | docker import": contender("docker export | docker import",
                                                   f"{OUT}-exim", export_import, shell=True),
        "slim --via offline": contender("slim --via offline", f"{OUT}-offline",
                                        slim + ["--via", "offline", "--tag", f"{OUT}-offline"]),
        "slim --via engine": contender("slim --via engine", f"{OUT}-engine",
                                       slim + ["--via", "engine", "--tag", f"{OUT}-engine"]),
        "slim --via offline --no-verify --no-compressed": contender(
            "slim --via offline --no-verify --no-compressed", f"{OUT}-offline-lean",
            slim + ["--via", "offline", "--tag", f"{OUT}-offline-lean", "--no-verify",
                    "--no-compressed"]),
        "slim --via engine --no-verify --no-compressed": contender(
            "slim --via engine --no-verify --no-compressed", f"{OUT}-engine-lean",
            slim + ["--via", "engine", "--tag", f"{OUT}-engine-lean", "--no-verify",
                    "--no-compressed"]),
    }
    m = r.best(named)
    sq = m["docker-squash"]["seconds"]
    ex = m["docker export | docker import"]["seconds"]

    def secs(res):   # a contender stopped at the timeout took at least that long
        return (">" if res.get("timed_out") else "") + f"{res['seconds']:.1f} s"

    rows = []
    for label, res in m.items():
        if label == "docker-squash":
            continue
        s = res["seconds"]
        res["output_bytes"] = sizes.get(label)
        rows.append({"what": f"docker-squash / {label}", "ratio": sq / s,
                     "lower_bound": bool(m["docker-squash"].get("timed_out")),
                     "value": f"{secs(res)} vs {secs(m['docker-squash'])}",
                     "target": 3.0 if label.startswith("slim") else None, "unit": "x",
                     "ok": (sq / s >= 3.0) if label.startswith("slim") else None,
                     "at_least": True})
        if label.startswith("slim"):
            rows.append({"what": f"{label} / docker export | docker import", "ratio": s / ex,
                         "value": f"{s:.1f} s vs {ex:.1f} s", "target": None, "unit": "x",
                         "ok": None})
    m["docker-squash"]["output_bytes"] = sizes.get("docker-squash")
    m["source image"] = {"seconds": 0.0, "output_bytes": _image_size(src)}
    return {"measurements": m, "rows": rows}
