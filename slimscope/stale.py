"""Temporaries that say who made them, so that a later run can remove what a killed
one left behind (kill -9, a power cut, a CI runner that gave up).

Every temporary file or directory slimscope makes next to an output or in its
cache is named `.slimscope-<kind>-<boot>-<pid>-<start>-<random>`: the kernel's boot
id, the process id and that process's start time. `sweep(directory)` removes only
names of that form whose process is gone (not running, or a different process now
holding the pid), on this same boot; anything else in the directory is never touched.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

_NAME = re.compile(r"^\.slimscope-[a-z]+-([0-9a-f]{8})-(\d+)-(\d+)-")


def _start_time(pid: int) -> str:
    """The process's start, in clock ticks since boot ("" when it is not running)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return ""
    # the command name may hold spaces and parentheses: fields count from the last ')'
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else ""


@lru_cache(maxsize=1)
def _boot() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip().replace("-", "")[:8]
    except OSError:
        return "00000000"


def prefix(kind: str) -> str:
    """The name start of a temporary made by this process."""
    pid = os.getpid()
    return f".slimscope-{kind}-{_boot()}-{pid}-{_start_time(pid) or 0}-"


# tempfile and shutil (with random, bz2, lzma) are imported where a temporary is made
# or removed: a warm run makes none, and they cost it ~3 ms and 1 MiB.
def mkstemp(kind: str, directory: str, suffix: str = "") -> tuple[int, str]:
    import tempfile
    return tempfile.mkstemp(prefix=prefix(kind), suffix=suffix, dir=directory)


def mkdtemp(kind: str, directory: str | None) -> str:
    import tempfile
    return tempfile.mkdtemp(prefix=prefix(kind), dir=directory)


def is_stale(name: str) -> bool:
    m = _NAME.match(name)
    if m is None:
        return False
    return owner_is_stale(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")


def owner() -> str:
    """This process, as temporaries outside the file system (engine tags, containers)
    name their maker: boot id, pid and start time."""
    pid = os.getpid()
    return f"{_boot()}-{pid}-{_start_time(pid) or 0}"


_OWNER = re.compile(r"^([0-9a-f]{8})-(\d+)-(\d+)$")


def owner_is_stale(who: str) -> bool:
    """True when the process `who` names (see owner()) has ended on this boot."""
    m = _OWNER.match(who)
    if m is None or m.group(1) != _boot():
        return False  # not ours, or made on another boot/host we cannot ask about
    pid, start = int(m.group(2)), m.group(3)
    if pid == os.getpid():
        return False
    now = _start_time(pid)
    return now == "" or (start != "0" and now != start)


def sweep(directory: str | None) -> list[str]:
    """Remove the stale temporaries of earlier runs from `directory`; never fails."""
    removed: list[str] = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return removed
    for name in names:
        if not name.startswith(".slimscope-") or not is_stale(name):
            continue
        path = os.path.join(directory or ".", name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                import shutil
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError:
            pass
    return removed
