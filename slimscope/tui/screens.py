"""Screens over the explorer: the waste list and the help."""

from __future__ import annotations

from typing import Union

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Markdown, Static

from slimscope.tui.keys import KEYS, WIDGET_KEYS
from slimscope.tui.render import legend, size


class WasteScreen(Screen):
    """Every wasted content unit, hidden secrets first, then largest first.

    Dismisses with the chosen WasteItem (Enter) or None (Esc).
    """

    BINDINGS = [
        Binding("escape,w,q", "close", "Back"),
        Binding("enter", "jump", "Jump to file", priority=True),
    ]

    def __init__(self, analysis, **kwargs) -> None:
        super().__init__(**kwargs)
        self.analysis = analysis

    def compose(self) -> ComposeResult:
        a = self.analysis
        secrets = len(a.secrets)
        head = Text.assemble(
            ("Waste ", "bold"),
            f"{size(a.wasted_bytes)} in {len(a.waste)} content units stored but not visible"
            f" in the final filesystem",
            (f" · ⚠ {secrets} hidden secret{'s' if secrets != 1 else ''} on top" if secrets
             else "", "bold red"))
        yield Static(head, id="waste-head")
        table: DataTable[Union[str, Text]] = DataTable(cursor_type="row", id="waste-table")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("", "size", "reason", "stored in", "hidden by", "path"):
            table.add_column(label)
        for n, w in enumerate(self.analysis.waste):
            table.add_row(Text("⚠", "bold red") if w.sensitive else "",
                          Text(size(w.bytes), justify="right"),
                          w.reason,
                          f"layer {w.layer}",
                          f"layer {w.hidden_by}",
                          Text(w.path, "bold red" if w.sensitive else ""),
                          key=str(n))
        if not self.analysis.waste:
            self.query_one("#waste-head", Static).update(
                Text("No waste: every stored byte is visible in the final filesystem.", "green"))
        table.focus()

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_jump(self) -> None:
        if self.analysis.waste and self.table.row_count:
            self.dismiss(self.analysis.waste[self.table.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()


def help_markdown() -> str:
    lines = ["# slimscope tui", "",
             "Which layer and which files make the image big, and which bytes are stored "
             "but invisible.", "", "| key | what it does |", "|---|---|"]
    for k in KEYS:
        text = k.help.replace("*", "\\*")   # a glob is not emphasis
        lines.append(f"| `{k.show}` | {text} |")
    for key, what in WIDGET_KEYS:
        lines.append(f"| {key} | {what} |")
    lines += ["", "## Reading the file pane", "",
              "* **changes** mode lists what the selected layer's tar holds; **image** mode "
              "shows the filesystem as composed up to that layer.",
              "* Every row: status marker, size, share of its parent directory, a bar, the name. "
              "Directory sizes are the sums of what they hold in the view.",
              "* `+` added, `~` modified, `≈` metadata-only (stored again for a mode/owner "
              "change), `-` deleted (a whiteout: its size is what it hides, still stored below), "
              "`⊘` opaque (a directory emptied of lower content).",
              "* The summary bar: total = every stored content byte, final = what the final "
              "filesystem shows, wasted = the difference."]
    return "\n".join(lines)


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            with VerticalScroll():
                yield Markdown(help_markdown(), id="help-text")
            yield Static(legend(), id="help-legend")
            yield Static(Text("Esc closes", "dim"), id="help-close")

    def action_close(self) -> None:
        self.dismiss(None)
