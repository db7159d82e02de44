"""The explorer's main screen: its panes, the view state they show (layer, mode,
sort, filter, status toggles), the status line above the tree and the panes' sizes.

The loader (tui/loading.py) and the key actions (tui/actions.py) build on it; the
app (tui/app.py) joins them and answers the widgets' messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.widgets import Static

from slimscope.core.fmt import plural
from slimscope.tui import layout, statusfilter
from slimscope.tui.entry import CHANGES, IMAGE
from slimscope.tui.model import ImageModel
from slimscope.tui.render import legend, size
from slimscope.tui.shown import Shown
from slimscope.tui.widgets.details import DetailsPane
from slimscope.tui.widgets.filetree import FileTree
from slimscope.tui.widgets.filterbar import FilterBar
from slimscope.tui.widgets.keybar import KeyBar
from slimscope.tui.widgets.layers import LayerCommand, LayerTable
from slimscope.tui.widgets.summary import LoadingPanel, SummaryBar

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis


class Panes(App):
    """The panes and what they show; `model` is None until the first view is in."""

    def __init__(self, display_name: str) -> None:
        super().__init__()
        self.display_name = display_name
        self.analysis: Optional[Analysis] = None
        self.model: Optional[ImageModel] = None
        self.layer = 0
        self.mode = IMAGE
        self.by_size = True
        self.filter_text = ""
        self.hidden: frozenset[str] = frozenset()   # statuses the tree leaves out (statusfilter)
        self.waste_only = False
        self.shown: Optional[Shown] = None
        self.status_plain = ""
        self._pending_reveal: Optional[str] = None

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary")
        yield LoadingPanel(self.display_name, id="loading")
        yield Static(id="too-small")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield LayerTable(id="layers")
                yield LayerCommand(id="layer-command")
                yield DetailsPane(id="details")
            with Vertical(id="right"):
                yield FilterBar(id="filterbar")
                yield Static(legend(), id="legend")
                yield FileTree(id="tree")
        yield KeyBar(id="keys")

    # DOMNode.tree is Textual's debugging dump of the node tree, which the explorer never
    # uses; here the name is the file pane, as the tests and the bench read it.
    @property
    def tree(self) -> FileTree:  # type: ignore[override]
        return self.query_one(FileTree)

    @property
    def layers_pane(self) -> LayerTable:
        return self.query_one(LayerTable)

    @property
    def details(self) -> DetailsPane:
        return self.query_one(DetailsPane)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    # -- the file view ---------------------------------------------------------
    def refresh_files(self) -> None:
        """Show the view the state asks for. A view costs a few array passes over
        the model's table (milliseconds even at 200,000 files), so it is computed
        here, not in a worker: no thread hand-off, no stale results to drop."""
        if self.model is None or not self.model.analysis.layers:
            return
        self._apply(self.model, statusfilter.shown(self.model, self.layer, self.mode,
                                                   self.filter_text, self.hidden,
                                                   self.waste_only))

    def _apply(self, model: ImageModel, shown: Shown) -> None:
        self.shown = shown
        self.tree.show(shown, model.indexes, self.by_size)
        self._status()
        if self._pending_reveal:
            path, self._pending_reveal = self._pending_reveal, None
            if self.tree.reveal(path):
                self.details.show_file(model, shown.view, path)
        elif self.details.file_path is not None:
            path = self.tree.cursor_path or self.details.file_path
            while path not in shown.view.rows and path != "/":
                path = path.rsplit("/", 1)[0] or "/"
            self.details.show_file(model, shown.view, path)

    def _status(self) -> None:
        shown = self.shown
        if shown is None:
            return
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"layer {self.layer} ", "bold")
        narrow = 0 < self.filter_bar.size.width < 70   # the sizes matter more than the words
        t.append(("· changes" if narrow else "· this layer's changes") if self.mode == CHANGES
                 else ("· image" if narrow else "· image up to this layer"), "bold cyan")
        # the words of the summary bar and the details pane, for the same counts
        t.append(f" · {size(shown.total)} in " + (
            plural(shown.entries, "entry", "entries") if self.mode == CHANGES
            else plural(shown.entries, "path", "paths")))
        if shown.whiteouts:
            t.append(" · " + plural(shown.whiteouts, "whiteout", "whiteouts"))
        t.append(" · by size" if self.by_size else " · by name", "dim")
        if self.filter_text.strip():
            t.append(f" · filter {self.filter_text.strip()!r}", "yellow")
        if self.hidden:
            t.append(" · " + statusfilter.describe(self.hidden), "yellow")
        if self.waste_only:
            t.append(" · waste only", "red")
        self.status_plain = t.plain    # (for tests)
        self.filter_bar.set_status(t)
        self.tree.border_title = "Files: " + ("changes" if self.mode == CHANGES else "image")

    # -- layout ------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size)

    def _layout(self, terminal: Optional[Size] = None) -> None:
        """Size the panes to the terminal (see tui/layout.py)."""
        width, height = terminal or self.size
        small = layout.too_small(width, height)
        note = self.query_one("#too-small", Static)
        note.display = small
        if small:
            note.update(f"The terminal is too small ({width}×{height}): slimscope needs at "
                        f"least {layout.MIN_WIDTH}×{layout.MIN_HEIGHT}.")
        if self.model is None:
            return
        self.query_one("#main").display = not small
        if small:
            return
        self.query_one("#left").styles.width = layout.left_width(width)
        main_height = height - 2          # the summary and the key line
        self.query_one(LayerCommand).styles.max_height = layout.command_lines(main_height)
        self.layers_pane.styles.height = layout.layers_height(
            len(self.model.analysis.layers), main_height, self.details.display)
        self.call_after_refresh(self._status)    # its wording follows the pane's new width
