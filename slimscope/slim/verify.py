"""Proof that the slimmed image is the input minus what was asked to go.

The output is analyzed like any image and its final filesystem compared with the
input's (path, type, size, mode, owner, link target) through slimscope.core.snapshot;
the runtime config is compared field by field. --smoke runs both images.
"""

from __future__ import annotations

from slimscope.core import snapshot
from slimscope.engine import run_once, smoke_argv

CONFIG_FIELDS = ("Cmd", "Entrypoint", "Env", "ExposedPorts", "Labels", "OnBuild", "User",
                 "Volumes", "WorkingDir", "StopSignal", "Healthcheck", "Shell")


def expected_snapshot(analysis, plan) -> dict:
    # Both sides are images (not a container's export), so the files at the names the
    # engine mounts over (/etc/hostname, /etc/resolv.conf, ...) are the image's own and
    # are compared like any other: both ways of writing keep them.
    snap = snapshot.from_analysis(analysis, drop_engine_paths=False)
    for path in plan.removed:
        snap.pop(path, None)
    return snap


def _norm(v):
    return None if v in (None, "", [], {}) else v


def config_differences(before: dict, after: dict) -> list:
    a = before.get("config") or {}
    b = after.get("config") or {}
    out = []
    for f in CONFIG_FIELDS:
        if _norm(a.get(f)) != _norm(b.get(f)):
            out.append(f"config {f}: expected {a.get(f)!r}, got {b.get(f)!r}")
    for f in ("os", "architecture", "variant"):
        if _norm(before.get(f)) != _norm(after.get(f)):
            out.append(f"config {f}: expected {before.get(f)!r}, got {after.get(f)!r}")
    return out


def base_differences(input_analysis, output_analysis, kept: int) -> list:
    """The first `kept` layers must be the input's, byte for byte and in order: that is
    what lets the output share its base with every other image built on it."""
    before = [l.diff_id for l in input_analysis.layers[:kept]]
    after = [l.diff_id for l in output_analysis.layers[:kept]]
    return [f"layer {i}: expected the base layer {b[:19]}, got {a[:19] if a else 'none'}"
            for i, (b, a) in enumerate(zip(before, after + [""] * (kept - len(after))))
            if a != b]


def differences(input_analysis, plan, output_analysis, kept_base: int = 0) -> list:
    """Every way the output differs from the input minus the plan, one line each."""
    fs = snapshot.diff(expected_snapshot(input_analysis, plan),
                       snapshot.from_analysis(output_analysis, drop_engine_paths=False))
    return (base_differences(input_analysis, output_analysis, kept_base) + fs
            + config_differences(input_analysis.image.config, output_analysis.image.config))


def smoke(client, before: str, after: str, command: str) -> tuple:
    """Run `command` in both images; (problems, (code, stdout) of the original)."""
    argv = smoke_argv(command)
    a = run_once(client, before, argv)
    b = run_once(client, after, argv)
    problems = []
    if a[0] != b[0]:
        problems.append(f"--smoke {command!r}: exit code {b[0]}, the original gives {a[0]}")
    if a[1] != b[1]:
        problems.append(f"--smoke {command!r}: stdout differs from the original's "
                        f"({len(b[1])} bytes vs {len(a[1])})")
    return problems, a
