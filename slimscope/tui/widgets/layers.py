"""The layers pane: one row per layer with its size, bar, share and command."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from slimscope.tui.messages import LayerHighlighted
from slimscope.tui.render import bar, pct, short_command, size


class LayerTable(DataTable):
    """Moving the cursor selects the layer the file pane shows."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.border_title = "Layers"

    def on_mount(self) -> None:
        for label, key in (("#", "n"), ("size", "size"), ("", "bar"), ("share", "share"),
                           ("wasted", "wasted"), ("command", "cmd")):
            self.add_column(label, key=key)

    def load(self, analysis) -> None:
        self.clear()
        total = analysis.total_bytes
        for l in analysis.layers:
            wasted = Text(size(l.wasted_bytes), "red") if l.wasted_bytes else Text("")
            self.add_row(Text(str(l.index), justify="right"),
                         Text(size(l.bytes), justify="right"),
                         Text(bar(l.bytes, total, 8), "cyan"),
                         Text(pct(l.bytes, total), "dim"),
                         wasted,
                         short_command(l.command, 60),
                         key=str(l.index))
        self.border_subtitle = f"{len(analysis.layers)} layers"

    def select_layer(self, layer: int) -> None:
        if 0 <= layer < self.row_count and self.cursor_row != layer:
            self.move_cursor(row=layer)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(LayerHighlighted(event.cursor_row))
