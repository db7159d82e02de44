"""The details pane: everything known of the selected file or layer.

The pane changes on every layer switch, filter and cursor move, so it is drawn the cheap
way: rows of (label, value) are wrapped here into a label column and hanging-indented
values, and the pane draws those lines itself (Textual's line API). Nothing is measured
when the content changes, and the screen is laid out again only when the number of lines
changes (the scrollbar's range). A rich Table in a Static in a scroll container cost a
table measure and two or three screen layouts per change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

from rich.text import Text
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from slimscope.core.fmt import plural, short_command
from slimscope.core.report import secret_sentence
from slimscope.tui.render import mode_string, size, when

if TYPE_CHECKING:
    from textual.selection import Selection
    from textual.style import Style

LABEL_WIDTH = 10    # "touched by"; wider labels widen the column for that subject only
MIN_VALUE_WIDTH = 12
TEXT_WIDTH = 1 << 20   # `text` is the unwrapped form: one line a value (but its own newlines)
_BREAKS = frozenset("\n\t")   # a value with these goes through wrap even when short


def _styled(text: str, style: str) -> Content:
    # Through a rich Text span, so colour names mean the terminal's ANSI colours as the
    # theme maps them (as in the tree and the status line), not CSS colours.
    t = Text(text)
    if style:
        t.stylize(style)
    return Content.from_rich_text(t)


class _Rows(list):
    """(label, value) pairs; labels are bold, either may have a colour."""

    def add(self, label: str, value: str = "", style: str = "", label_style: str = "") -> None:
        self.append((_styled(label, f"bold {label_style}".rstrip()), _styled(value, style)))


class DetailsPane(ScrollView):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Details"
        # ("file", path) or ("layer", n)
        self.subject: Union[tuple[str, str], tuple[str, int], None] = None
        self._rows: list[tuple[Content, Content]] = []
        self._lines: list[Content] = []      # _rows wrapped to _wrap_width
        self._wrap_width: Optional[int] = None
        self._strips: Optional[list[Strip]] = None
        self._strips_key: Optional[tuple[int, Style, Optional[Selection]]] = None
        self._secrets_of = None                # the analysis _secrets_by_layer is for
        self._secrets_by_layer: dict[int, list] = {}

    # -- what it says ------------------------------------------------------------
    @property
    def text(self) -> str:
        """What the pane says, as plain text (for tests and copy-paste)."""
        return "\n".join(line.plain.rstrip() for line in self._wrap(TEXT_WIDTH)) + "\n"

    def _wrap(self, width: int) -> list[Content]:
        """Label column, one space, then the value wrapped under itself."""
        label_width = max([LABEL_WIDTH] + [label.cell_length for label, _ in self._rows])
        value_width = max(width - label_width - 1, MIN_VALUE_WIDTH)
        indent = Content(" " * (label_width + 1))
        lines = []
        for label, value in self._rows:
            fits = value.cell_length <= value_width and not _BREAKS.intersection(value.plain)
            parts = [value] if fits else value.wrap(value_width)   # most values fit: skip wrap
            lines.append(label.pad_right(label_width - label.cell_length + 1) + parts[0])
            lines.extend(indent + part for part in parts[1:])
        return lines

    def _show(self, rows: list[tuple[Content, Content]]) -> None:
        self._rows = rows
        self._wrap_width = None
        self._relayout()
        self.scroll_home(animate=False)
        self.refresh()

    def _lines_for(self, width: int) -> list[Content]:
        if width != self._wrap_width:
            self._lines = self._wrap(width) if width > 0 else []
            self._wrap_width = width
            self._strips = None
        return self._lines

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return   # not laid out yet: on_resize wraps
        # A reactive: the screen lays out again only if the line count changed.
        self.virtual_size = Size(width, len(self._lines_for(width)))

    def on_resize(self, event) -> None:
        self._relayout()

    # -- the line API ----------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self.visual_style
        lines = self._lines_for(width)
        key = (width, style, self.text_selection)
        if self._strips is None or self._strips_key != key:
            # One Content for all lines, so selection offsets are (column, line) in them.
            self._strips = Visual.to_strips(self, Content("\n").join(lines), width, None, style,
                                            pad=True) if lines else []
            self._strips_key = key
        index = y + int(self.scroll_offset.y)
        if 0 <= index < len(self._strips):
            return self._strips[index]
        return Strip.blank(width, style.rich_style)

    def get_selection(self, selection) -> tuple[str, str]:
        """Mouse selection: offsets are (column, line) in the wrapped lines, as rendered."""
        return selection.extract("\n".join(line.plain for line in self._lines)), "\n"

    def _layer_secrets(self, analysis, layer: int) -> list:
        """Secrets a layer stores or hides. `analysis.secrets` filters all the waste each
        time it is read, milliseconds on a big image, so sort it by layer once."""
        if self._secrets_of is not analysis:
            by_layer: dict[int, list] = {}
            for w in analysis.secrets:
                for n in {w.layer, w.hidden_by}:
                    by_layer.setdefault(n, []).append(w)
            self._secrets_of, self._secrets_by_layer = analysis, by_layer
        return self._secrets_by_layer.get(layer, [])

    # -- subjects --------------------------------------------------------------------
    @property
    def file_path(self) -> Optional[str]:
        """The path whose details are shown, if a file's are."""
        subject = self.subject
        return subject[1] if subject is not None and isinstance(subject[1], str) else None

    def show_file(self, model, view, path: str) -> None:
        self.subject = ("file", path)
        rec = model.record(view, path)
        rows = _Rows()
        row = rows.add
        row("path", path)
        quiet = rec["status"] == "from a lower layer" or rec["layer"] is None
        row("type", rec["type"] + ("" if quiet else f" · {rec['status']} in layer {view.layer}"))
        if rec["type"] in ("whiteout", "opaque") or rec["status"] in ("deleted", "opaque"):
            row("still costs", f"{size(rec['hides'])} ({rec['hides']:,} bytes) stored "
                               "in lower layers", "red")
        if rec["type"] in ("file", "hardlink"):
            row("size", f"{size(rec['size'])} ({rec['size']:,} bytes)")
        elif rec["type"] == "dir":
            total = model.full(view.layer, view.mode).totals.get(path, 0)
            row("contents", f"{size(total)} in this view")
        if rec["mode"] is not None:
            row("mode", f"{mode_string(rec['mode'])} ({rec['mode']:04o})")
            row("owner", f"{rec['uid']}:{rec['gid']}")
            row("mtime", when(rec.get("mtime")))
        if rec["link"]:
            row("link", ("→ " if rec["type"] == "symlink" else "= ") + rec["link"])
        if rec["digest"]:
            row("digest", rec["digest"])
        added = model.added_in(path, upto=view.layer)
        if added is not None:
            row("added in", f"layer {added}")
        if rec.get("wasted"):
            w = model.waste_for(view.rows[path].ref)
            if w is not None:
                row("waste", f"{w.reason} in layer {w.hidden_by}", "red")
                if w.sensitive:
                    row("", "⚠ " + secret_sentence(model.analysis, w), "bold red")
        history = model.history(path)
        if history:
            row("touched by")
            for t in history:
                line = f"{t.what}" + (f" ({t.kind}, {size(t.size)})" if t.size else f" ({t.kind})")
                row(f"layer {t.layer}", line, label_style="cyan" if t.layer == view.layer else "")
        self._show(rows)

    def show_layer(self, analysis, layer: int) -> None:
        self.subject = ("layer", layer)
        l = analysis.layers[layer]
        rows = _Rows()
        row = rows.add
        row("layer", f"{l.index} of {len(analysis.layers)}")
        row("command", short_command(l.command))
        if l.created:
            row("created", l.created)
        if l.comment:
            row("comment", l.comment)
        row("digest", l.digest)
        if l.diff_id and l.diff_id != l.digest:
            row("diff_id", l.diff_id)
        row("content", f"{size(l.bytes)} ({l.bytes:,} bytes) in {plural(l.files, 'entry', 'entries')}")
        row("tar", size(l.tar_bytes) + (f" · compressed {size(l.compressed_bytes)}"
                                        if l.compressed_bytes is not None else ""))
        row("changes", f"+{l.added} added  ~{l.modified} modified  "
                       f"≈{l.metadata_only} metadata-only  -{l.deleted} deleted")
        if l.wasted_bytes:
            row("wasted", f"{size(l.wasted_bytes)} of it hidden by later layers", "red")
        if l.hides_bytes:
            row("hides", f"{size(l.hides_bytes)} of lower layers (still stored there)", "red")
        for w in self._layer_secrets(analysis, layer):
            row("secret", secret_sentence(analysis, w), "red", label_style="red")
        hints = [h for h in analysis.hints if h.layer == layer]
        if hints:
            row("hints")
            for h in hints:
                row(size(h.bytes), f"{h.title}: {h.advice}"
                    + (f" ({', '.join(h.paths[:3])})" if h.paths else ""),
                    label_style="yellow")
        self._show(rows)
