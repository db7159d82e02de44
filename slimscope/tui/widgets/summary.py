"""The summary bar and the loading panel shown while the worker reads the image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, Static

from slimscope.tui.layout import fit_items
from slimscope.tui.render import size

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis

SEP = "  "


def summary_items(analysis, name: str, partial=None, read: Optional[float] = None) -> list:
    """(priority, Text): 0 is never dropped (the hidden-secret warning, and while the
    image loads, how much of it is shown); the bar drops the highest numbers first when
    the terminal is narrow. `partial` is (layers shown, layers in all) for a preview,
    `read` the part of the image read so far."""
    def piece(*parts) -> Text:
        return Text.assemble(*parts)

    eff = analysis.efficiency
    items = [(3, piece((name, "bold cyan"))),
             (5, piece(f"total {size(analysis.total_bytes)}")),
             (4, piece(f"final {size(analysis.final_bytes)}")),
             (1, piece("wasted ", (size(analysis.wasted_bytes),
                                   "bold red" if analysis.wasted_bytes else "green"))),
             (1, piece("efficiency ", (f"{eff:.1%}", "green" if eff >= 0.95 else
                                       "yellow" if eff >= 0.8 else "red"))),
             (6, piece(f"layers {len(analysis.layers)}")),
             (2, piece(f"paths {analysis.file_count:,}"))]
    if partial is not None:
        shown, count = partial
        done = read is not None and read >= 1
        if shown >= count:   # every layer, from its tar headers: the contents are being read
            lead = "⏳ sizes from the tar headers"
            rest = ", composing" if done else (
                ", checking contents" + ("" if read is None else f" · {read:.0%} read"))
        else:
            lead = f"⏳ layers 0–{shown - 1} of {count} shown"
            rest = ", all read, composing the rest" if done else (
                f", reading layer {shown}" + ("" if read is None else f" · {read:.0%} read"))
        items.insert(1, (0, piece((lead, "bold yellow"), (rest, "yellow"))))
    if analysis.secrets:
        n = len(analysis.secrets)
        items.append((0, piece((f"⚠ {n} hidden secret{'s' if n > 1 else ''}", "bold red"))))
    if not analysis.hashed and partial is None:
        items.append((3, piece(("(not hashed)", "yellow"))))
    return items


def _joined(items: list) -> Text:
    return Text(SEP).join(items)


class SummaryBar(Static):
    """Image reference, total/final/wasted, efficiency, layer and file counts: as many
    as the width holds, the secret warning always."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._items: Optional[list[tuple[int, Text]]] = None
        # what the bar shows: (analysis, name, partial) as given to `show`
        self._shown: Optional[tuple[Analysis, str, Optional[tuple[int, int]]]] = None
        self.plain = ""     # what the bar says now, for tests

    def show_loading(self, name: str) -> None:
        # One line high whatever it says (app.tcss): repaint it, no screen layout.
        self.update(Text.assemble(("slimscope ", "bold"), (name, "bold cyan"), "  reading…"),
                    layout=False)

    def show(self, analysis: Analysis, name: str,
             partial: Optional[tuple[int, int]] = None) -> None:
        self._shown = (analysis, name, partial)
        self._items = summary_items(analysis, name, partial)
        self._fit()

    def show_progress(self, done: int, total: Optional[int]) -> None:
        """How far the reading of the rest got, beside a preview's word."""
        if self._shown is None or self._shown[2] is None or not total:
            return
        self._items = summary_items(*self._shown, read=min(done / total, 1.0))
        self._fit()

    def _fit(self) -> None:
        if self._items is None:
            return
        width = self.content_size.width or self.app.size.width - 2
        kept = fit_items(self._items, width, lambda items: _joined(items).cell_len)
        t = _joined(kept)
        t.no_wrap = True
        t.overflow = "ellipsis"
        self.plain = t.plain
        self.update(t, layout=False)

    def on_resize(self, event) -> None:
        self._fit()


class LoadingPanel(Vertical):
    """Up at once: says what is being read and how far it got."""

    def __init__(self, name: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.image_name = name

    def compose(self) -> ComposeResult:
        yield Label(f"Reading {self.image_name} …", id="loading-label")
        yield ProgressBar(id="loading-bar", show_eta=False)
        yield Label("", id="loading-bytes")

    def progress(self, done: int, total: Optional[int]) -> None:
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#loading-bytes", Label).update(
            f"{size(done)} of {size(total)}" if total else size(done))

    def stage(self, text: str) -> None:
        self.query_one("#loading-label", Label).update(text)
