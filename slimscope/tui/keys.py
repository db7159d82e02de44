"""Every key of the explorer in one table: the app's bindings, the footer, the
help screen and the command palette all read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    key: str          # Textual key name(s), comma-separated
    show: str         # how the help screen and footer write it
    action: str       # app action name (without "action_")
    title: str        # short label: footer and command palette
    help: str         # one sentence: help screen and command palette
    footer: bool = True


KEYS = [
    Key("left_square_bracket", "[", "prev_layer", "Prev layer", "Select the layer below."),
    Key("right_square_bracket", "]", "next_layer", "Next layer", "Select the layer above."),
    Key("m", "m", "toggle_mode", "Mode",
        "Switch the file pane between this layer's changes and the image up to this layer."),
    Key("s", "s", "toggle_sort", "Sort", "Sort by size (largest first) or by name."),
    Key("slash", "/", "filter", "Filter",
        "Filter paths by a fragment or a glob (*.so, /usr/*/doc); Esc clears it."),
    Key("u", "u", "toggle_unchanged", "Changed only",
        "Hide entries this layer did not change."),
    Key("o", "o", "toggle_waste_only", "Waste only",
        "Show only entries whose bytes are wasted (deleted, overwritten, re-stored)."),
    Key("w", "w", "waste", "Waste",
        "List every wasted content unit, secrets first; Enter jumps to the file."),
    Key("d", "d", "toggle_details", "Details", "Show or hide the details pane."),
    Key("e", "e", "expand_all", "Expand all",
        "Expand everything under the cursor (or the whole tree from the root).", footer=False),
    Key("c", "c", "collapse_all", "Collapse all", "Collapse the whole tree.", footer=False),
    Key("question_mark", "?", "help", "Help", "Show this help."),
    Key("q", "q", "quit", "Quit", "Leave slimscope."),
]

# Keys the widgets handle themselves, listed on the help screen only.
WIDGET_KEYS = [
    ("Tab / Shift+Tab", "Move between the layers pane, the filter and the file tree."),
    ("↑ ↓ PgUp PgDn Home End", "Move in the focused pane (layers: selects the layer)."),
    ("Enter / Space", "Open or close a directory (Enter on \"… more\" loads the next rows)."),
    ("→ / ←", "Open a directory / close it or go to its parent."),
    ("Shift+↑ / Shift+↓", "Previous / next sibling in the tree."),
    ("Esc", "In the filter: clear it. On a screen: close it."),
    ("Ctrl+P", "Command palette: every action above by name."),
    ("Mouse", "Click a layer, click a directory to open it, scroll anywhere."),
]
