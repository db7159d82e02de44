"""slimscope benchmarks: `python bench/run.py [--quick] [--only NAME] [--repeat N]`.

Generates big images deterministically (no engine needed; see gen.py) into a
cache directory outside git ($SLIMSCOPE_BENCH_DIR, default ~/.cache/slimscope-bench),
then measures slimscope against baselines run by this same script, so that the
ratios hold on a noisy machine: each measurement runs in its own process
(bench/tasks.py, peak memory = that process's ru_maxrss), the runs of a
measurement and of its baseline are interleaved, and the best of --repeat runs
is kept.

A full run (no --quick, no --only) rewrites the generated part of
bench/RESULTS.md; any other run prints the table only (or writes with --write).

Benchmarks (--only takes a comma-separated list):
  small        (a) 200,000 small files over 10 layers, docker-save archive
  big          (b) a few very large files (5 GiB) over 3 layers, docker-save archive
  oci-gzip     (c) (a) as an OCI layout with gzip layers
  oci-zstd     (c) (a) as an OCI layout with zstd layers
  reuse        second analyze of an image sharing 9 of 10 layers with (a)
  tui          TUI time-to-usable, layer switch and filter on (a)    [slimscope.tui]
  html         HTML report of (a): page size, time to interactive    [chromium, selenium]
  slim         slim --via offline/engine vs docker-squash vs export|import [engine]
  peers        beside dive 0.13.1 and docker-squash, medians, a table of its own (peers_bench.py;
               quick-scale images even in a full run, or --peers-scale issue: the
               sizes issue 19 measured dive on)                [tmux; engine for one row]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import gen  # noqa: E402

ALL = ("small", "big", "oci-gzip", "oci-zstd", "reuse", "tui", "html", "slim", "peers")
MARK_START = "<!-- results:start (written by bench/run.py) -->"
MARK_END = "<!-- results:end -->"


# -- running one measurement ----------------------------------------------------

class Runner:
    def __init__(self, code: str, repeat: int, verbose: bool = True):
        self.code = code           # a slimscope checkout to measure (default: this one)
        self.repeat = repeat
        self.verbose = verbose

    def child(self, *args, env=None) -> dict:
        e = dict(os.environ)
        e["PYTHONPATH"] = self.code + os.pathsep + HERE
        e["SLIMSCOPE_BENCH_CODE"] = self.code
        e.pop("SLIMSCOPE_CACHE_DIR", None)
        e.update(env or {})
        p = subprocess.run([sys.executable, os.path.join(HERE, "tasks.py"), *args],
                           capture_output=True, text=True, env=e, cwd=self.code)
        if p.returncode != 0:
            raise RuntimeError(f"task {args} failed:\n{p.stderr[-3000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def best(self, named: dict) -> dict:
        """Run each named task `repeat` times, interleaved; keep the fastest run of each.

        named: label -> callable returning a result dict with "seconds".
        """
        runs = {k: [] for k in named}
        for _ in range(self.repeat):
            for label, fn in named.items():
                r = fn()
                runs[label].append(r)
                if self.verbose:
                    print(f"    {label:<34} {r['seconds']:8.3f} s  {r.get('maxrss_kb', 0) / 1024:8.1f} MiB",
                          file=sys.stderr, flush=True)
        out = {}
        for label, rs in runs.items():
            b = min(rs, key=lambda r: r["seconds"])
            b = dict(b)
            b["all_seconds"] = [round(r["seconds"], 4) for r in rs]
            b["maxrss_kb"] = min(r.get("maxrss_kb", 0) for r in rs)
            out[label] = b
        return out


# -- benchmarks --------------------------------------------------------------------

def bench_read(r: Runner, path: str, bases: dict) -> dict:
    """analyze with and without hashing vs reading the image once."""
    # The baselines read in one process, so analyze is held to them in one process too
    # (SLIMSCOPE_JOBS=1); the default, a worker process per core, is measured besides.
    one = {"SLIMSCOPE_JOBS": "1"}
    m = r.best({
        "read: tar headers only": lambda: r.child("headers", path),
        "read: headers + sha256 of bodies": lambda: r.child("headers+sha256", path),
        "analyze --no-hash": lambda: r.child("analyze", path, "nohash", env=one),
        "analyze (hashing)": lambda: r.child("analyze", path, "hash", env=one),
        "analyze (hashing), default processes": lambda: r.child("analyze", path, "hash"),
    })
    head = m["read: tar headers only"]["seconds"]
    sha = m["read: headers + sha256 of bodies"]["seconds"]
    entries = m["analyze (hashing)"]["entries"]
    par = m["analyze (hashing), default processes"]
    jobs = par.get("jobs", 1)
    rows = [
        _row("analyze --no-hash / tar headers only", m["analyze --no-hash"]["seconds"], head,
             2.0),
        _row("analyze (hashing) / headers + sha256", m["analyze (hashing)"]["seconds"], sha, 1.3),
        _row(f"analyze (hashing), {jobs} process{'es' if jobs > 1 else ''} / headers + sha256",
             par["seconds"], sha, 1.3),
        {"what": f"analyze (hashing), {jobs} process{'es' if jobs > 1 else ''}: peak memory",
         "value": f"{par['maxrss_kb'] / 1024:.0f} MiB in the main process, "
                  f"{par.get('children_maxrss_kb', 0) / 1024:.0f} MiB in the largest worker",
         "ratio": None, "target": None, "unit": "B", "ok": None},
    ]
    for label, mode in (("analyze --no-hash", "nohash"), ("analyze (hashing)", "hash")):
        peak = m[label]["maxrss_kb"]
        base_kb = bases[mode]
        if entries < 1000:   # a few huge files: what matters is that memory stays flat
            rows.append({"what": f"{label}: peak memory above base",
                         "value": f"{(peak - base_kb) / 1024:.1f} MiB above the {base_kb / 1024:.0f} MiB "
                                  f"base ({entries} entries)", "ratio": None, "target": None,
                         "unit": "B", "ok": None})
            continue
        per = (peak - base_kb) * 1024 / max(entries, 1)
        rows.append({"what": f"{label}: peak memory per entry above base",
                     "value": f"{per:.0f} B/entry ({peak / 1024:.0f} MiB peak, base "
                              f"{base_kb / 1024:.0f} MiB, {entries:,} entries)",
                     "ratio": per, "target": 300, "unit": "B", "ok": per <= 300})
    return {"measurements": m, "rows": rows, "entries": entries}


def _row(what, value, baseline, target):
    ratio = value / baseline if baseline else float("inf")
    return {"what": what, "value": f"{value:.2f} s vs {baseline:.2f} s", "ratio": ratio,
            "target": target, "unit": "x", "ok": ratio <= target}


def bench_reuse(r: Runner, imgs: gen.Images) -> dict:
    first, second = imgs.small_oci("gzip"), imgs.small_sibling_oci()
    tmp = tempfile.mkdtemp(prefix="slimscope-bench-cache-")

    def fresh():
        d = tempfile.mkdtemp(dir=tmp)
        return d

    def cold():
        return r.child("analyze", second, "hash", fresh())

    def warm():
        d = fresh()
        r.child("analyze", first, "hash", d)   # fills the layer-index cache
        return r.child("analyze", second, "hash", d)

    try:
        m = r.best({"analyze image 2, empty cache": cold,
                    "analyze image 2 after image 1": warm})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c = m["analyze image 2, empty cache"]["seconds"]
    w = m["analyze image 2 after image 1"]["seconds"]
    return {"measurements": m, "rows": [
        {"what": "second analyze, 9 of 10 layers cached / cold analyze", "ratio": w / c,
         "value": f"{w:.2f} s vs {c:.2f} s", "target": None, "unit": "x", "ok": None}]}


def bench_tui(r: Runner, imgs: gen.Images) -> dict:
    """On (a): cold (docker archive, no cache) and warm (OCI gzip, layer indexes cached)."""
    archive, layout = imgs.small_archive(), imgs.small_oci("gzip")
    tmp = tempfile.mkdtemp(prefix="slimscope-bench-tui-")
    try:
        warm_cache = os.path.join(tmp, "cache")
        r.child("analyze", layout, "hash", warm_cache)     # a first look fills the cache
        m = r.best({"tui, cold (docker archive)": lambda: r.child("tui", archive),
                    "tui, warm cache (OCI gzip)": lambda: r.child("tui", layout, warm_cache),
                    "analyze alone (docker archive)": lambda: r.child("analyze", archive, "hash")})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cold, warm = m["tui, cold (docker archive)"], m["tui, warm cache (OCI gzip)"]
    alone = m["analyze alone (docker archive)"]["seconds"]
    rows = [
        {"what": "first screen up and answering keys (loading panel)", "ratio": cold["first_screen"],
         "value": f"{cold['first_screen']:.2f} s", "target": 2.0, "unit": "s",
         "ok": cold["first_screen"] <= 2.0},
        {"what": "file tree usable, cold (no cache)", "ratio": cold["usable"],
         "value": f"{cold['usable']:.2f} s (analyze alone {alone:.2f} s: "
                  f"{cold['usable'] / alone:.2f}×)", "target": 2.0, "unit": "s",
         "ok": cold["usable"] <= 2.0},
        {"what": "file tree usable, warm layer-index cache", "ratio": warm["usable"],
         "value": f"{warm['usable']:.2f} s", "target": 2.0, "unit": "s", "ok": warm["usable"] <= 2.0},
    ]
    for label, res in (("cold", cold), ("warm", warm)):
        if "complete" in res:   # the tree above may be a preview of the first layers
            rows.append({"what": f"whole image shown ({label})", "ratio": res["complete"],
                         "value": f"{res['complete']:.2f} s", "target": None, "unit": "s",
                         "ok": None})
    for label, res in (("cold", cold), ("warm", warm)):
        rows.append({"what": f"switch layer ({label}; median of 6, max {max(res['layer_switches']) * 1000:.0f} ms)",
                     "ratio": res["layer_switch"] * 1000,
                     "value": f"{res['layer_switch'] * 1000:.0f} ms", "target": 100, "unit": "ms",
                     "ok": res["layer_switch"] * 1000 <= 100})
        rows.append({"what": f"apply a filter ({label}; median of 3, max {max(res['filters']) * 1000:.0f} ms)",
                     "ratio": res["filter"] * 1000,
                     "value": f"{res['filter'] * 1000:.0f} ms", "target": 100, "unit": "ms",
                     "ok": res["filter"] * 1000 <= 100})
    return {"measurements": m, "rows": rows}


def bench_slim(r: Runner, imgs: gen.Images, repeat: int) -> dict:
    import slim_bench  # bench/slim_bench.py: needs the engine
    return slim_bench.run(Runner(r.code, repeat, r.verbose), imgs)


# -- the report ----------------------------------------------------------------------

def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "memory": mem, "cpu": cpu,
            "python": platform.python_version(), "os": platform.platform()}


def _fmt_target(row):
    t = row["target"]
    if t is None:
        return "—"
    if row.get("at_least"):
        return f"≥ {t}×"
    return {"x": f"≤ {t}×", "B": f"≤ {t} B", "s": f"≤ {t} s", "ms": f"≤ {t} ms"}[row["unit"]]


def _fmt_ratio(row):
    u = row["unit"]
    if u == "x":
        return f"**{'≥ ' if row.get('lower_bound') else ''}{row['ratio']:.2f}×**"
    return "—"


def render(results: dict, scale: gen.Scale, repeat: int, elapsed: float,
           slim_repeat: int = 1) -> str:
    mach = machine()
    peers = {k: v for k, v in results.items() if v.get("kind") == "peers"}
    results = {k: v for k, v in results.items() if k not in peers}
    lines = [MARK_START, "",
             f"Scale: **{scale.name}** ({scale.small_files:,} small files; "
             f"{scale.big_total / (1 << 30):.2f} GiB of big files)"
             + (f"; best of {repeat} runs (slim: {slim_repeat})" if results else "")
             + (f"; whole run {elapsed / 60:.1f} min." if elapsed else "."), "",
             f"Machine: {mach['nproc']} CPUs ({mach['cpu']}), {mach['memory']} RAM, "
             f"Python {mach['python']}, {mach['os']}.", ""]
    if results:
        lines += ["| benchmark | measurement | figures | ratio | target | met |",
                  "| --- | --- | --- | --- | --- | --- |"]
    for name, res in results.items():
        if "skipped" in res:
            lines.append(f"| {name} | skipped: {res['skipped']} | | | | |")
            continue
        for row in res["rows"]:
            ok = "" if row["ok"] is None else ("yes" if row["ok"] else "**no**")
            cells = [name, row["what"], row["value"], _fmt_ratio(row), _fmt_target(row), ok]
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    if peers:
        import peers_bench  # bench/peers_bench.py
    for name, res in peers.items():
        lines += ["" if results else None,
                  f"**{name[0].upper()}{name[1:]}** ({res['scale']}-scale images; medians of "
                  f"{repeat} runs; CPU = user + sys of the whole process tree, peak RSS = its "
                  "biggest process):", "", *peers_bench.render(res)]
    lines = [x for x in lines if x is not None]
    lines += ["", "Raw figures (seconds are the best run; all runs listed; peak RSS of the "
              "measuring process):" if results else "Raw figures:", ""]
    for name, res in results.items():
        if "skipped" in res:
            continue
        lines.append(f"- **{name}**")
        for label, m in res["measurements"].items():
            runs = ", ".join(f"{s:.2f}" for s in m.get("all_seconds", []))
            extra = []
            if m.get("maxrss_kb"):
                extra.append(f"peak {m['maxrss_kb'] / 1024:.0f} MiB")
            if m.get("output_bytes") is not None:
                extra.append(f"image size in the engine {m['output_bytes'] / 1e6:.1f} MB")
            lines.append(f"  - {label}: {m['seconds']:.3f} s (runs: {runs})"
                         + "".join(", " + e for e in extra))
    for name, res in peers.items():
        lines += [f"- **{name}** (every run)", *peers_bench.render_raw(res)]
    lines += ["", MARK_END]
    return "\n".join(lines)


def write_results(text: str, path: str) -> None:
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if MARK_START in old and MARK_END in old:
        head, rest = old.split(MARK_START, 1)
        tail = rest.split(MARK_END, 1)[1]
        new = head + text + tail
    else:
        new = "# slimscope benchmark results\n\n" + text + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--quick", action="store_true", help="a tenth of the files, 256 MiB of big files")
    ap.add_argument("--scale", choices=sorted(gen.SCALES), help="full (default), quick, or smoke "
                    "(2,000 files: checks the script works; its figures mean nothing)")
    ap.add_argument("--peers-scale", choices=("quick", "issue"), default="quick",
                    help="images of the peers table: quick (default) or the sizes issue 19 "
                         "measured dive on (590 MB Debian, 200k files, 1.5 GiB of big files)")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    ap.add_argument("--only", help="comma-separated benchmarks: " + ", ".join(ALL))
    ap.add_argument("--repeat", type=int, help="runs per measurement, best kept (default 3, quick 1)")
    ap.add_argument("--slim-repeat", type=int, default=1,
                    help="runs per slim contender (default 1: each takes minutes at full scale)")
    ap.add_argument("--code", default=REPO, help="slimscope checkout to measure (default: this one)")
    ap.add_argument("--write", metavar="PATH", help="write the results section to PATH")
    ap.add_argument("--json", metavar="PATH", help="also dump every figure as JSON")
    ap.add_argument("--render", metavar="JSON", nargs="+",
                    help="no measuring: render the results saved with --json (several merge)")
    args = ap.parse_args(argv)
    if args.render:
        results, scale = {}, gen.FULL
        for path in args.render:
            with open(path) as f:
                doc = json.load(f)
            results.update(doc["results"])
            scale = gen.SCALES.get(doc.get("scale"), scale)
        text = render(results, scale, args.repeat or 3, 0.0, args.slim_repeat)
        print(text)
        if args.write:
            write_results(text, args.write)
        return

    scale = gen.SCALES[args.scale] if args.scale else gen.QUICK if args.quick else gen.FULL
    repeat = args.repeat or (3 if scale is gen.FULL else 1)
    only = [s.strip() for s in args.only.split(",")] if args.only else list(ALL)
    bad = [s for s in only if s not in ALL]
    if bad:
        ap.error(f"unknown benchmark(s): {', '.join(bad)}; choose from {', '.join(ALL)}")
    t_start = time.perf_counter()
    imgs = gen.Images(scale)
    r = Runner(os.path.abspath(args.code), repeat)

    print(f"generating images under {imgs.root} (reused when present)", file=sys.stderr)
    bases = {}

    def base():
        """Peak RSS of analyze on a tiny image, per mode: the fixed part of the memory."""
        if not bases:
            tiny = imgs.tiny_archive()
            for mode in ("hash", "nohash"):
                bases[mode] = min(r.child("analyze", tiny, mode)["maxrss_kb"] for _ in range(3))
        return bases

    results = {}
    for name in only:
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            if name == "small":
                results["(a) small files, docker archive"] = bench_read(r, imgs.small_archive(), base())
            elif name == "big":
                results["(b) big files, docker archive"] = bench_read(r, imgs.big_archive(), base())
            elif name == "oci-gzip":
                results["(c) small files, OCI gzip"] = bench_read(r, imgs.small_oci("gzip"), base())
            elif name == "oci-zstd":
                results["(c) small files, OCI zstd"] = bench_read(r, imgs.small_oci("zstd"), base())
            elif name == "reuse":
                results["layer-index reuse"] = bench_reuse(r, imgs)
            elif name == "tui":
                if not os.path.isdir(os.path.join(args.code, "slimscope", "tui")):
                    results["TUI on (a)"] = {"skipped": "slimscope.tui is not in this checkout"}
                else:
                    results["TUI on (a)"] = bench_tui(r, imgs)
            elif name == "html":
                import html_bench  # bench/html_bench.py: needs chromium and selenium
                results["HTML report of (a)"] = html_bench.run(r, imgs)
            elif name == "slim":
                results["slim"] = bench_slim(r, imgs, args.slim_repeat or repeat)
            elif name == "peers":
                import peers_bench  # bench/peers_bench.py: dive, tmux, docker-squash
                # not full scale: dive alone would take minutes a run on the small image
                peer_scale = gen.ISSUE if args.peers_scale == "issue" else \
                    gen.QUICK if scale is gen.FULL else scale
                peer_imgs = gen.Images(peer_scale, os.path.dirname(imgs.root))
                results["beside dive and docker-squash"] = peers_bench.run(r, peer_imgs)
        except Skip as e:
            results[name] = {"skipped": str(e)}
        if args.json:   # keep what is done even if a later benchmark fails
            with open(args.json, "w") as f:
                json.dump({"machine": machine(), "scale": scale.name, "results": results}, f,
                          indent=1, default=str)
    elapsed = time.perf_counter() - t_start
    text = render(results, scale, repeat, elapsed, args.slim_repeat or repeat)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "scale": scale.name, "results": results}, f,
                      indent=1, default=str)
    target = args.write or (os.path.join(HERE, "RESULTS.md")
                            if scale is gen.FULL and not args.only and not args.no_write else None)
    if target:
        write_results(text, target)
        print(f"wrote {target}", file=sys.stderr)


class Skip(Exception):
    pass


if __name__ == "__main__":
    main()
