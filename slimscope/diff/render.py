"""A comparison of two images for people: the terminal text and the Markdown of
`slimscope diff`."""

from __future__ import annotations

from slimscope.core.delta import TOTAL_KEYS, Diff, LayerView
from slimscope.core.fmt import md_cell, short_command, signed, size


def _val(key: str, v) -> str:
    if v is None:
        return "?"
    return str(v) if key in ("layers", "files") else size(v)


def _delta(key: str, o, n) -> str:
    if o is None or n is None:
        return "?"
    if key in ("layers", "files"):
        return f"{n - o:+d}"
    pct = f" ({(n - o) / o:+.1%})" if o else ""
    return signed(n - o) + pct


def _layer_line(l: LayerView) -> str:
    return f"layer {l.index}: {size(l.bytes)}  {short_command(l.created_by, 70)}"


def render_text(d: Diff, top: int = 10) -> str:
    out = [f"old: {d.old.reference or d.old.origin}  {d.old.id[:19]}",
           f"new: {d.new.reference or d.new.origin}  {d.new.id[:19]}", ""]
    for k in TOTAL_KEYS:
        o, n = d.totals[k]
        out.append(f"  {k.replace('_', ' '):17} {_val(k, o):>10} -> {_val(k, n):>10}  "
                   f"{_delta(k, o, n)}")
    out += ["", f"Layers: {len(d.shared_layers)} shared "
                f"({size(sum(l.bytes or 0 for l in d.shared_layers))}), "
                f"{len(d.removed_layers)} only in old, {len(d.added_layers)} only in new"]
    out += [f"  - {_layer_line(l)}" for l in d.removed_layers[:top]]
    out += [f"  + {_layer_line(l)}" for l in d.added_layers[:top]]
    if d.dirs is not None:
        out += ["", f"Directories (largest change first, {min(top, len(d.dirs))} of {len(d.dirs)})"
                if d.dirs else "Directories: no change in bytes"]
        out += [f"  {signed(n - o):>11}  {size(o):>9} -> {size(n):>9}  {p}"
                for p, o, n in d.dirs[:top]]
    if d.files is not None:
        out += ["", f"Files (largest change first, {min(top, len(d.files))} of {len(d.files)})"
                if d.files else "Files: none grew, shrank, changed, appeared or vanished"]
        out += [f"  {signed(c.delta):>11}  {c.change:8} {c.path}" for c in d.files[:top]]
    for note in d.notes():
        out += ["", f"note: {note}"]
    return "\n".join(out)




def render_markdown(d: Diff, top: int = 10) -> str:
    out = [f"## slimscope diff: `{md_cell(d.old.reference or d.old.origin)}` → "
           f"`{md_cell(d.new.reference or d.new.origin)}`", "",
           "| | old | new | change |", "|---|---:|---:|---:|"]
    for k in TOTAL_KEYS:
        o, n = d.totals[k]
        out.append(f"| {k.replace('_', ' ')} | {_val(k, o)} | {_val(k, n)} | {_delta(k, o, n)} |")
    out.append("")
    if d.removed_layers or d.added_layers:
        out += ["### Layers", "", "| | # | size | command |", "|---|---:|---:|---|"]
        for sign, ls in (("−", d.removed_layers), ("+", d.added_layers)):
            for l in ls[:top]:
                out.append(f"| {sign} | {l.index} | {size(l.bytes)} | "
                           f"`{md_cell(short_command(l.created_by, 80))}` |")
        out.append("")
    if d.dirs:
        out += ["### Directories", "", "| change | old | new | directory |", "|---:|---:|---:|---|"]
        out += [f"| {signed(n - o)} | {size(o)} | {size(n)} | `{md_cell(p)}` |" for p, o, n in d.dirs[:top]]
        out.append("")
    if d.files:
        out += ["### Files", "", "| change | | old | new | path |", "|---:|---|---:|---:|---|"]
        out += [f"| {signed(c.delta)} | {c.change} | {size(c.old_bytes)} | {size(c.new_bytes)} | "
                f"`{md_cell(c.path)}` |" for c in d.files[:top]]
        out.append("")
    for note in d.notes():
        out += [f"> {note}", ""]
    return "\n".join(out)
