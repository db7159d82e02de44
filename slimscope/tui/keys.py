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
    priority: bool = False   # before the focused widget: works while typing a filter


KEYS = [
    Key("left_square_bracket", "[", "prev_layer", "Prev layer",
        "Select the layer below (from anywhere, the filter too).", priority=True),
    Key("right_square_bracket", "]", "next_layer", "Next layer",
        "Select the layer above (from anywhere, the filter too).", priority=True),
    Key("m", "m", "toggle_mode", "Mode",
        "Switch the file pane between this layer's changes and the image up to this layer."),
    Key("s", "s", "toggle_sort", "Sort", "Sort by size (largest first) or by name."),
    Key("slash", "/", "filter", "Filter",
        "Filter paths by a fragment or a glob (*.so, /usr/*/doc); Esc clears it."),
    Key("u", "u", "toggle_unchanged", "Changed only",
        "Hide entries this layer did not change (as 4)."),
    Key("1", "1", "toggle_added", "Added", "Show or hide added entries.", footer=False),
    Key("2", "2", "toggle_removed", "Removed",
        "Show or hide removed entries (deleted, or emptied directories).", footer=False),
    Key("3", "3", "toggle_modified", "Modified",
        "Show or hide modified entries (new content, or re-stored for a mode/owner change).",
        footer=False),
    Key("4", "4", "toggle_unmodified", "Unmodified",
        "Show or hide entries this layer did not change.", footer=False),
    Key("p", "p", "toggle_owner", "Owner", "Show or hide the mode and uid:gid columns.",
        footer=False),
    Key("v", "v", "view_file", "View",
        "View the file under the cursor as its layer stores it (text or hex; / searches).",
        footer=False),
    Key("x", "x", "extract_file", "Extract",
        "Write the file under the cursor to a path on the host (never over a file unasked).",
        footer=False),
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
