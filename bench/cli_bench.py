"""The `slimscope` command before and after a change, in one run:
`python bench/cli_bench.py OLD_CODE [IMAGE...] [--repeat N]`.

Runs each case (analyze cold, warm, --no-hash, --format json; `--version`) with the
checkout OLD_CODE and with this one, in turn, and prints for each the CPU (user +
sys of the whole process tree: getrusage(RUSAGE_CHILDREN) around the child, taken in
a fresh measuring process), wall and peak RSS (of the biggest process in the tree),
medians, and the ratio new/old. Without IMAGE: the demo sample and bench/gen.py's
quick small-files archive.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import installed

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

CASES = {
    "analyze cold": (["analyze", "{img}"], False),
    "analyze warm": (["analyze", "{img}"], True),
    "analyze --no-hash cold": (["analyze", "--no-hash", "{img}"], False),
    "analyze --format json cold": (["analyze", "--format", "json", "{img}"], False),
}


def measure(argv: list[str], env: dict, cwd: str) -> dict:
    """Run argv and return the whole tree's CPU, wall and peak RSS.

    Through GNU time when it is there: a process's peak RSS is kept across exec and
    starts from its parent's at fork, so a child of a Python probe can never read
    below the probe's own ~9-14 MiB; GNU time's few hundred KiB put no floor under
    either program. CPU is user + sys of the child and every descendant it reaped.
    """
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    if gnu_time:
        with tempfile.TemporaryFile() as err, \
                tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
            t = time.monotonic()
            p = subprocess.Popen([gnu_time, "-q", "-f", "%M", "-o", stats.name, *argv],
                                 env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
            # CPU from wait4 (microseconds, time's own is ~0), RSS from time (the child's)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            wall = time.monotonic() - t
            kib = stats.read().split()[-1]
            err.seek(0)
            got = {"rc": p.returncode, "err": err.read().decode(errors="replace")[-400:],
                   "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mib": int(kib) / 1024}
    else:
        probe = ("import json,resource,subprocess,sys,time\n"
                 "t=time.monotonic()\n"
                 "p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,"
                 "stderr=subprocess.PIPE)\n"
                 "w=time.monotonic()-t\n"
                 "r=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
                 "print(json.dumps({'rc':p.returncode,'err':p.stderr.decode()[-400:],'wall':w,"
                 "'cpu':r.ru_utime+r.ru_stime,'rss_mib':r.ru_maxrss/1024}))\n")
        out = subprocess.run([sys.executable, "-c", probe, *argv], env=env,
                             capture_output=True, text=True, check=True, cwd=cwd)
        got = json.loads(out.stdout)
    if got["rc"] not in (0, 1):  # 1: a gate failed, still a full analysis
        raise RuntimeError(f"{argv} failed: {got['err']}")
    return got


def run(code: str, args: list[str], cache: str | None) -> dict:
    env = dict(os.environ, PYTHONPATH=code)
    env.pop("SLIMSCOPE_NO_CACHE", None)
    # compiled modules kept, as an installed package has them (this machine sets
    # PYTHONDONTWRITEBYTECODE, which would make every run compile ~120 modules)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "slimscope-bench-pyc")
    if cache is None:
        env["SLIMSCOPE_NO_CACHE"] = "1"
    else:
        env["SLIMSCOPE_CACHE_DIR"] = cache
    # `-m` puts the working directory first on sys.path: run from the checkout measured
    return measure([installed.python(), "-m", "slimscope", *args], env, code)


def main(argv: list[str]) -> int:
    repeat = 3
    if "--repeat" in argv:
        i = argv.index("--repeat")
        repeat = int(argv[i + 1])
        del argv[i:i + 2]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    old = os.path.abspath(argv[0])
    new = os.path.abspath(os.environ.get("CLI_BENCH_NEW", REPO))  # another checkout, to compare two
    images = [os.path.abspath(i) for i in argv[1:]]
    if not images:
        sys.path.insert(0, HERE)
        import gen
        images = [os.path.join(REPO, "sample-images", "demo.tar"),
                  gen.Images(gen.QUICK).small_archive()]
    tmp = tempfile.mkdtemp(prefix="cli-bench-")
    try:
        rows = []
        for img in images:
            for label, (args, warm) in CASES.items():
                args = [a.format(img=img) for a in args]
                got: dict[str, list[dict]] = {"old": [], "new": []}
                if warm:
                    for side, code in (("old", old), ("new", new)):
                        run(code, args, os.path.join(tmp, side))  # fill it
                for _ in range(repeat):
                    for side, code in (("old", old), ("new", new)):
                        got[side].append(run(code, args, os.path.join(tmp, side) if warm else None))
                rows.append((os.path.basename(img), label, got))
        got = {"old": [], "new": []}
        for _ in range(repeat):
            for side, code in (("old", old), ("new", new)):
                got[side].append(run(code, ["--version"], None))
        rows.append(("-", "--version", got))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    print("| image | case | CPU old s | CPU new s | CPU new/old | wall new/old | "
          "peak RSS old MiB | new MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for img, label, got in rows:
        o, n = got["old"], got["new"]
        print(f"| {img} | {label} | {med(o, 'cpu'):.2f} | {med(n, 'cpu'):.2f} | "
              f"**{med(n, 'cpu') / med(o, 'cpu'):.2f}** | {med(n, 'wall') / med(o, 'wall'):.2f} | "
              f"{med(o, 'rss_mib'):.0f} | {med(n, 'rss_mib'):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
