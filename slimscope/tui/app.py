"""The explorer app: joins the panes, the loader and the key actions, and answers the
widgets' messages (a layer or a path highlighted, focus moved, the filter typed).

The parts, each on the one before: tui/panes.py (the panes and the view state they
show), tui/loading.py (the worker that reads the image, the previews), tui/actions.py
(what the keys do). Constructed as the loader is: `ExplorerApp(IMAGE, display_name=...,
image_sel=..., platform=..., no_hash=..., no_cache=..., analysis=...)`.
"""

from __future__ import annotations

from typing import Optional

from textual import events
from textual.binding import Binding
from textual.timer import Timer

from slimscope.tui.actions import Actions
from slimscope.tui.keys import KEYS
from slimscope.tui.loading import Loading
from slimscope.tui.messages import EntryHighlighted, FilterChanged, LayerHighlighted
from slimscope.tui.widgets.layers import LayerCommand, LayerTable

FILTER_DELAY = 0.25   # seconds of typing quiet before the filter applies
FILTER_OPEN_LIMIT = 1000   # rows a filter opens the tree to, at most


class ExplorerApp(Loading, Actions):
    """`slimscope tui IMAGE`."""

    CSS_PATH = "app.tcss"
    TITLE = "slimscope"
    BINDINGS = [Binding(k.key, k.action, k.title, show=k.footer, key_display=k.show,
                        priority=k.priority) for k in KEYS]

    _filter_timer: Optional[Timer] = None   # a filter typed, waiting for FILTER_DELAY of quiet

    # -- messages from the widgets ---------------------------------------------
    def on_layer_highlighted(self, message: LayerHighlighted) -> None:
        """Read the cursor, not the message: a burst of `]` sends one message per
        press, and only the last position is worth a view."""
        if self.model is None or not self.model.analysis.layers or not self.query(LayerTable):
            return   # (a preview's table can still speak after the app has closed)
        analysis = self.model.analysis
        layer = self.layers_pane.cursor_row
        if not 0 <= layer < len(analysis.layers):
            return
        if self.layers_pane.has_focus or self.details.subject is None \
                or self.details.subject[0] == "layer":
            self.details.show_layer(analysis, layer)
        self.query_one(LayerCommand).show_layer(analysis, layer)
        if layer != self.layer:
            self.layer = layer
            self._moved = True
            self.refresh_files()

    def on_entry_highlighted(self, message: EntryHighlighted) -> None:
        if self.model is not None and self.shown is not None \
                and message.path in self.shown.view.rows and self.tree.has_focus:
            self.details.show_file(self.model, self.shown.view, message.path)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self.model is None or not self.query(LayerTable):
            return   # (focus can still move while the app closes)
        if event.widget is self.layers_pane:
            self.details.show_layer(self.model.analysis, self.layer)
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

        def apply() -> None:
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
