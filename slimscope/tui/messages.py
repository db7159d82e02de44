"""Messages the explorer's widgets send to the app."""

from __future__ import annotations

from textual.message import Message


class LayerHighlighted(Message):
    """The layers pane moved to another layer."""

    def __init__(self, layer: int) -> None:
        super().__init__()
        self.layer = layer


class EntryHighlighted(Message):
    """The file tree moved to another path."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class FilterChanged(Message):
    """The filter text changed (`final`: Enter was pressed, apply at once)."""

    def __init__(self, text: str, final: bool = False) -> None:
        super().__init__()
        self.text = text
        self.final = final
