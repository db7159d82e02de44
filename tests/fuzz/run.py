"""Run generated cases through the real CLI and hold every run to the contract:
exit 0 with a valid report, or exit 2 with exactly one stderr line that names no
Python exception; within RUN_SECONDS; under MEMORY_BYTES; writing nothing but
its output; leaving its inputs' bytes as they were."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass

from tests.fuzz.cases import FAMILIES, Case

RUN_SECONDS = 20
MEMORY_BYTES = 3 << 30          # address space per process: a bomb must not get near it
EXCEPTION = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|unexpected error")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Outcome:
    family: str
    seed: int
    kind: str          # ok, refused, or what went wrong
    detail: str = ""
    seconds: float = 0.0


def _snapshot(d: str) -> dict[str, str]:
    """Every path under d with its type and, for regular files, a hash of its bytes."""
    out = {}
    for top, dirs, files in os.walk(d):
        for name in dirs + files:
            p = os.path.join(top, name)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    out[p] = "f:" + hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                out[p] = "l:" + os.readlink(p)
            else:
                out[p] = f"t:{stat.S_IFMT(st.st_mode):o}"
    return out


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_case(case: Case, scratch: str) -> tuple[str, str, float]:
    os.makedirs(os.path.join(scratch, "tmp"), exist_ok=True)
    before = _snapshot(scratch)
    env = {**os.environ, "PYTHONPATH": ROOT, "SLIMSCOPE_NO_CACHE": "1", "NO_COLOR": "1",
           "TMPDIR": os.path.join(scratch, "tmp"), **case.env}
    env = {k: v for k, v in env.items() if v != ""}
    start = time.monotonic()
    try:
        r = subprocess.run([sys.executable, "-m", "slimscope", *case.args], capture_output=True,
                           text=True, errors="replace", timeout=RUN_SECONDS, env=env, cwd=scratch,
                           preexec_fn=_limits, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hang", f"over {RUN_SECONDS} s", time.monotonic() - start
    took = time.monotonic() - start
    after = _snapshot(scratch)
    allowed = {case.output} if case.output else set()
    tmp = env["TMPDIR"]
    ours = (tmp + "/", os.path.join(scratch, "cache") + "/")  # the tool's own: TMPDIR, cache
    changed = sorted(p for p in before if after.get(p) != before[p] and p not in allowed
                     and not p.startswith(ours))
    added = sorted(p for p in after if p not in before and p not in allowed
                   and not p.startswith(ours))
    if os.listdir(tmp):
        added.append(f"left in TMPDIR: {sorted(os.listdir(tmp))[:3]}")
    if changed:
        return "input-changed", ", ".join(changed[:3]), took
    if added:
        return "wrote-outside", ", ".join(added[:3]), took
    lines = r.stderr.strip().splitlines()
    if r.returncode == 0 or (r.returncode == 1 and case.args[0] in ("lint", "dockerfile", "diff")):
        if case.report_json:
            try:
                doc = json.loads(r.stdout)
            except ValueError:
                return "bad-report", r.stdout[:200], took
            if not isinstance(doc, dict) or doc.get("schema") != "slimscope.analysis/v1":
                return "bad-report", str(doc)[:200], took
        return "ok", "", took
    if r.returncode != 2:
        return f"exit-{r.returncode}", r.stderr[-300:], took
    if len(lines) != 1:
        return "not-one-line", r.stderr[-300:], took
    if EXCEPTION.search(lines[0]):
        return "exception", lines[0][:300], took
    return "refused", lines[0][:200], took


def run(count: int, seed: int, families: list[str] | None = None,
        deadline: float | None = None) -> list[Outcome]:
    names = families or sorted(FAMILIES)
    outcomes = []
    for k in range(count):
        if deadline is not None and time.monotonic() > deadline:
            break
        family = names[k % len(names)]
        case_seed = seed * 1_000_003 + k
        rnd = random.Random(case_seed)
        scratch = tempfile.mkdtemp(prefix="slimscope-fuzz-")
        try:
            try:
                case = FAMILIES[family](rnd, scratch)
            except Exception as e:  # a bug of the generator: reported, the run goes on
                kind, detail, took = "generator-error", repr(e)[:200], 0.0
            else:
                kind, detail, took = run_case(case, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        outcomes.append(Outcome(family, case_seed, kind, detail, took))
    return outcomes


GOOD = {"ok", "refused"}


def summary(outcomes: list[Outcome]) -> str:
    by = Counter((o.family, o.kind) for o in outcomes)
    lines = [f"{len(outcomes)} runs"]
    for (family, kind), n in sorted(by.items()):
        lines.append(f"  {family:14} {kind:14} {n}")
    bad = [o for o in outcomes if o.kind not in GOOD]
    for o in bad[:20]:
        lines.append(f"FAIL {o.family} seed={o.seed} {o.kind}: {o.detail}")
    return "\n".join(lines)
