"""The summary bar and the loading panel shown while the worker reads the image."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Static

from slimscope.tui.render import size


class SummaryBar(Static):
    """Image reference, total/final/wasted, efficiency, layer and file counts."""

    def show_loading(self, name: str) -> None:
        # One line high whatever it says (app.tcss): repaint it, no screen layout.
        self.update(Text.assemble(("slimscope ", "bold"), (name, "bold cyan"), "  reading…"),
                    layout=False)

    def show(self, analysis, name: str) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(name, "bold cyan")
        t.append(f"  total {size(analysis.total_bytes)}")
        t.append(f"  final {size(analysis.final_bytes)}")
        t.append("  wasted ")
        t.append(size(analysis.wasted_bytes), "bold red" if analysis.wasted_bytes else "green")
        eff = analysis.efficiency
        t.append("  efficiency ")
        t.append(f"{eff:.1%}", "green" if eff >= 0.95 else "yellow" if eff >= 0.8 else "red")
        t.append(f"  layers {len(analysis.layers)}  files {len(analysis.composed.final)}")
        if analysis.secrets:
            n = len(analysis.secrets)
            t.append(f"  ⚠ {n} hidden secret{'s' if n > 1 else ''}", "bold red")
        if not analysis.hashed:
            t.append("  (not hashed)", "yellow")
        self.update(t, layout=False)


class LoadingPanel(Vertical):
    """Up at once: says what is being read and how far it got."""

    def __init__(self, name: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.image_name = name

    def compose(self) -> ComposeResult:
        yield Label(f"Reading {self.image_name} …", id="loading-label")
        yield ProgressBar(id="loading-bar", show_eta=False)
        yield Label("", id="loading-bytes")

    def progress(self, done: int, total) -> None:
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#loading-bytes", Label).update(
            f"{size(done)} of {size(total)}" if total else size(done))

    def stage(self, text: str) -> None:
        self.query_one("#loading-label", Label).update(text)
