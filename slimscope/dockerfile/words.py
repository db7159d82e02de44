"""Shell words as `shlex.split(text, posix=True)` reads them, in linear time.

shlex grows each token a character at a time through an attribute, which makes a
long word quadratic (a 1 MB RUN line took minutes to lint). This reads the same
words, quotes and backslashes as shlex does, with the same ValueError messages.
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[^ \t\r\n'\"\\]+")
_SPACE = " \t\r\n"


def split(text: str) -> list[str]:
    words: list[str] = []
    buf: list[str] = []
    in_word = False
    i, n = 0, len(text)
    while i < n:
        m = _PLAIN.match(text, i)
        if m:
            buf.append(m.group())
            in_word = True
            i = m.end()
            continue
        c = text[i]
        if c in _SPACE:
            if in_word:
                words.append("".join(buf))
                buf, in_word = [], False
            i += 1
            continue
        in_word = True
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("No escaped character")
            buf.append(text[i + 1])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ValueError("No closing quotation")
            buf.append(text[i + 1:j])
            i = j + 1
        else:  # a double quote: only \" and \\ are escapes inside
            i += 1
            while True:
                j = _next_special(text, i)
                if j < 0:
                    raise ValueError("No closing quotation")
                buf.append(text[i:j])
                if text[j] == '"':
                    i = j + 1
                    break
                if j + 1 >= n:
                    raise ValueError("No escaped character")
                nxt = text[j + 1]
                buf.append(nxt if nxt in '"\\' else "\\" + nxt)
                i = j + 2
    if in_word:
        words.append("".join(buf))
    return words


def _next_special(text: str, i: int) -> int:
    q, b = text.find('"', i), text.find("\\", i)
    if q < 0:
        return b if b >= 0 else -1
    return q if b < 0 or q < b else b
