"""The explorer's filter: what a typed text matches, per path and over a whole table."""

from __future__ import annotations

import pytest

from slimscope.tui.filters import path_filter, path_matcher
from slimscope.tui.table import Table


@pytest.mark.parametrize("text,path,hit", [
    ("DOC", "/usr/share/doc/x", True),       # fragment, any case
    ("*.so", "/usr/lib/libbig.so", True),    # glob without a slash: the name
    ("*.so", "/usr/lib/libbig.so.1", False),
    ("share/*/pkg", "/usr/share/doc/pkg", True),
    ("/usr/*", "/app/usr/x", False),
])
def test_path_matcher(text, path, hit):
    assert path_matcher(text)(path) is hit


_PATHS = ["/", "/usr", "/usr/lib/libbig.so", "/usr/lib/libbig.so.1", "/usr/share/doc/pkg",
          "/app/usr/x", "/a/[x]", "/a/b^c", "/DOC/Read.Me", "/x/.hidden", "/x/y/z.tar.gz",
          "/ü/İ"]


@pytest.mark.parametrize("text", ["doc", "DOC", "İ", ".", "*.so", "*", "?", "[!a]*", "[]x]*",
                                  "*[^x]*", "a[", "/usr/*", "share/*/pkg", "*/lib/*.so*",
                                  "[[]x]", "\\\\", "b^c", "*.tar.*"])
def test_path_filter_agrees_with_path_matcher(text):
    """The one-scan filter over a whole table says what the per-path matcher says."""
    match = path_matcher(text)
    for paths in (_PATHS, _PATHS + ["/a/new\nline.so"]):   # a newline: one call per path
        t = Table.__new__(Table)
        t.paths, t._lines = sorted(paths), {}
        assert path_filter(text)(t).tolist() == [match(p) for p in t.paths]


@pytest.mark.parametrize("text", ["", "   "])
def test_no_text_is_no_filter(text):
    assert path_matcher(text) is None and path_filter(text) is None
