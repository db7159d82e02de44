"""Filters by status, as dive's added / removed / modified / unmodified toggles: the
rows of one view whose status the user has not hidden.

Built on the model's own view and Shown (no new pass over the table): the statuses
of a view are one array, so hiding some is one mask.
"""

from __future__ import annotations

import numpy as np

from slimscope.tui.entry import ADDED, DELETED, INHERITED, METADATA, MODIFIED, OPAQUED, UNCHANGED
from slimscope.tui.model import ImageModel
from slimscope.tui.shown import Shown

# What each toggle hides: "removed" is a deletion or an emptied directory, "modified"
# includes a re-store for a mode/owner change, "unmodified" what a lower layer put there.
STATUS_GROUPS = {
    "added": (ADDED,),
    "removed": (DELETED, OPAQUED),
    "modified": (MODIFIED, METADATA),
    "unmodified": (UNCHANGED, INHERITED),
}
ORDER = tuple(STATUS_GROUPS)


def shown(model: ImageModel, layer: int, mode: str, text: str, hidden: frozenset[str],
          waste_only: bool = False) -> Shown:
    """The rows of (layer, mode) the filter text keeps, minus the hidden statuses.

    Like the model's `changed only` toggle (which is `hidden == {"unmodified"}`), a
    kept directory does not drag in contents of a hidden status."""
    if not hidden:
        return model.shown(layer, mode, text, False, waste_only)
    v = model.view(layer, mode)
    keep = v.exists & v.present
    keep[0] = False
    match = model.path_mask(text)
    if match is not None:
        keep &= match
    st = v.statuses()
    codes = [c for name in hidden for c in STATUS_GROUPS[name]]
    keep &= ~np.isin(st, codes)
    if waste_only:
        keep &= model.wasteful(v, st)
    return Shown(v, keep, count_hidden=waste_only)


def describe(hidden: frozenset[str]) -> str:
    """`hiding unmodified, removed` for the status line ('' when nothing is hidden)."""
    names = [n for n in ORDER if n in hidden]
    return "hiding " + ", ".join(names) if names else ""
