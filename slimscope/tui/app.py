"""The explorer app: wires the panes together and keeps the view state."""

from __future__ import annotations

import os
import time
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from slimscope.core.fmt import plural
from slimscope.errors import SlimscopeError
from slimscope.tui import layout, statusfilter
from slimscope.tui.keys import KEYS
from slimscope.tui.messages import EntryHighlighted, FilterChanged, LayerHighlighted
from slimscope.tui.model import CHANGES, IMAGE, ImageModel
from slimscope.tui.previews import Previews
from slimscope.tui.render import legend, size
from slimscope.tui.screens import HelpScreen, WasteScreen
from slimscope.tui.widgets.details import DetailsPane
from slimscope.tui.widgets.filetree import FileTree
from slimscope.tui.widgets.filterbar import FilterBar
from slimscope.tui.widgets.keybar import KeyBar
from slimscope.tui.widgets.layers import LayerCommand, LayerTable
from slimscope.tui.widgets.summary import LoadingPanel, SummaryBar
from slimscope.tui.widgets.viewer import ExtractScreen, ViewerScreen

FILTER_DELAY = 0.25   # seconds of typing quiet before the filter applies
FILTER_OPEN_LIMIT = 1000   # rows a filter opens the tree to, at most


class ExplorerApp(App):
    """`slimscope tui IMAGE`."""

    CSS_PATH = "app.tcss"
    TITLE = "slimscope"
    BINDINGS = [Binding(k.key, k.action, k.title, show=k.footer, key_display=k.show,
                        priority=k.priority) for k in KEYS]

    def __init__(self, image: str, *, display_name: Optional[str] = None, image_sel=None,
                 platform=None, no_hash: bool = False, no_cache: bool = False,
                 analysis=None) -> None:
        super().__init__()
        self.image_arg = image
        self.display_name = display_name or image
        self.load_options = dict(hash_contents=not no_hash, image=image_sel, platform=platform,
                                 use_cache=not no_cache)
        self.analysis = analysis
        self.model: Optional[ImageModel] = None
        self.layer = 0
        self.mode = IMAGE
        self.by_size = True
        self.filter_text = ""
        self.hidden: frozenset = frozenset()   # statuses the tree leaves out (statusfilter)
        self.waste_only = False
        self.error: Optional[str] = None
        self.error_code = 2
        self.shown = None
        self.status_plain = ""
        self._pending_reveal: Optional[str] = None
        self._filter_timer = None
        # While the image loads, the layers read so far: (layers shown, layers in all).
        self.partial: Optional[tuple[int, int]] = None
        self._moved = False    # the user picked a layer: a new preview must not move it

    # -- layout ----------------------------------------------------------------
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

    @property
    def tree(self) -> FileTree:
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

    def on_mount(self) -> None:
        self.query_one(SummaryBar).show_loading(self.display_name)
        if self.analysis is not None:
            self._loaded(self.analysis)
        else:
            self.load()

    # -- loading (a worker: the window is up at once) --------------------------
    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        from slimscope.core.analysis import build, open_image

        panel = self.query_one(LoadingPanel)
        last = [0.0]
        previews = Previews(self)

        def progress(done, total):
            now = time.monotonic()
            if now - last[0] >= 0.1 or (total and done >= total):
                last[0] = now
                self.call_from_thread(self._progress, done, total)

        try:
            try:
                image = open_image(self.image_arg, progress=progress, on_layer=previews.offer,
                                   **self.load_options)
            finally:
                # Every layer is in: the whole image's analysis is now the quicker view,
                # and a preview made beside it would only slow it down.
                previews.stop()
            analysis = build(image)     # what analyze() returns
            self.call_from_thread(panel.stage, "Composing views …")
            model = ImageModel(analysis)
        except SlimscopeError as e:
            self.call_from_thread(self._fail, str(e), e.exit_code)
            return
        except Exception as e:  # a bug: still one line after the app closes
            self.call_from_thread(self._fail, f"unexpected error: {type(e).__name__}: {e}", 2)
            return
        self.call_from_thread(self._loaded, analysis, model)

    def _progress(self, done: int, total) -> None:
        self.query_one(LoadingPanel).progress(done, total)
        if self.partial is not None:
            self.query_one(SummaryBar).loading(done, total)

    def _show_partial(self, analysis, model: ImageModel, count: int) -> None:
        """Layers 0..k are read: show them, saying the rest is coming."""
        if self.model is not None and self.partial is None:
            return   # the whole image came first
        keep = self._moved and self.layer < len(analysis.layers)
        layer = self.layer
        self.partial = (len(analysis.layers), count)
        self._show(analysis, model, layer if keep else None)

    def _fail(self, message: str, code: int) -> None:
        self.error = message
        self.error_code = code
        self.exit(return_code=code)

    def _loaded(self, analysis, model: Optional[ImageModel] = None) -> None:
        # A user who has been reading a preview keeps the layer they chose.
        keep = self.partial is not None and self._moved
        self.partial = None
        self._show(analysis, model or ImageModel(analysis), self.layer if keep else None)
        self._warm_filters()

    def _show(self, analysis, model: ImageModel, layer: Optional[int]) -> None:
        """Show an analysis (the whole image's, or a preview's) at `layer` (the top if None)."""
        first = self.model is None
        self.analysis = analysis
        self.model = model
        self.query_one(LoadingPanel).display = False
        self.query_one("#main").display = True
        self.query_one(SummaryBar).show(analysis, self.display_name, self.partial)
        self.layer = max(len(analysis.layers) - 1, 0) if layer is None else layer
        self._layout()
        self.layers_pane.load(analysis)
        self.layers_pane.select_layer(self.layer)
        if not analysis.layers:
            self.filter_bar.set_status("this image has no layers")
            return
        if first or not (self.details.subject and self.details.subject[0] == "file"):
            self.details.show_layer(analysis, self.layer)   # (a file shown stays: _apply)
        self.query_one(LayerCommand).show_layer(analysis, self.layer)
        if first:
            self.tree.focus()
        self.refresh_files()

    @work(thread=True, exclusive=True, group="warm")
    def _warm_filters(self) -> None:
        """Make the texts that filters scan while the user still looks at the first screen."""
        for which in ("lower", "names", "paths"):
            self.model.table.lines(which)

    # -- the file view ---------------------------------------------------------
    def refresh_files(self) -> None:
        """Show the view the state asks for. A view costs a few array passes over
        the model's table (milliseconds even at 200,000 files), so it is computed
        here, not in a worker: no thread hand-off, no stale results to drop."""
        if self.model is None or not self.analysis.layers:
            return
        self._apply(statusfilter.shown(self.model, self.layer, self.mode, self.filter_text,
                                       self.hidden, self.waste_only))

    def _apply(self, shown) -> None:
        self.shown = shown
        self.tree.show(shown, self.by_size)
        self._status()
        if self._pending_reveal:
            path, self._pending_reveal = self._pending_reveal, None
            if self.tree.reveal(path):
                self.details.show_file(self.model, shown.view, path)
        elif self.details.subject and self.details.subject[0] == "file":
            path = self.tree.cursor_path or self.details.subject[1]
            while path not in shown.view.rows and path != "/":
                path = path.rsplit("/", 1)[0] or "/"
            self.details.show_file(self.model, shown.view, path)

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
    def on_resize(self, event) -> None:
        self._layout(event.size)

    def _layout(self, terminal=None) -> None:
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
            len(self.analysis.layers), main_height, self.details.display)
        self.call_after_refresh(self._status)    # its wording follows the pane's new width

    # -- messages from the widgets ---------------------------------------------
    def on_layer_highlighted(self, message: LayerHighlighted) -> None:
        """Read the cursor, not the message: a burst of `]` sends one message per
        press, and only the last position is worth a view."""
        if self.model is None or not self.analysis.layers or not self.query(LayerTable):
            return   # (a preview's table can still speak after the app has closed)
        layer = self.layers_pane.cursor_row
        if not 0 <= layer < len(self.analysis.layers):
            return
        if self.layers_pane.has_focus or self.details.subject is None \
                or self.details.subject[0] == "layer":
            self.details.show_layer(self.analysis, layer)
        self.query_one(LayerCommand).show_layer(self.analysis, layer)
        if layer != self.layer:
            self.layer = layer
            self._moved = True
            self.refresh_files()

    def on_entry_highlighted(self, message: EntryHighlighted) -> None:
        if self.shown is not None and message.path in self.shown.view.rows \
                and self.tree.has_focus:
            self.details.show_file(self.model, self.shown.view, message.path)

    def on_descendant_focus(self, event) -> None:
        if self.model is None or not self.query(LayerTable):
            return   # (focus can still move while the app closes)
        if event.widget is self.layers_pane:
            self.details.show_layer(self.analysis, self.layer)
        elif event.widget is self.tree and self.tree.cursor_path and self.shown is not None:
            self.details.show_file(self.model, self.shown.view, self.tree.cursor_path)

    def on_filter_changed(self, message: FilterChanged) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if message.text == self.filter_text:
            if message.final:
                self.tree.focus()
            return

        def apply():
            self._filter_timer = None
            self.filter_text = message.text
            self.refresh_files()
            self._open_to_matches()

        if message.final:
            apply()
            self.tree.focus()
        else:
            self._filter_timer = self.set_timer(FILTER_DELAY, apply)

    def _open_to_matches(self) -> None:
        """A filter opens the tree down to what it matched, breadth first, up to a
        row limit: matches three levels down are what the user asked to see."""
        if self.shown is None or not self.filter_text.strip():
            return
        if self.tree.expand_all_under(self.tree.root, limit=FILTER_OPEN_LIMIT) < 0:
            self.notify(f"The filter matches more than {FILTER_OPEN_LIMIT:,} rows: opened the "
                        "first levels only; narrow it or open directories with → or e.",
                        severity="warning")

    # -- actions ---------------------------------------------------------------
    def _has_layers(self) -> bool:
        return self.model is not None and bool(self.analysis.layers)

    def _step_layer(self, step: int) -> None:
        # From the table's cursor, which moves at once: `self.layer` follows only when
        # the highlight message is handled, after the rest of a burst of presses.
        if self._has_layers() and self.screen is self.screen_stack[0]:
            at = self.layers_pane.cursor_row
            self.layers_pane.select_layer(min(max(at + step, 0), len(self.analysis.layers) - 1))

    def action_prev_layer(self) -> None:
        self._step_layer(-1)

    def action_next_layer(self) -> None:
        self._step_layer(1)

    def action_toggle_mode(self) -> None:
        self.mode = IMAGE if self.mode == CHANGES else CHANGES
        self.refresh_files()

    def action_toggle_sort(self) -> None:
        self.by_size = not self.by_size
        if self.shown is not None:
            self.tree.show(self.shown, self.by_size)
            self._status()

    def action_filter(self) -> None:
        self.filter_bar.input.focus()

    @property
    def hide_unchanged(self) -> bool:
        return "unmodified" in self.hidden

    def _toggle_status(self, name: str) -> None:
        self.hidden = self.hidden ^ {name}
        self.refresh_files()

    def action_toggle_unchanged(self) -> None:
        self._toggle_status("unmodified")

    def action_toggle_added(self) -> None:
        self._toggle_status("added")

    def action_toggle_removed(self) -> None:
        self._toggle_status("removed")

    def action_toggle_modified(self) -> None:
        self._toggle_status("modified")

    def action_toggle_unmodified(self) -> None:
        self._toggle_status("unmodified")

    def body_at_cursor(self) -> Optional[tuple]:
        """(layer, path) of the body the row under the cursor shows: its own for a regular
        file, its target's for a hardlink; None (and a notice) for anything else."""
        from slimscope.core.compose import unpack
        from slimscope.index.records import FILE, HARDLINK

        path = self.tree.cursor_path
        if self.shown is None or path is None or path not in self.shown.view.rows:
            return None
        e = self.shown.view.rows[path]
        ref = e.ref
        if e.kind == HARDLINK:
            ref = self.model.composed.hardlink_unit.get(e.ref, -1)
        elif e.kind != FILE:
            ref = -1
        if ref < 0:
            self.notify(f"{path} is not a regular file ({e.kind_name})", severity="warning")
            return None
        li, i = unpack(ref)
        return li, self.model.indexes[li].paths[i]

    def action_view_file(self) -> None:
        body = self.body_at_cursor()
        if body is not None:
            self.push_screen(ViewerScreen(self.analysis.image, *body))

    def action_extract_file(self) -> None:
        body = self.body_at_cursor()
        if body is not None:
            layer, path = body
            default = os.path.join(os.getcwd(), path.rsplit("/", 1)[-1])
            self.push_screen(ExtractScreen(self.analysis.image, layer, path, default))

    def action_toggle_owner(self) -> None:
        self.tree.set_show_owner(not self.tree.show_owner)

    def action_toggle_waste_only(self) -> None:
        self.waste_only = not self.waste_only
        self.refresh_files()

    def action_waste(self) -> None:
        if self._has_layers():
            self.push_screen(WasteScreen(self.analysis), callback=self.jump_to_waste)

    def jump_to_waste(self, item) -> None:
        """Show the layer that stores `item` in changes mode, cursor on its path."""
        if item is None:
            return
        self.filter_text = ""
        self.filter_bar.input.value = ""
        self.hidden = frozenset()
        self.waste_only = False
        self.mode = CHANGES
        self.layer = item.layer
        self.layers_pane.select_layer(item.layer)
        self._pending_reveal = item.path
        self.tree.focus()
        self.refresh_files()

    def action_toggle_details(self) -> None:
        self.details.display = not self.details.display
        self._layout()

    def action_expand_all(self) -> None:
        if self.shown is None:
            return
        node = self.tree.cursor_node or self.tree.root
        if not node.allow_expand:
            node = node.parent or self.tree.root
        if self.tree.expand_all_under(node) < 0:
            self.notify("Stopped expanding after 5,000 rows; filter or open directories one "
                        "by one.", severity="warning")

    def action_collapse_all(self) -> None:
        if self.shown is not None:
            self.tree.collapse_everything()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for k in KEYS:
            if k.action in ("quit",):
                continue
            yield SystemCommand(k.title, f"{k.help} (key: {k.show})",
                                getattr(self, f"action_{k.action}"))

