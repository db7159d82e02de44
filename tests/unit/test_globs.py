"""The glob dialect: what it matches, what it refuses, and that its regexes stay linear."""

from __future__ import annotations

import random
import re
from functools import cache

import pytest

from slimscope.errors import BadInput
from slimscope.globs import compile_glob, glob_match, matcher, union


@pytest.mark.parametrize("glob, path, expected", [
    ("/usr/*/doc", "/usr/share/doc", True),
    ("/usr/*/doc", "/usr/share/x/doc", False),          # * stays in one segment
    ("/usr/**/doc", "/usr/share/x/doc", True),
    ("/usr/**/doc", "/usr/doc", True),                  # **/ may be no segment
    ("/a/**", "/a", True),                              # the directory and all under it
    ("/a/**", "/a/b/c", True),
    ("/a/**", "/ab", False),
    ("*.log", "/var/log/x.log", True),                  # unanchored: any depth
    ("*.log", "/x.log", True),
    ("*.log", "/var/x.log/y", False),
    ("log/*.txt", "/a/log/b.txt", True),
    ("log/*.txt", "/a/xlog/b.txt", False),              # matches at a segment start
    ("/log/*.txt", "/a/log/b.txt", False),              # anchored
    ("**/x", "/x", True),
    ("/**/x", "/a/b/x", True),
    ("/lib**.so", "/lib/a/b.so", True),                 # ** inside a segment crosses /
    ("/a?c", "/abc", True),
    ("/a?c", "/a/c", False),                            # ? is not /
    ("/[ab]x", "/bx", True),
    ("/[!a]x", "/bx", True),
    ("/[!a]x", "/ax", False),
    ("/a[!b]c", "/a/c", False),                         # a class never matches /
    ("/[^a]x", "/bx", True),
    ("/[a-c]", "/b", True),
    ("/a[", "/a[", True),                               # no closing ]: a literal [
    ("/var/cache/", "/var/cache", True),                # trailing / ignored
    ("/a.b", "/aXb", False),                            # . is a literal
    ("/a+b", "/a+b", True),
    ("**", "/anything/at/all", True),
    ("/**", "/", True),
    ("/", "/", True),
])
def test_matches(glob, path, expected):
    assert glob_match(glob, path) is expected


@pytest.mark.parametrize("glob, why", [
    ("/a/[]x]", "empty character class"),
    ("/a/[!]", "empty character class"),
    ("/a/[z-a]", "bad character range z-a"),
    ("", "empty"),
    ("   ", "empty"),
])
def test_bad_globs_name_themselves(glob, why):
    with pytest.raises(BadInput) as e:
        compile_glob(glob)
    assert str(e.value) == f"bad path glob {glob!r}: {why}"


def test_literal_parts():
    g = compile_glob("/var/lib/apt/lists/**")
    assert (g.head, g.tail, g.longest) == ("/var/lib/apt/lists", "", "/var/lib/apt/lists")
    g = compile_glob("*.pyc")
    assert (g.head, g.tail) == ("", ".pyc")
    g = compile_glob(".cache/pip/**")
    assert g.longest == "/.cache/pip" and not g.anchored


def test_union_and_matcher():
    m = matcher(["/etc/*.conf", "*.pem"])
    assert m("/etc/a.conf") and m("/x/y.pem") and not m("/etc/x/a.conf")
    assert union([]).match("/a") is None


def test_lines_source_matches_one_line_each():
    paths = ["/a/x.log", "/b/y.txt", "/c/d/z.log"]
    rx = re.compile("^(?:" + compile_glob("*.log").lines_source + ")", re.M)
    starts = [m.start() for m in rx.finditer("\n".join(paths))]
    assert starts == [0, len(paths[0]) + len(paths[1]) + 2]
    # a negated class does not swallow the newline between two lines
    rx = re.compile("^(?:" + compile_glob("/a[!b]").lines_source + ")", re.M)
    assert rx.findall("/a\n/b") == []


def test_deep_paths_do_not_backtrack_forever():
    # Each `(.*/)?` of a naive translation tries every cut of the path: some 200**5 tries
    # for this glob on a path that almost matches (the gate's old translation took 2 s
    # with three `**` and 200 segments); the atomic translation answers at once.
    deep = "/" + "/".join(["a"] * 200) + "/c"
    assert not glob_match("**/a/**/a/**/a/**/a/**/b", deep)
    assert glob_match("**/a/**/a/**/a/**/a/**/c", deep)
    assert glob_match("**/*.log", "/" + "/".join(["x"] * 200) + "/y.log")
    assert not glob_match("**/*.log", "/" + "/".join(["x.log"] * 200) + "/y")
    assert not glob_match("/**/a*a*a*a*b", "/" + "/".join(["a" * 30] * 200))


# -- against a plain reference matcher, written from the rules in the docstring ----------

def _normal(glob: str) -> str:
    g = glob.strip()
    anchored = g.startswith("/")
    g = g.lstrip("/")
    while g.startswith("**/"):
        g, anchored = g[3:], False
    g = re.sub(r"\*{2,}", "**", g.rstrip("/") or ("" if anchored else "**"))
    return "/" + g if anchored else "/**/" + g


def _reference(glob: str, path: str) -> bool:
    g = _normal(glob)
    if g.endswith("/**") and len(g) > 3:
        # `X/**`: X itself, or X followed by / and anything
        base = g[:-3]
        return _plain(base, path) or any(path[k] == "/" and _plain(base, path[:k])
                                         for k in range(len(path)))
    return _plain(g, path)


def _plain(g: str, path: str) -> bool:
    @cache
    def m(i: int, j: int) -> bool:
        if i == len(g):
            return j == len(path) or (j == len(path) - 1 and path[j] == "/")
        if g.startswith("**", i):
            if g.startswith("**/", i) and g[i - 1] == "/":
                # zero segments, or everything up to and including some later /
                return m(i + 3, j) or any(m(i + 3, k + 1) for k in range(j, len(path))
                                          if path[k] == "/")
            return any(m(i + 2, k) for k in range(j, len(path) + 1))
        c = g[i]
        if c == "*":
            return m(i + 1, j) or (j < len(path) and path[j] != "/" and m(i, j + 1))
        if j == len(path):
            return False
        if c == "?":
            return path[j] != "/" and m(i + 1, j + 1)
        if c == "[":
            end = g.index("]", i + 2)
            body = g[i + 1:end]
            neg = body[0] in "!^"
            body = body[1:] if neg else body
            chars = set(body) if len(body) != 3 or body[1] != "-" else \
                {chr(x) for x in range(ord(body[0]), ord(body[2]) + 1)}
            return path[j] != "/" and ((path[j] in chars) != neg) and m(end + 1, j + 1)
        return path[j] == c and m(i + 1, j + 1)
    return m(0, 0)


_ATOMS = ["a", "b", "/", "*", "**", "?", "[ab]", "[!a]", "[a-b]", "**/", "/**"]


def test_against_the_reference_on_random_globs():
    rnd = random.Random(11)
    paths = ["/"] + ["/" + "/".join(rnd.choice(["a", "b", "ab", "ba", "aab", "bb"])
                                    for _ in range(rnd.randint(1, 5))) for _ in range(60)]
    for _ in range(600):
        glob = "".join(rnd.choice(_ATOMS) for _ in range(rnd.randint(1, 6)))
        try:
            compiled = compile_glob(glob)
        except BadInput:
            continue
        for p in paths:
            assert compiled.match(p) is _reference(glob, p), (glob, p, compiled.source)


# -- the consumers speak it ---------------------------------------------------------------

def test_tui_filter_uses_the_dialect_and_never_fails():
    from slimscope.tui.filters import path_matcher
    assert path_matcher("/usr/*/doc")("/usr/share/doc")
    assert not path_matcher("/usr/*/doc")("/usr/share/x/doc")      # was fnmatch: * crossed /
    assert path_matcher("*.so")("/usr/lib/libx.so")
    assert path_matcher("[]x]")("/a/[]x]/b")                       # refused glob: a fragment
    assert not path_matcher("[]x]")("/a/x")


def test_slim_keeps_the_directory_a_trailing_double_star_names():
    from slimscope.slim.plan import Rule
    r = Rule("remove:/app/data/**", "", ["/app/data/**"])
    assert r.matches("/app/data/x") and not r.matches("/app/data")
    assert Rule("t", "", ["/app/data"]).matches("/app/data")


def test_gate_and_slim_answer_alike():
    from slimscope.gate.rules import glob_match as gate_match
    from slimscope.slim.plan import Rule
    for glob, path in [("**/*.so*", "/usr/lib/libz.so.1"), ("/usr/*/doc", "/usr/a/b/doc"),
                       ("/a[!b]c", "/a/c"), ("log/*.txt", "/x/log/a.txt")]:
        assert gate_match(glob, path) is Rule("t", "", [glob]).matches(path) is glob_match(glob, path)
