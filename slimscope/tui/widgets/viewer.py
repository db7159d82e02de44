"""The file viewer and the extraction prompt, screens over the explorer.

Both read one body from its layer through `image.member.open_member` in a worker
(a layer is streamed again: instant on the samples, seconds on a big engine image).
"""

from __future__ import annotations

import os
from typing import Optional

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static, TextArea
from textual.widgets.text_area import Selection

from slimscope.errors import SlimscopeError
from slimscope.fileio import write_atomic
from slimscope.image.member import open_member
from slimscope.tui.render import size
from slimscope.tui.viewer_model import VIEW_LIMIT, Body, body_for, find, location


class ViewerScreen(Screen):
    """A regular file's content as its layer stores it: text, or a hex dump; `/` searches,
    `n` finds the next match, PgUp/PgDn page, Esc goes back."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("slash", "search", "Search"),
        Binding("n", "next", "Next match"),
    ]

    def __init__(self, image, layer: int, path: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.image = image
        self.layer_index = layer
        self.path = path
        self.body: Optional[Body] = None
        self.error: Optional[str] = None
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("View ", "bold"), self.path, (f"  layer {self.layer_index}", "dim"),
                                   "  reading…"), id="viewer-head")
        yield TextArea("", read_only=True, show_line_numbers=True, id="viewer-text")
        yield Input(placeholder="search (Enter: find, Esc: back to the text)", id="viewer-search")
        yield Static(Text("Esc back · / search · n next · PgUp/PgDn page", "dim"),
                     id="viewer-keys")

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def on_mount(self) -> None:
        self.query_one("#viewer-search").display = False
        self.area.focus()
        self.load()

    @work(thread=True, exclusive=True, group="viewer")
    def load(self) -> None:
        try:
            m = open_member(self.image, self.layer_index, self.path, VIEW_LIMIT)
        except SlimscopeError as e:
            self.app.call_from_thread(self._failed, str(e))
            return
        self.app.call_from_thread(self._show, body_for(m.data, m.size))

    def _failed(self, message: str) -> None:
        self.error = message
        self.query_one("#viewer-head", Static).update(Text(message, "bold red"))

    def _show(self, body: Body) -> None:
        self.body = body
        kind = "binary, hex" if body.binary else "text"
        cut = (f" · the first {size(body.shown)} of {size(body.size)}" if body.cut
               else f" · {size(body.size)}")
        self.query_one("#viewer-head", Static).update(Text.assemble(
            ("View ", "bold"), self.path, (f"  layer {self.layer_index} · {kind}{cut}", "dim")))
        self.area.load_text(body.text)
        self.area.show_line_numbers = not body.binary

    def action_close(self) -> None:
        self.dismiss(None)

    def action_search(self) -> None:
        box = self.query_one("#viewer-search", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.needle = event.value
        self.action_next()
        self.area.focus()

    def on_key(self, event) -> None:
        box = self.query_one("#viewer-search", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.display = False
            self.area.focus()

    def action_next(self) -> None:
        """Select the next match after the cursor (wrapping round)."""
        if self.body is None or not self.needle:
            return
        text = self.area.text
        row, col = self.area.cursor_location
        # TextArea types its document as DocumentBase; the one it makes of a text is a
        # Document, which has this.
        index = self.area.document.get_index_from_location  # type: ignore[attr-defined]
        start = index((row, col)) + (1 if self.area.selected_text else 0)
        at = find(text, self.needle, start)
        if at is None:
            self.notify(f"{self.needle!r} is not in the text shown", severity="warning")
            return
        begin, end = location(text, at), location(text, at + len(self.needle))
        self.area.selection = Selection(begin, end)
        self.area.scroll_cursor_visible(center=True)

    @property
    def match(self) -> Optional[tuple]:
        """The selected match as (row, column), or None."""
        return self.area.selection.start if self.area.selected_text else None


class ExtractScreen(ModalScreen):
    """Ask for a host path and write the body there: atomically (a temporary name, then a
    rename), and over an existing file only when Enter is pressed twice for it."""

    BINDINGS = [Binding("escape", "close", "Cancel")]

    def __init__(self, image, layer: int, path: str, default: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.image = image
        self.layer_index = layer
        self.path = path
        self.default = default
        self.confirmed_for: Optional[str] = None   # the existing path Enter was pressed for
        self.written: Optional[str] = None

    def compose(self) -> ComposeResult:
        with Vertical(id="extract-box"):
            yield Static(Text.assemble(("Extract ", "bold"), self.path,
                                       (f" (layer {self.layer_index}) to:", "dim")))
            yield Input(self.default, id="extract-path")
            yield Static(Text("Enter writes · Esc cancels", "dim"), id="extract-note")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def note(self, text: str, style: str = "") -> None:
        self.query_one("#extract-note", Static).update(Text(text, style))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        dest = os.path.expanduser(event.value.strip())
        if not dest:
            return
        if os.path.isdir(dest):
            dest = os.path.join(dest, os.path.basename(self.path))
        if os.path.lexists(dest) and self.confirmed_for != dest:
            self.confirmed_for = dest
            self.note(f"{dest} exists: Enter again to replace it, Esc to cancel", "bold yellow")
            return
        self.note("reading the layer …")
        self.extract(dest, overwrite=self.confirmed_for == dest)

    @work(thread=True, exclusive=True, group="extract")
    def extract(self, dest: str, overwrite: bool) -> None:
        try:
            m = open_member(self.image, self.layer_index, self.path)
            write_atomic(dest, m.data, force=overwrite)
            os.chmod(dest, m.mode & 0o777)
        except SlimscopeError as e:
            self.app.call_from_thread(self.note, str(e), "bold red")
            return
        except OSError as e:
            self.app.call_from_thread(self.note, f"cannot write {dest}: {e.strerror}", "bold red")
            return
        self.app.call_from_thread(self._done, dest, m.size)

    def _done(self, dest: str, n: int) -> None:
        self.written = dest
        self.app.notify(f"Wrote {size(n)} to {dest}")
        self.dismiss(dest)

    def action_close(self) -> None:
        self.dismiss(None)
