"""slim --trace on the target images of issue 15: sizes before/after, files kept per
reason, the tracing overhead on the probes' run time, and the whole `slim --trace`
against a plain `docker export | docker import` of the same image.

    PYTHONPATH=. python3 bench/trace_bench.py [busybox c python nginx] [--json FILE]

The images are built from the offline bases by tests/support/trace_images.py (cached in
the engine by their inputs). Every tag and container made here is removed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

OUT = "slimscope-bench/trace-out"


def _sh(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, **kw)


def _engine_size(ref: str) -> int:
    p = _sh(["docker", "image", "inspect", "--format", "{{.Size}}", ref], text=True)
    return int(p.stdout.strip()) if p.returncode == 0 else -1


def export_import(ref: str) -> float:
    """Seconds for `docker create` + `docker export | docker import` (the plain flatten)."""
    tag = f"{OUT}:plain-{uuid.uuid4().hex[:8]}"
    cid = _sh(["docker", "create", ref, "/none"], text=True).stdout.strip()
    t0 = time.monotonic()
    try:
        exp = subprocess.Popen(["docker", "export", cid], stdout=subprocess.PIPE)
        imp = _sh(["docker", "import", "-", tag], stdin=exp.stdout)
        exp.wait()
        if imp.returncode or exp.returncode:
            raise RuntimeError(f"export | import failed: {imp.stderr[-500:]!r}")
        return time.monotonic() - t0
    finally:
        _sh(["docker", "rm", "-f", cid])
        _sh(["docker", "rmi", "-f", tag])


def probe_overhead(ref: str, probe_args: list, config: dict) -> dict:
    """The probes' run time on the original, plain and under the watch."""
    from slimscope.engine import engine_client
    from slimscope.slim.trace import probes
    from slimscope.slim.trace.containers import Containers
    from slimscope.slim.trace.tracer import Tracer

    execs = [probe_args[i + 1] for i, a in enumerate(probe_args) if a == "--exec"]
    http = [probe_args[i + 1] for i, a in enumerate(probe_args) if a == "--http-probe"]
    client = engine_client()
    found = probes.parse(execs, http, None, None)
    ports = probes.resolve_ports(found.service, config) if found.service else []
    box = Containers(client)
    try:
        t0 = time.monotonic()
        probes.run_all(box, ref, found, ports)
        plain = time.monotonic() - t0
        tracer = Tracer(client)
        t0 = time.monotonic()
        probes.run_all(box, ref, found, ports, tracer)
        traced = time.monotonic() - t0
        tracer.close()
    finally:
        box.remove_all()
    return {"plain_s": round(plain, 3), "traced_s": round(traced, 3),
            "overhead": round(traced / plain - 1, 4) if plain else None}


def bench(name: str) -> dict:
    from slimscope.core.analysis import analyze
    from tests.support import trace_images as T

    ref = T.build(name)
    _tag, _df, _files, probe_args, target = T.TARGETS[name]
    before = analyze(ref, use_cache=True)
    tag = f"{OUT}:{name}-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    p = _sh([sys.executable, "-m", "slimscope", "slim", ref, "--trace", *probe_args,
             "--tag", tag, "--json", "--no-compressed"], text=True)
    whole = time.monotonic() - t0
    if p.returncode:
        return {"image": name, "error": p.stderr.strip()[-800:]}
    try:
        doc = json.loads(p.stdout)
        row = {
            "image": name,
            "content_before": doc["before"]["total_bytes"],
            "content_after": doc["after"]["total_bytes"],
            "engine_size_before": _engine_size(ref),
            "engine_size_after": _engine_size(tag),
            "ratio": round(doc["before"]["total_bytes"] / max(doc["after"]["total_bytes"], 1),
                           2),
            "target_ratio": target,
            "kept_by_reason": doc["trace"]["kept_by_reason"],
            "probes_same": all(x["same"] for x in doc["trace"]["probes"]),
            "slim_trace_s": round(whole, 2),
            "stages_s": doc["trace"]["timings"],
            "export_import_s": round(export_import(ref), 2),
            "probe_run": probe_overhead(ref, probe_args, before.image.config),
        }
    finally:
        _sh(["docker", "rmi", "-f", tag])
    return row


def render(rows: list) -> str:
    from slimscope.core.fmt import size
    lines = ["| image | before | after | ratio (target) | kept per reason (paths/bytes) | "
             "probe run plain / traced | slim --trace | export\\|import |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['image']} | error: {r['error'][:100]} |||||||")
            continue
        kept = ", ".join(f"{k} {v['paths']}/{size(v['bytes'])}"
                         for k, v in sorted(r["kept_by_reason"].items(),
                                            key=lambda kv: -kv[1]["bytes"]))
        pr = r["probe_run"]
        lines.append(f"| {r['image']} | {size(r['content_before'])} | {size(r['content_after'])}"
                     f" | {r['ratio']}× ({r['target_ratio'] or '-'}×) | {kept} | "
                     f"{pr['plain_s']} s / {pr['traced_s']} s | {r['slim_trace_s']} s | "
                     f"{r['export_import_s']} s |")
    return "\n".join(lines)


def main(argv) -> int:
    from tests.support import trace_images as T
    out = None
    if "--json" in argv:
        i = argv.index("--json")
        out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    names = argv or list(T.TARGETS)
    rows = [bench(n) for n in names]
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=2)
    print(render(rows))
    return 0 if all("error" not in r and r["probes_same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
