"""One row of the explorer's file pane, and the words for it: the statuses a row
can have, their markers, the two modes a layer is seen in, and a layer's word on a
path for the details pane. No numpy and no Textual here: every pane reads these."""

from __future__ import annotations

from dataclasses import dataclass

from slimscope.core.compose import ADDED, DELETED, METADATA, MODIFIED, OPAQUED, UNCHANGED
from slimscope.index.records import DIR, KIND_NAMES, OPAQUE

# A row of the image view that a lower layer put there and this layer left alone.
INHERITED = 6
STATUS_LABELS = ("added", "modified", "metadata-only", "unchanged", "deleted", "opaque",
                 "from a lower layer")
MARKERS = ("+", "~", "≈", " ", "-", "⊘", " ")
IMPLIED = -1  # a parent directory the layer tar does not list

CHANGES, IMAGE = "changes", "image"
_DIR_KINDS = (DIR, IMPLIED, OPAQUE)


class Entry:
    """One row: a path in one view."""

    __slots__ = ("kind", "size", "status", "ref", "hides", "counted")

    def __init__(self, kind: int, size: int, status: int, ref: int, hides: int = 0,
                 counted: bool = True):
        self.kind = kind        # layerindex kind, or IMPLIED
        self.size = size        # bytes of the content unit this row adds to the view
        self.status = status
        self.ref = ref          # packed layer<<32|entry, or -1 for implied dirs
        self.hides = hides      # for whiteouts/opaque dirs: bytes of lower units it hides
        self.counted = counted  # whether `size`/`hides` count in the parents' totals

    @property
    def is_dir(self) -> bool:
        return self.kind in _DIR_KINDS

    @property
    def kind_name(self) -> str:
        return "dir" if self.kind == IMPLIED else KIND_NAMES[self.kind]


@dataclass
class Touch:
    """One layer's word on a path, for the details pane."""

    layer: int
    what: str       # a status label, or "removed with DIR" / "emptied DIR"
    kind: str
    size: int


__all__ = ["Entry", "Touch", "CHANGES", "IMAGE", "INHERITED", "STATUS_LABELS", "MARKERS",
           "IMPLIED", "ADDED", "MODIFIED", "METADATA", "UNCHANGED", "DELETED", "OPAQUED"]
