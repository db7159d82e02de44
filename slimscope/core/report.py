"""The analysis as JSON, as a terminal report, and as Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slimscope.core.analysis import SCHEMA, Analysis
from slimscope.core.fmt import md_cell, plural, short_command, size
from slimscope.core.hints import Hint
from slimscope.core.records import Duplicate, FileRecord, LayerReport, WasteItem

if TYPE_CHECKING:
    from slimscope.core.styled import Writer


def where(analysis: Analysis, layer: int) -> str:
    return f"layer {layer} ({short_command(analysis.layers[layer].command, 50)})"


def secret_sentence(analysis: Analysis, w: WasteItem) -> str:
    how = {"deleted": "deleted", "opaque": "hidden by an emptied directory",
           "overwritten": "overwritten", "metadata-only": "re-stored",
           "replaced": "replaced"}[w.reason]
    return (f"{w.path} was {how} in layer {w.hidden_by} but is still in layer {w.layer}: "
            "anyone who pulls the image can read it")


def layer_json(l: LayerReport) -> dict[str, Any]:
    return {"index": l.index, "digest": l.digest, "diff_id": l.diff_id,
            "created_by": l.created_by, "comment": l.comment, "bytes": l.bytes, "tar_bytes": l.tar_bytes,
            "compressed_bytes": l.compressed_bytes, "files": l.files, "added": l.added,
            "modified": l.modified, "deleted": l.deleted, "metadata_only": l.metadata_only,
            "wasted_bytes": l.wasted_bytes, "hides_bytes": l.hides_bytes}


def waste_json(w: WasteItem) -> dict[str, Any]:
    return {"path": w.path, "bytes": w.bytes, "layer": w.layer, "hidden_by": w.hidden_by,
            "reason": w.reason, "sensitive": w.sensitive, "digest": w.digest}


def duplicate_json(d: Duplicate) -> dict[str, Any]:
    return {"digest": d.digest, "bytes": d.bytes, "paths": d.paths, "savable_bytes": d.savable}


def hint_json(analysis: Analysis, h: Hint) -> dict[str, Any]:
    return {"id": h.id, "title": h.title, "advice": h.advice, "bytes": h.bytes,
            "layer": h.layer, "created_by": analysis.layers[h.layer].created_by,
            "paths": h.paths, "count": h.count}


def file_json(r: FileRecord) -> dict[str, Any]:
    return {"path": r.path, "type": r.type, "size": r.size, "mode": r.mode, "uid": r.uid,
            "gid": r.gid, "layer": r.layer, "link": r.link, "digest": r.digest}


def to_json(analysis: Analysis, include_files: bool = False) -> dict[str, Any]:
    """The `slimscope.analysis/v1` document of an analysis."""
    img = analysis.image
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "image": {
            "reference": img.reference,
            "id": img.id,
            "os": img.os,
            "architecture": img.architecture,
            "config": img.config.get("config") or {},
        },
        "hashed": analysis.hashed,
        "totals": {
            "total_bytes": analysis.total_bytes,
            "final_bytes": analysis.final_bytes,
            "wasted_bytes": analysis.wasted_bytes,
            "efficiency": round(analysis.efficiency, 6),
            "compressed_bytes": analysis.compressed_bytes,
            "layers": len(analysis.layers),
            "files": analysis.file_count,
            "secrets": len(analysis.secrets),
        },
        "layers": [layer_json(l) for l in analysis.layers],
        "waste": [waste_json(w) for w in analysis.waste],
        "duplicates": [duplicate_json(d) for d in analysis.duplicates],
        "hints": [hint_json(analysis, h) for h in analysis.hints],
    }
    if include_files:
        doc["files"] = [file_json(r) for r in analysis.files()]
    return doc


def render_text(analysis: Analysis, console: Writer, top: int = 10, files: bool = False) -> None:
    """The terminal report, laid out for `console.width` (see core/textreport.py)."""
    from slimscope.core.textreport import render_text as render

    render(analysis, console, top, files)


def render_markdown(analysis: Analysis, top: int = 10) -> str:
    img = analysis.image
    out = [f"## slimscope: `{img.reference}`", ""]
    out.append(f"**{size(analysis.final_bytes)}** in the final filesystem, "
               f"**{size(analysis.wasted_bytes)}** wasted of {size(analysis.total_bytes)} stored "
               f"(efficiency **{analysis.efficiency:.1%}**), {len(analysis.layers)} layers, "
               f"{len(analysis.composed.final)} paths.")
    out.append("")
    if analysis.secrets:
        out.append(f"### :warning: Hidden secrets ({len(analysis.secrets)})")
        out.append("")
        for w in analysis.secrets:
            out.append(f"- {md_cell(secret_sentence(analysis, w))}")
        out.append("")
    out += ["### Layers", "", "| # | size | wasted | command |", "|---:|---:|---:|---|"]
    for l in analysis.layers:
        out.append(f"| {l.index} | {size(l.bytes)} | {size(l.wasted_bytes) if l.wasted_bytes else ''}"
                   f" | `{md_cell(short_command(l.command, 100))}` |")
    out.append("")
    biggest = analysis.largest_files(top, digests=False)
    if biggest:
        out += [f"### Largest files (top {len(biggest)})", "", "| size | layer | path |",
                "|---:|---:|---|"]
        out += [f"| {size(r.size)} | {r.layer} | `{md_cell(r.path)}` |" for r in biggest]
        out.append("")
    if analysis.waste:
        out += ["### Largest waste", "", "| size | reason | stored in | hidden by | path |",
                "|---:|---|---:|---:|---|"]
        for w in sorted(analysis.waste, key=lambda w: (-w.bytes, w.path))[:top]:
            out.append(f"| {size(w.bytes)} | {w.reason} | {w.layer} | {w.hidden_by} | "
                       f"`{md_cell(w.path)}`{' :warning:' if w.sensitive else ''} |")
        out.append("")
    if analysis.duplicates:
        savable = sum(d.savable for d in analysis.duplicates)
        out += [f"### Duplicates ({plural(len(analysis.duplicates), 'group')}, "
                f"{size(savable)} savable)", "", "| size | copies | paths |", "|---:|---:|---|"]
        for d in analysis.duplicates[:top]:
            paths = ", ".join(f"`{md_cell(p)}`" for p in d.paths[:4])
            out.append(f"| {size(d.bytes)} | {len(d.paths)} | {paths}"
                       f"{f' … {len(d.paths) - 4} more' if len(d.paths) > 4 else ''} |")
        out.append("")
    if analysis.hints:
        out += ["### Hints", ""]
        for h in analysis.hints[:top]:
            out.append(f"- **{size(h.bytes)}** {md_cell(h.title)} (layer {h.layer}: "
                       f"`{md_cell(short_command(analysis.layers[h.layer].command, 60))}`): "
                       f"{md_cell(h.advice)}")
        out.append("")
    return "\n".join(out)
