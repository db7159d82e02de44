"""What the file viewer shows of a body: text as lines, anything else as a hex dump,
and where a search lands. No Textual here, so it is tested on bytes alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

VIEW_LIMIT = 1 << 20     # bytes of a body the viewer reads (the header says when cut)
HEX_LIMIT = 64 << 10     # bytes of a binary body shown as hex (4,096 lines)
HEX_WIDTH = 16


def looks_binary(data: bytes) -> bool:
    """A NUL byte, or text that is not UTF-8 (allowing a character cut at the end)."""
    if b"\0" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(data) - 4
    return False


def hex_dump(data: bytes, width: int = HEX_WIDTH) -> str:
    """`offset  hex bytes  |printable|`, one line per `width` bytes."""
    lines = []
    for at in range(0, len(data), width):
        chunk = data[at:at + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        shown = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{at:08x}  {hexes}  |{shown}|")
    return "\n".join(lines)


@dataclass
class Body:
    """A body as the viewer shows it."""

    text: str
    binary: bool
    size: int
    shown: int      # bytes of it the text covers

    @property
    def cut(self) -> bool:
        return self.shown < self.size


def body_for(data: bytes, size: int) -> Body:
    if looks_binary(data):
        data = data[:HEX_LIMIT]
        return Body(hex_dump(data), True, size, len(data))
    return Body(data.decode("utf-8", errors="replace"), False, size, len(data))


def find(text: str, needle: str, start: int = 0) -> Optional[int]:
    """Offset of the next case-insensitive `needle` at or after `start`, wrapping round."""
    if not needle:
        return None
    low, want = text.lower(), needle.lower()
    at = low.find(want, start)
    if at < 0:
        at = low.find(want)
    return at if at >= 0 else None


def location(text: str, offset: int) -> tuple[int, int]:
    """(row, column) of an offset, as a TextArea counts them."""
    row = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return row, col
