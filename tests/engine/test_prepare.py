"""What makes a cold run quicker must not change what it tests: the background
builds follow the selected tests, and their progress lines reach the terminal
from the main thread."""

from __future__ import annotations

import threading
import types

from tests.support import prewarm, progress


def _item(module):
    return types.SimpleNamespace(module=module)


def test_background_builds_follow_the_selected_tests():
    calls: list = []
    a = types.ModuleType("a")
    a.PREWARM = [("x", lambda: calls.append("x")), ("y", lambda: calls.append("y"))]  # type: ignore[attr-defined]
    b = types.ModuleType("b")
    b.PREWARM = [("y", lambda: calls.append("y again")), ("z", lambda: calls.append("z"))]  # type: ignore[attr-defined]
    plain = types.ModuleType("plain")
    items = [_item(a), _item(a), _item(plain), _item(b)]
    assert [tag for tag, _ in prewarm.wanted(items)] == ["x", "y", "z"]
    for _, build in prewarm.wanted(items):
        build()
    assert calls == ["x", "y", "z"]
    assert prewarm.wanted([_item(plain)]) == []


def test_a_line_from_another_thread_waits_for_the_main_thread(capsys, monkeypatch):
    monkeypatch.setattr(progress, "_config", None)   # plain stderr, as outside pytest
    t = threading.Thread(target=progress.announce, args=("built x in 1 s",))
    t.start()
    t.join()
    assert capsys.readouterr().err == ""
    progress.flush()
    assert capsys.readouterr().err == "[slimscope tests] built x in 1 s\n"
