"""The one path-glob dialect of slimscope: `ci`, `slim --remove`, the TUI filter, hints
and the secret patterns all speak it.

- `*` and `?` match within one path segment (never a `/`); `[abc]`, `[a-z]`,
  `[!a]` (or `[^a]`) match one character that is not `/`.
- `**` crosses segments: `a/**/b` matches `a/b` and `a/x/y/b`; `a/**` matches `a`
  and everything under it; `**` inside a segment (`lib**.so`) matches anything,
  `/` included.
- A glob starting with `/` is anchored at the root; any other matches at any depth
  (`*.log` is any file named so, `.cache/pip` any such directory). A trailing `/`
  is ignored: `/var/cache/` is `/var/cache`.
- A `[` with no closing `]` is a literal `[`. An empty class (`[]`, `[!]`) or a
  reversed range (`[z-a]`) is a bad glob, and so is an empty one: BadInput.

Globs become regexes that Python's backtracking engine runs without blowing up:
between two `**` the glob's piece is matched at its leftmost place inside an
atomic group, and so is each piece between two `*` within a segment. For a
glob with only `*`, `?`, classes and `**` that is exact (a `**` or `*` can absorb
whatever a later placement would have skipped), and it keeps the cost of a match
near path length x glob length, where nested `(.*/)?` groups would try every way
of cutting a deep path (`**/a/**/a/**/b` on 200 segments is 200**3 tries).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from slimscope.errors import BadInput

__all__ = ["Glob", "compile_glob", "glob_match", "union", "matcher"]

# Tokens of a parsed glob.
_LIT, _ONE, _CLASS, _STAR, _DSTAR, _SEGS, _TAIL = range(7)
Token = tuple[int, str]


def _class_char(c: str) -> str:
    return "\\" + c if c in "\\]^-[" else c


def _parse_class(glob: str, body: str) -> tuple[bool, str]:
    """(negated, regex class items) of the text between [ and ]."""
    negated = body[:1] in ("!", "^")
    if negated:
        body = body[1:]
    if not body:
        raise BadInput(f"bad path glob {glob!r}: empty character class")
    items, i = [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            if lo > hi:
                raise BadInput(f"bad path glob {glob!r}: bad character range {lo}-{hi}")
            items.append(_class_char(lo) + "-" + _class_char(hi))
            i += 3
        else:
            items.append(_class_char(body[i]))
            i += 1
    return negated, "".join(items)


def _tokens(glob: str, g: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(g):
        c = g[i]
        if c == "*":
            j = i
            while j < len(g) and g[j] == "*":
                j += 1
            if j - i == 1:
                out.append((_STAR, ""))
            elif j == len(g) and out and out[-1] == (_LIT, "/"):
                out[-1] = (_TAIL, "")                    # `a/**`: a and all under it
            elif g.startswith("/", j) and (not out or out[-1] in ((_LIT, "/"), (_SEGS, ""))):
                out.append((_SEGS, ""))                  # `**/`: zero or more segments
                j += 1
            else:
                out.append((_DSTAR, ""))
            i = j
        elif c == "?":
            out.append((_ONE, ""))
            i += 1
        elif c == "[":
            start = i + 2 if g[i + 1:i + 2] in ("!", "^") else i + 1
            j = g.find("]", start)
            if j < 0:
                out.append((_LIT, c))
                i += 1
            else:
                negated, items = _parse_class(glob, g[i + 1:j])
                out.append((_CLASS, ("^" if negated else "") + items))
                i = j + 1
        else:
            out.append((_LIT, c))
            i += 1
    return out


_SEGMENT_START = "(?<=/)"


class _Syntax:
    """Regex spellings of the wildcards: for one path (DOTALL), or for one line of a
    newline-joined text (nothing matches a newline)."""

    def __init__(self, lines: bool):
        self.any = "." if lines else "[\\s\\S]"
        self.not_slash = "[^/\\n]" if lines else "[^/]"
        self.refused = "/\\n" if lines else "/"
        self.end = "$" if lines else "\\Z"

    def atom(self, kind: int, text: str) -> str:
        if kind == _LIT:
            return re.escape(text)
        if kind == _ONE:
            return self.not_slash
        if text.startswith("^"):
            return f"[^{self.refused}{text[1:]}]"
        return f"(?![{self.refused}])[{text}]"


def _regex(tokens: list[Token], syn: _Syntax) -> str:
    """Chains of pieces: a piece is fixed-width atoms; `*` joins pieces of one chain,
    `**` (and `**/`, `/**`) joins chains."""
    chains: list[list[str]] = [[""]]
    for kind, text in tokens:
        if kind == _STAR:
            chains[-1].append("")
        elif kind == _DSTAR:
            chains.append([""])
        elif kind == _SEGS:
            chains.append([_SEGMENT_START])          # the next piece starts a segment
        elif kind == _TAIL:
            chains[-1][-1] += "(?=/|" + syn.end + ")"  # the piece before ends a segment
            chains.append([""])
        else:
            chains[-1][-1] += syn.atom(kind, text)
    out = []
    for k, chain in enumerate(chains):
        last_chain = k == len(chains) - 1
        parts = [chain[0]]
        for n, piece in enumerate(chain[1:], start=2):
            if last_chain and n == len(chain):
                parts.append(f"{syn.not_slash}*{piece}")      # pinned by the end
            else:
                parts.append(f"(?>{syn.not_slash}*?{piece})")  # leftmost place
        body = "".join(parts)
        # After `**/` the chain starts a segment: skip whole segments, not characters
        # (the `*` cannot cross a `/`, so each skip is cut one way only).
        skip = syn.any
        if body.startswith(_SEGMENT_START):
            body, skip = body[len(_SEGMENT_START):], f"(?:{syn.not_slash}*/)"
        if k == 0:
            out.append(body)
        elif last_chain:
            out.append(f"{skip}*{body}")
        else:
            out.append(f"(?>{skip}*?{body})")
    return "".join(out) + "/?" + syn.end


def _runs(tokens: list[Token]) -> list[str]:
    """Literal stretches every matching path contains, in order."""
    runs, cur = [], ""
    for kind, text in tokens:
        if kind == _LIT:
            cur += text
            continue
        if cur:
            runs.append(cur)
        cur = "/" if kind == _SEGS else ""       # a `**/` is followed by a segment start
    if cur:
        runs.append(cur)
    return runs


@dataclass(frozen=True)
class Glob:
    text: str          # as the user wrote it
    anchored: bool
    source: str        # regex source matching a whole path (use with .match)
    lines_source: str  # the same for one line of a newline-joined text (re.M)
    head: str          # literal text every matching path starts with ("" if none known)
    tail: str          # literal text every matching path ends with ("" if none known)
    longest: str       # the longest literal text every matching path contains

    @property
    def pattern(self) -> re.Pattern[str]:
        return compiled(self.source)

    def match(self, path: str) -> bool:
        return compiled(self.source).match(path) is not None


@lru_cache(maxsize=1024)
def compiled(source: str) -> re.Pattern[str]:
    """The compiled regex of a source built from globs, compiled once per process on
    its first use (the catalogue's unions are built at import, and many runs never
    match against them)."""
    try:
        return re.compile(source)
    except re.error as e:   # not expected: every atom is escaped or built in _regex
        raise BadInput(f"bad path glob (as {source!r}): {e}") from None


@lru_cache(maxsize=1024)
def compile_glob(text: str) -> Glob:
    """The Glob of `text`; BadInput naming it when it is not a valid glob."""
    g = text.strip()
    if not g:
        raise BadInput(f"bad path glob {text!r}: empty")
    anchored = g.startswith("/")
    g = g.lstrip("/")
    while g.startswith("**/"):
        g, anchored = g[3:], False
    g = g.rstrip("/") or ("" if anchored else "**")   # `**/` alone: everything
    tokens: list[Token] = [(_LIT, "/")] + ([] if anchored else [(_SEGS, "")]) + _tokens(text, g)
    runs = _runs(tokens)
    head = runs[0] if anchored else ""
    tail = runs[-1] if tokens[-1][0] == _LIT else ""
    source = _regex(tokens, _Syntax(lines=False))
    lines_source = _regex(tokens, _Syntax(lines=True))
    # not compiled here: every atom is escaped or built above, and the catalogue's
    # ~130 globs compiled one by one at import were a fifth of a warm `analyze`
    return Glob(text, anchored, source, lines_source, head, tail, max(runs, key=len, default=""))


def glob_match(glob: str, path: str) -> bool:
    return compile_glob(glob).match(path)


def union_source(globs: Iterable[str]) -> str:
    """The regex source of `union(globs)`, each glob checked."""
    sources = [compile_glob(g).source for g in globs]
    return "|".join(f"(?:{s})" for s in sources) if sources else "(?!)"


def union(globs: Iterable[str]) -> re.Pattern[str]:
    """One regex matching a path that any of `globs` matches (use with .match)."""
    return compiled(union_source(globs))


def matcher(globs: Iterable[str]) -> Callable[[str], bool]:
    """path -> does any of `globs` match it. Each glob is checked now, their union
    compiled on the first call."""
    source = union_source(globs)
    return lambda path: compiled(source).match(path) is not None
