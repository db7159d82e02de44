"""Proof that the slimmed image is the input minus what was asked to go.

The output is analyzed like any image and its final filesystem compared with the
input's (path, type, size, mode, owner, link target) through slimscope.snapshot;
the runtime config is compared field by field. --smoke runs both images.
"""

from __future__ import annotations

import shlex

from slimscope import snapshot
from slimscope.errors import BadInput

CONFIG_FIELDS = ("Cmd", "Entrypoint", "Env", "ExposedPorts", "Labels", "OnBuild", "User",
                 "Volumes", "WorkingDir", "StopSignal", "Healthcheck", "Shell")


def expected_snapshot(analysis, plan) -> dict:
    snap = snapshot.from_analysis(analysis)
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


def differences(input_analysis, plan, output_analysis) -> list:
    """Every way the output differs from the input minus the plan, one line each."""
    fs = snapshot.diff(expected_snapshot(input_analysis, plan),
                       snapshot.from_analysis(output_analysis))
    return fs + config_differences(input_analysis.image.config, output_analysis.image.config)


def run_once(client, image: str, argv: list, timeout: int = 120):
    """(exit code, stdout) of `docker run --rm --network none image argv`."""
    import docker
    try:
        cid = client.api.create_container(image, command=argv, network_disabled=True)["Id"]
    except docker.errors.APIError as e:
        raise BadInput(f"--smoke: cannot create a container from {image}: "
                       f"{e.explanation or e}") from None
    try:
        client.api.start(cid)
        try:
            code = client.api.wait(cid, timeout=timeout)["StatusCode"]
        except Exception:
            raise BadInput(f"--smoke: the command did not finish within {timeout}s in {image}"
                           ) from None
        out = client.api.logs(cid, stdout=True, stderr=False)
        return code, out
    finally:
        client.api.remove_container(cid, force=True)


def smoke_argv(command: str) -> list:
    """Split a --smoke command the way a shell would, or say why it cannot be."""
    try:
        argv = shlex.split(command)
    except ValueError as e:
        raise BadInput(f"--smoke: cannot split {command!r}: {e}") from None
    if not argv:
        raise BadInput("--smoke wants a command, e.g. --smoke 'python -c \"import app\"'")
    return argv


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
