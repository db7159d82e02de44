"""The slim verifier compares the image's own /etc/hostname and /etc/resolv.conf like
any other file: an output where they came out empty is not "equal" to its input."""

from __future__ import annotations

from slimscope.core.analysis import analyze
from slimscope.slim.plan import make_plan
from slimscope.slim.verify import differences
from tests.support.synth import docker_archive

OWN = [[("etc", "dir"), ("etc/hostname", "file", b"own-host\n"),
        ("etc/resolv.conf", "file", b"nameserver 192.0.2.1\n"), ("app", "file", b"x" * 50)]]
EMPTIED = [[("etc", "dir"), ("etc/hostname", "file", b""),
            ("etc/resolv.conf", "file", b""), ("app", "file", b"x" * 50)]]


def test_emptied_engine_files_are_a_difference(tmp_path):
    before = analyze(docker_archive(str(tmp_path / "in.tar"), OWN), use_cache=False)
    after = analyze(docker_archive(str(tmp_path / "out.tar"), EMPTIED), use_cache=False)
    same = analyze(docker_archive(str(tmp_path / "same.tar"), OWN), use_cache=False)
    plan = make_plan(before, [], [])
    # Before: [] — the verifier skipped these names, so "verified ... equal" was printed.
    found = differences(before, plan, after)
    assert [line.split(":")[0] for line in found] == ["/etc/hostname", "/etc/resolv.conf"]
    assert differences(before, plan, same) == []
