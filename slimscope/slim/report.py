"""What a slim did: before/after sizes, layer counts, and where the saved bytes came from."""

from __future__ import annotations

from slimscope import schemas
from slimscope.core.fmt import size

REASON_GROUPS = (("hidden deletions", ("deleted", "opaque")),
                 ("overwrites", ("overwritten", "replaced")),
                 ("metadata duplication", ("metadata-only",)))


def sizes(analysis) -> dict:
    return {"layers": len(analysis.layers),
            "total_bytes": analysis.total_bytes,
            "final_bytes": analysis.final_bytes,
            "tar_bytes": sum(l.tar_bytes for l in analysis.layers),
            "compressed_bytes": analysis.compressed_bytes}


def saved_by_reason(analysis, start: int = 0) -> list:
    """Bytes the rewrite drops because earlier layers hid them (only layers >= start)."""
    out = []
    for label, reasons in REASON_GROUPS:
        n = sum(w.bytes for w in analysis.waste if w.layer >= start and w.reason in reasons)
        out.append({"reason": label, "bytes": n})
    return out


def kept_in_base(analysis, start: int) -> int:
    return sum(w.bytes for w in analysis.waste if w.layer < start)


def plan_rules(plan) -> list:
    return [{"rule": r.name, "description": r.description, "paths": r.paths, "bytes": r.bytes,
             "examples": r.examples} for r in plan.rules]


def build(before, after, plan, start: int, via: str, targets: list, notes: list,
          verified: bool, smoke=None) -> dict:
    return {
        "schema": schemas.SLIM,
        "source": before.image.reference,
        "targets": targets,
        "via": via,
        "base_layers_kept": start,
        "before": sizes(before),
        "after": sizes(after) if after is not None else None,
        "saved": saved_by_reason(before, start) + [
            {"reason": r["rule"], "bytes": r["bytes"]} for r in plan_rules(plan)],
        "hidden_bytes_left_in_base": kept_in_base(before, start),
        "removed": plan_rules(plan),
        "verified": verified,
        "smoke": smoke,
        "notes": notes,
    }


def _pct(a, b) -> str:
    if not a or b is None or a is None:
        return ""
    return f" ({(b - a) / a * 100:+.1f}%)"


def render_text(doc: dict) -> str:
    lines = []
    b, a = doc["before"], doc["after"]
    lines.append(f"slimmed {doc['source']} via {doc['via']} -> {', '.join(doc['targets'])}")
    if doc["base_layers_kept"]:
        lines.append(f"  kept the {doc['base_layers_kept']} base layer(s) as they are")
    lines.append(f"  {'':22}{'before':>12}{'after':>12}")
    for key, label in (("layers", "layers"), ("total_bytes", "content"),
                       ("tar_bytes", "layer tars"), ("compressed_bytes", "compressed (gzip)")):
        bv, av = b.get(key), a.get(key) if a else None
        fmt = (lambda v: str(v)) if key == "layers" else size
        if key == "compressed_bytes" and bv is None and (not a or av is None):
            lines.append(f"  {label:22}{'not measured':>24}")
            continue
        lines.append(f"  {label:22}{fmt(bv):>12}{fmt(av) if a else '-':>12}"
                     f"{_pct(bv, av) if key != 'layers' else ''}")
    lines.append("  saved by reason:")
    for s in doc["saved"]:
        lines.append(f"    {s['reason']:30}{size(s['bytes']):>12}")
    if doc["hidden_bytes_left_in_base"]:
        lines.append(f"  {size(doc['hidden_bytes_left_in_base'])} hidden inside the kept base "
                     "layers stay there (drop --keep-base to shed them)")
    if doc.get("smoke"):
        lines.append(f"  smoke: {doc['smoke']}")
    lines.append("  verified: the output's filesystem and config equal the input's"
                 + (" minus what was removed" if doc["removed"] else "") if doc["verified"]
                 else "  not verified (--no-verify)")
    for n in doc["notes"]:
        lines.append(f"  note: {n}")
    return "\n".join(lines)


def render_plan(analysis, plan, start: int, via: str) -> str:
    lines = [f"dry run: slimming {analysis.image.reference} via {via} would"]
    what = "squash the layers above the base" if start else "flatten all layers into one"
    lines.append(f"  {what} ({len(analysis.layers)} layer(s) now, {start + 1} after), dropping:")
    for s in saved_by_reason(analysis, start):
        lines.append(f"    {s['reason']:30}{size(s['bytes']):>12}")
    if plan.rules:
        lines.append("  and remove:")
        for r in plan.rules:
            lines.append(f"    {r.name:30}{size(r.bytes):>12}  {r.paths} path(s)")
            for ex in r.examples:
                lines.append(f"      {ex}")
    else:
        lines.append("  nothing else (no --remove/--preset: flattening alone is lossless)")
    total = sum(s["bytes"] for s in saved_by_reason(analysis, start)) + plan.bytes
    lines.append(f"  about {size(total)} of {size(analysis.total_bytes)} content bytes saved; "
                 "nothing was changed")
    return "\n".join(lines)
