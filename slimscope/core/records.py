"""The typed records an Analysis is made of: one per layer, per wasted unit, per
duplicated body, and per path of the final filesystem.

They hold plain values (ints and strings, digests as ``sha256:HEX``), so the JSON
report, the diff and the gate read the same fields a library user does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Optional


@dataclass
class LayerReport:
    """One layer: what it stores and what it changed."""

    index: int
    digest: str
    diff_id: str
    created_by: str
    created: str
    bytes: int                 # sum of its content units
    tar_bytes: int             # its uncompressed tar, headers and padding included
    compressed_bytes: Optional[int]   # as stored when compressed, or measured; None if unknown
    files: int                 # entries other than whiteouts
    added: int = 0
    modified: int = 0
    deleted: int = 0
    metadata_only: int = 0
    wasted_bytes: int = 0      # bytes of its units that later layers hide
    hides_bytes: int = 0       # bytes of lower layers' units that it hides
    comment: str = ""
    compressed_measured: bool = False   # compressed_bytes was measured, not read as stored

    @property
    def command(self) -> str:
        """What made the layer, for display: its command, else its history comment."""
        return self.created_by or self.comment


@dataclass(slots=True)   # one per wasted unit: no per-object __dict__
class WasteItem:
    """A content unit the final filesystem does not show, but the image still stores."""

    path: str
    bytes: int
    layer: int                 # the layer that stores it
    hidden_by: int             # the layer that hid it
    reason: str                # deleted, opaque, overwritten, metadata-only, replaced
    sensitive: bool            # its path looks like a secret
    _digest: Optional[str]
    unit: int = field(repr=False, default=0)   # packed layer << 32 | entry
    # Set while the body is not hashed yet (a lazy index): reads it, and the other
    # wasted bodies with it, the first time a digest is asked for. The text report
    # never asks, so it never reads a wasted body.
    _read: Optional[Callable[[], object]] = field(default=None, repr=False, compare=False)

    @property
    def digest(self) -> Optional[str]:
        """``sha256:HEX`` of its body; None for an empty body or under --no-hash."""
        if self._read is not None:
            self._read()
        return self._digest


@dataclass
class Duplicate:
    """One body the final filesystem shows more than once, stored as separate units."""

    digest: str
    bytes: int                 # size of one copy
    paths: list[str]
    savable: int               # what keeping a single copy would save


class FileRecord(NamedTuple):
    """One path of the final filesystem. A tuple, not an object with a __dict__: a walk
    over every path of a big image makes one per path."""

    path: str
    type: str                  # file, dir, symlink, hardlink, char, block, fifo
    size: int                  # a hardlink's is the size of the body it shows
    mode: int
    uid: int
    gid: int
    layer: int                 # the layer whose entry defines the path
    link: Optional[str]        # symlink or hardlink target
    mtime: int
    digest: Optional[str]      # sha256:HEX of a file's (or a hardlink's) body, when hashed


__all__ = ["LayerReport", "WasteItem", "Duplicate", "FileRecord"]
