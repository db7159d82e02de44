"""The explorer's table: the core's history table with the path texts a filter scans."""

from __future__ import annotations

from slimscope.core.analysis import analyze
from slimscope.tui.table import Table
from tests.support.synth import docker_archive


def test_lines_are_the_paths_lower_cased_or_their_names(tmp_path):
    path = tmp_path / "img.tar"
    docker_archive(str(path), [[("Etc/Conf", "file", b"x")], [("etc/conf", "file", b"y")]])
    t = Table(analyze(str(path), use_cache=False).composed)
    assert t.paths == ["/", "/Etc", "/Etc/Conf", "/etc", "/etc/conf"]
    assert t.lines("paths").text == "\n".join(t.paths)
    assert t.lines("lower").text.split("\n") == ["/", "/etc", "/etc/conf", "/etc", "/etc/conf"]
    assert t.lines("names").text.split("\n") == ["", "Etc", "Conf", "etc", "conf"]
    assert t.lines("names") is t.lines("names")    # made once, on first use
