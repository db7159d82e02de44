"""How the explorer divides the terminal: decided from the sizes alone, so the rules
can be read (and tested) apart from the widgets.

At 80 columns every pane is narrow, so the layers pane drops its bar and share
columns before it drops the command; the summary drops its least useful items
before the hidden-secret warning; and below MIN_SIZE there is no layout that
says anything, so the app says the terminal is too small.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_WIDTH, MIN_HEIGHT = 60, 15

# The layers table: the columns it can have, the width each takes with its cell padding
# (DataTable pads one cell each side), in the order they are given up when space is short.
LAYER_COLUMNS = {"n": 3, "size": 11, "bar": 10, "share": 8, "wasted": 11}
DROP_ORDER = ("share", "bar", "wasted")
MIN_COMMAND = 24


def command_lines(height: int) -> int:
    """Lines for the selected layer's whole command under the table (the details pane
    has all of it when the layers pane has focus)."""
    return 6 if height >= 40 else 3


def too_small(width: int, height: int) -> bool:
    return width < MIN_WIDTH or height < MIN_HEIGHT


def left_width(width: int) -> int:
    """The layers/details column: wide enough for a useful command, the rest for files."""
    if width >= 140:
        return width // 2
    return max(min(width // 2, 70), 30)


def layer_columns(width: int) -> list[str]:
    """The fixed columns of the layers pane that leave the command MIN_COMMAND cells
    in a pane `width` cells wide (borders and scrollbar counted)."""
    cols = list(LAYER_COLUMNS)
    inner = width - 3    # borders, and a cell for a scrollbar's edge
    for drop in DROP_ORDER:
        if inner - sum(LAYER_COLUMNS[c] for c in cols) >= MIN_COMMAND:
            break
        cols.remove(drop)
    return cols


def command_width(width: int, cols: Sequence[str]) -> int:
    return max(width - 3 - sum(LAYER_COLUMNS[c] for c in cols) - 2, 8)


def layers_height(n_layers: int, main_height: int, details: bool) -> int:
    """Rows for the layers table in a column `main_height` rows high: every layer when it
    can (so layers 0-1 are not scrolled away at 80x24), else at most 60% of what the
    command lines leave; all of that without details."""
    room = main_height - command_lines(main_height)
    if not details:
        return max(room, 4)
    want = n_layers + 3    # header and borders
    return max(min(want, room * 6 // 10), 4)


def fit_items(items: Sequence[tuple[int, object]], width: int, measure) -> list:
    """Items (priority, item) in their order, dropping the lowest priorities (highest
    numbers) until `measure(kept)` fits in `width`; priority 0 is never dropped."""
    kept = list(items)
    while measure([i for _, i in kept]) > width:
        droppable = [p for p, _ in kept if p > 0]
        if not droppable:
            break
        worst = max(droppable)
        at = max(n for n, (p, _) in enumerate(kept) if p == worst)
        kept.pop(at)
    return [i for _, i in kept]
