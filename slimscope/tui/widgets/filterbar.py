"""The filter line above the file tree, and the line that says what the tree shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from slimscope.tui.messages import FilterChanged

# `[` and `]` select layers from anywhere, this input too (app priority bindings); a
# character class is still pasted in whole.
LAYER_KEYS = frozenset("[]")


class FilterInput(Input):
    BINDINGS = [Binding("escape", "clear_filter", "Clear filter", show=False)]

    def check_consume_key(self, key: str, character) -> bool:
        return character not in LAYER_KEYS and super().check_consume_key(key, character)

    def action_clear_filter(self) -> None:
        """Esc: clear the filter, apply at once, back to the tree."""
        self.value = ""
        self.post_message(FilterChanged("", final=True))


class FilterBar(Vertical):
    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder="/ filter: path fragment or glob (*.so, /usr/*/doc)",
                          id="filter-input")
        yield Static("", id="view-status")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value, final=True))

    def set_status(self, text) -> None:
        # One line high whatever it says (app.tcss): repaint it, no screen layout.
        self.query_one("#view-status", Static).update(text, layout=False)
