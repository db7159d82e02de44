"""Temporaries left by a killed run are removed by the next one, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys

from slimscope import stale
from tests.support.hostile import run_cli
from tests.support.synth import docker_archive


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _name(kind: str, pid: int, start: str) -> str:
    return f".slimscope-{kind}-{stale._boot()}-{pid}-{start}-abc123"


def test_sweep_removes_only_stale_own_names(tmp_path):
    dead = tmp_path / _name("work", _dead_pid(), "12345")
    dead.mkdir()
    (dead / "layer.tar").write_bytes(b"x" * 100)
    dead_file = tmp_path / (_name("staged", _dead_pid(), "1") + ".tar")
    dead_file.write_bytes(b"x")
    ppid = os.getppid()
    alive = tmp_path / _name("work", ppid, stale._start_time(ppid))
    alive.mkdir()
    reused = tmp_path / _name("work", ppid, "999999999999")   # same pid, another process
    reused.mkdir()
    foreign = [tmp_path / ".slimscope-work-abc", tmp_path / "user.tar",
               tmp_path / f".slimscope-work-ffffffff-{_dead_pid()}-1-x"]   # another boot
    for f in foreign:
        f.write_bytes(b"keep")
    removed = stale.sweep(str(tmp_path))
    assert sorted(removed) == sorted([str(dead), str(dead_file), str(reused)])
    assert alive.exists() and all(f.exists() for f in foreign)


def test_the_next_slim_removes_what_a_killed_one_left(tmp_path):
    src = docker_archive(str(tmp_path / "in.tar"), [[("etc", "dir"), ("etc/a", "file", b"a")]])
    left = tmp_path / _name("work", _dead_pid(), "7")
    left.mkdir()
    (left / "layer.tar").write_bytes(b"x" * 1000)
    r = run_cli("slim", src, "--via", "offline", "-o", str(tmp_path / "out.tar"))
    assert r.returncode == 0, r.stderr
    assert not left.exists()
    assert sorted(os.listdir(tmp_path)) == ["in.tar", "out.tar"]


def test_own_temporaries_carry_the_marker(tmp_path):
    fd, path = stale.mkstemp("out", str(tmp_path))
    os.close(fd)
    assert not stale.is_stale(os.path.basename(path))  # this process is alive
    assert os.path.basename(path).startswith(stale.prefix("out"))
