"""An image config as Dockerfile instructions: the one emitter, for the Dockerfile
generator's image-driven rewrite.

Every value is written so that Docker reads back what the config holds: JSON arrays
for exec forms, double-quoted words with `\\`, `"` and `$` escaped for ENV and LABEL,
and durations in Go's notation at their exact unit (`30s`, `500ms`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Optional

from slimscope.errors import BadInput

__all__ = ["FIELDS", "quote", "duration", "healthcheck_line", "config_lines"]

# The config fields a Dockerfile can set, in the order they are written by default.
FIELDS = ("Env", "Labels", "ExposedPorts", "Volumes", "WorkingDir", "StopSignal", "Shell",
          "Healthcheck", "User", "Entrypoint", "Cmd", "OnBuild")

_NS = (("h", 3600 * 10**9), ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3))


def quote(value: str) -> str:
    """A double-quoted Dockerfile word that the parser reads back as `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def duration(ns: int) -> str:
    """Nanoseconds as a Go duration at the largest unit that keeps them exact."""
    ns = int(ns)
    for unit, size in _NS:
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def healthcheck_line(hc: dict[str, Any]) -> Optional[str]:
    """HEALTHCHECK for a config's Healthcheck; None when its test is empty (inherited)."""
    test = list(hc.get("Test") or [])
    if not test:
        return None
    if test[0] == "NONE":
        return "HEALTHCHECK NONE"
    opts = []
    for key, flag in (("Interval", "interval"), ("Timeout", "timeout"),
                      ("StartPeriod", "start-period"), ("StartInterval", "start-interval")):
        if hc.get(key):
            opts.append(f"--{flag}={duration(hc[key])}")
    if hc.get("Retries"):
        opts.append(f"--retries={int(hc['Retries'])}")
    if test[0] == "CMD-SHELL":
        cmd = "CMD " + " ".join(test[1:])
    elif test[0] == "CMD":
        cmd = "CMD " + json.dumps(test[1:])
    else:
        raise BadInput(f"the image's healthcheck has a test a Dockerfile cannot express: {test!r}")
    return " ".join(["HEALTHCHECK", *opts, cmd])


def config_lines(cfg: dict[str, Any], fields: Iterable[str] = FIELDS) -> list[str]:
    """Dockerfile instructions that set `fields` of the image config `cfg` (its
    "config" object), in the order of `fields`; empty fields write nothing."""
    out: list[str] = []
    for f in fields:
        v = cfg.get(f)
        if v in (None, "", [], {}):
            continue
        if f == "Env":
            for item in v:
                key, _, value = item.partition("=")
                out.append(f"ENV {key}={quote(value)}")
        elif f == "Labels":
            out.extend(f"LABEL {quote(k)}={quote(val)}" for k, val in sorted(v.items()))
        elif f == "ExposedPorts":
            out.append("EXPOSE " + " ".join(sorted(v)))
        elif f == "Volumes":
            out.append("VOLUME " + json.dumps(sorted(v)))
        elif f == "WorkingDir":
            out.append("WORKDIR " + v.replace("$", "\\$"))
        elif f == "StopSignal":
            out.append("STOPSIGNAL " + v)
        elif f == "Shell":
            out.append("SHELL " + json.dumps(v))
        elif f == "Healthcheck":
            line = healthcheck_line(v)
            if line:
                out.append(line)
        elif f == "User":
            out.append("USER " + v)
        elif f == "Entrypoint":
            out.append("ENTRYPOINT " + json.dumps(v))
        elif f == "Cmd":
            out.append("CMD " + json.dumps(v))
        elif f == "OnBuild":
            out.extend("ONBUILD " + trigger for trigger in v)
        else:
            raise ValueError(f"no Dockerfile instruction sets the config field {f!r}")
    return out
