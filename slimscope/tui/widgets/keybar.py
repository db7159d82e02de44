"""The key line at the bottom: the keys of `keys.KEYS` marked for it, clickable.

Textual's Footer rebuilds its widgets whenever focus moves (it lists the focused
widget's bindings); that cost ~60 ms a focus change on the main thread, paid at
every filter. The explorer's keys are global, so one line drawn once serves.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from slimscope.tui.keys import KEYS


def _esc(text: str) -> str:
    return text.replace("[", "\\[")


def key_line(keys=KEYS) -> Content:
    parts = []
    for k in keys:
        if not k.footer:
            continue
        parts.append(Content.from_markup(
            f"[@click=app.{k.action}][b $footer-key-foreground on $footer-key-background] "
            f"{_esc(k.show)} [/][$footer-description-foreground on "
            f"$footer-description-background]{_esc(k.title)} [/][/]"))
    return Content(" ").join(parts)


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        dock: bottom;
        background: $footer-background;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(key_line(), **kwargs)
