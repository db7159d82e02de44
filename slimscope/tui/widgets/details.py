"""The details pane: everything known of the selected file or layer."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from slimscope.report import secret_sentence
from slimscope.tui.render import mode_string, size, when


def _grid() -> Table:
    t = Table.grid(padding=(0, 1))
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    return t


class DetailsPane(VerticalScroll):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Details"
        self.subject = None   # ("file", path) or ("layer", n)
        self.renderable = Text("")

    def compose(self):
        yield Static("", id="details-body")

    @property
    def body(self) -> Static:
        return self.query_one("#details-body", Static)

    @property
    def text(self) -> str:
        """What the pane says, as plain text (for tests and copy-paste)."""
        from rich.console import Console
        con = Console(width=400, record=True, file=open("/dev/null", "w"))
        con.print(self.renderable)
        return con.export_text()

    def show_file(self, model, view, path: str) -> None:
        self.subject = ("file", path)
        rec = model.record(view, path)
        g = _grid()
        g.add_row("path", Text(path))
        quiet = rec["status"] == "from a lower layer" or rec["layer"] is None
        g.add_row("type", rec["type"] + ("" if quiet else f" · {rec['status']} in layer {view.layer}"))
        if rec["type"] in ("whiteout", "opaque") or rec["status"] in ("deleted", "opaque"):
            g.add_row("still costs", Text(f"{size(rec['hides'])} ({rec['hides']:,} bytes) stored "
                                          "in lower layers", "red"))
        if rec["type"] in ("file", "hardlink"):
            g.add_row("size", f"{size(rec['size'])} ({rec['size']:,} bytes)")
        elif rec["type"] == "dir":
            total = view.full.totals.get(path, 0)
            g.add_row("contents", f"{size(total)} in this view")
        if rec["mode"] is not None:
            g.add_row("mode", f"{mode_string(rec['mode'])} ({rec['mode']:04o})")
            g.add_row("owner", f"{rec['uid']}:{rec['gid']}")
            g.add_row("mtime", when(rec.get("mtime")))
        if rec["link"]:
            g.add_row("link", Text(("→ " if rec["type"] == "symlink" else "= ") + rec["link"]))
        if rec["digest"]:
            g.add_row("digest", rec["digest"])
        added = model.added_in(path, upto=view.layer)
        if added is not None:
            g.add_row("added in", f"layer {added}")
        if rec.get("wasted"):
            w = model.waste_for(view.rows[path].ref)
            if w is not None:
                g.add_row("waste", Text(f"{w.reason} in layer {w.hidden_by}", "red"))
                if w.sensitive:
                    g.add_row("", Text("⚠ " + secret_sentence(model.analysis, w), "bold red"))
        history = model.history(path)
        if history:
            g.add_row("touched by", "")
            for t in history:
                where = f"layer {t.layer}"
                line = f"{t.what}" + (f" ({t.kind}, {size(t.size)})" if t.size else f" ({t.kind})")
                g.add_row(Text(where, "cyan" if t.layer == view.layer else ""), line)
        self.renderable = g
        self.body.update(g)
        self.scroll_home(animate=False)

    def show_layer(self, analysis, layer: int) -> None:
        self.subject = ("layer", layer)
        l = analysis.layers[layer]
        g = _grid()
        g.add_row("layer", f"{l.index} of {len(analysis.layers)}")
        g.add_row("command", Text(l.created_by or l.comment or "(no command recorded)"))
        if l.created:
            g.add_row("created", l.created)
        if l.comment:
            g.add_row("comment", l.comment)
        g.add_row("digest", l.digest)
        if l.diff_id and l.diff_id != l.digest:
            g.add_row("diff_id", l.diff_id)
        g.add_row("content", f"{size(l.bytes)} ({l.bytes:,} bytes) in {l.files} entries")
        g.add_row("tar", size(l.tar_bytes) + (f" · compressed {size(l.compressed_bytes)}"
                                             if l.compressed_bytes is not None else ""))
        g.add_row("changes", f"+{l.added} added  ~{l.modified} modified  "
                             f"≈{l.metadata_only} metadata-only  -{l.deleted} deleted")
        if l.wasted_bytes:
            g.add_row("wasted", Text(f"{size(l.wasted_bytes)} of it hidden by later layers", "red"))
        if l.hides_bytes:
            g.add_row("hides", Text(f"{size(l.hides_bytes)} of lower layers "
                                    "(still stored there)", "red"))
        secrets = [w for w in analysis.secrets if w.layer == layer or w.hidden_by == layer]
        for w in secrets:
            g.add_row(Text("secret", "bold red"), Text(secret_sentence(analysis, w), "red"))
        hints = [h for h in analysis.hints if h.layer == layer]
        if hints:
            g.add_row("hints", "")
            for h in hints:
                g.add_row(Text(size(h.bytes), "yellow"),
                          Text(f"{h.title}: {h.advice}" + (f" ({', '.join(h.paths[:3])})"
                                                            if h.paths else "")))
        self.renderable = g
        self.body.update(g)
        self.scroll_home(animate=False)
