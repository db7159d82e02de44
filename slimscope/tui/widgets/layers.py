"""The layers pane: one row per layer with its size, bar, share and command, and
under it the selected layer's whole command."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable, Static

from slimscope.tui import layout
from slimscope.tui.messages import LayerHighlighted
from slimscope.tui.render import bar, pct, short_command, size

_LABELS = {"n": "#", "size": "size", "bar": "", "share": "share", "wasted": "wasted"}


class LayerTable(DataTable):
    """Moving the cursor selects the layer the file pane shows.

    The columns follow the pane's width (layout.layer_columns): the command gets
    what the fixed columns leave, cut with an ellipsis; LayerCommand shows all of it."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.border_title = "Layers"
        self.analysis = None
        self._shape = None     # (columns, command width) the rows were built for

    def load(self, analysis) -> None:
        self.analysis = analysis
        self._shape = None
        self._build()
        self.border_subtitle = f"{len(analysis.layers)} layers"

    def _build(self) -> None:
        if self.analysis is None:
            return
        width = self.size.width or 80
        cols = layout.layer_columns(width)
        shape = (tuple(cols), layout.command_width(width, cols))
        if shape == self._shape:
            return
        self._shape = shape
        keep = self.cursor_row
        self.clear(columns=True)
        for key in cols:
            self.add_column(_LABELS[key], key=key)
        self.add_column("command", key="cmd", width=shape[1])
        total = self.analysis.total_bytes
        for l in self.analysis.layers:
            cells = {"n": Text(str(l.index), justify="right"),
                     "size": Text(size(l.bytes), justify="right"),
                     "bar": Text(bar(l.bytes, total, 8), "cyan"),
                     "share": Text(pct(l.bytes, total), "dim"),
                     "wasted": Text(size(l.wasted_bytes), "red") if l.wasted_bytes else Text("")}
            self.add_row(*(cells[c] for c in cols), short_command(l.command, shape[1]),
                         key=str(l.index))
        if 0 <= keep < self.row_count:
            self.move_cursor(row=keep, animate=False)

    def on_resize(self, event) -> None:
        self._build()

    def select_layer(self, layer: int) -> None:
        if 0 <= layer < self.row_count and self.cursor_row != layer:
            self.move_cursor(row=layer)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(LayerHighlighted(event.cursor_row))


class LayerCommand(Static):
    """The selected layer's whole command, wrapped (the table can only show its start)."""

    def show_layer(self, analysis, layer: int) -> None:
        l = analysis.layers[layer]
        t = Text()
        t.append(f"layer {layer}: ", "bold")
        t.append(short_command(l.command))
        self.update(t)
