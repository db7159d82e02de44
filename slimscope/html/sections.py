"""The page's static parts, written from the JSON documents: header, verdicts and
tables. They read without the script, so a mail client that blocks scripts still
shows the numbers."""

from __future__ import annotations

from html import escape

from slimscope.core.fmt import layer_command, short_command, signed, size
from slimscope.html.data import Doc

TOP = 25
HOW_HIDDEN = {"deleted": "deleted", "opaque": "hidden by an emptied directory",
              "overwritten": "overwritten", "metadata-only": "re-stored", "replaced": "replaced"}


def e(text: object) -> str:
    return escape(str(text), quote=True)


def _stat(key: str, value: object, text: object, label: str, cls: str = "") -> str:
    return (f'<div class="stat {cls}" data-key="{e(key)}" data-value="{e(value)}">'
            f'<b>{e(text)}</b><span>{e(label)}</span></div>')


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


def secret_lines(doc: Doc) -> list[str]:
    return [f"{w['path']} was {HOW_HIDDEN.get(w['reason'], w['reason'])} in layer "
            f"{w['hidden_by']} but is still in layer {w['layer']}: anyone who pulls the image "
            "can read it" for w in doc.get("waste") or [] if w.get("sensitive")]


def header(doc: Doc) -> str:
    img, t = doc["image"], doc["totals"]
    comp = t.get("compressed_bytes")
    stats = [
        _stat("final_bytes", t["final_bytes"], size(t["final_bytes"]), "final filesystem"),
        _stat("total_bytes", t["total_bytes"], size(t["total_bytes"]), "stored in layers"),
        _stat("wasted_bytes", t["wasted_bytes"], size(t["wasted_bytes"]), "wasted",
              "bad" if t["wasted_bytes"] else "good"),
        _stat("efficiency", t["efficiency"], f"{t['efficiency']:.1%}", "efficiency"),
        _stat("compressed_bytes", "" if comp is None else comp,
              "not measured" if comp is None else size(comp),
              "compressed (push size)" + (" · --compressed measures it" if comp is None else "")),
        _stat("layers", t["layers"], t["layers"], "layers"),
        _stat("files", t["files"], f"{t['files']:,}", "paths"),
    ]
    out = [f'<header><h1 id="image-ref">{e(img.get("reference") or "(unnamed image)")}</h1>',
           f'<p class="meta"><span id="image-id">{e(img.get("id") or "")}</span> · '
           f'<span id="platform">{e(img.get("os") or "?")}/{e(img.get("architecture") or "?")}'
           f'</span></p>',
           f'<div class="stats">{"".join(stats)}</div></header>']
    secrets = secret_lines(doc)
    if secrets:
        out.append(f'<section class="secrets" id="secrets"><h2>⚠ {len(secrets)} hidden '
                   f'secret{"s" if len(secrets) != 1 else ""} still in the image</h2><ul>'
                   + "".join(f"<li>{e(s)}</li>" for s in secrets) + "</ul></section>")
    if not doc.get("hashed", True):
        out.append('<p class="note">Contents were not hashed (--no-hash): metadata-only '
                   'duplication counts as overwritten and duplicates are not reported.</p>')
    return "\n".join(out)


HOW_TO = ("Click a directory to zoom in, the breadcrumb or Escape to go back; hover a tile for "
          "its path, size, share, layer and owner.")


def treemap_shell(trees: list[Doc], note: str = "") -> str:
    buttons = "".join(
        f'<button type="button" class="tree-btn" data-tree="{i}">{e(t["label"])} '
        f'<small>{e(size(t["total"]))}</small></button>' for i, t in enumerate(trees))
    return f"""<section id="treemap-section"><h2>Treemap</h2>
<div class="toolbar"><div class="tree-btns">{buttons}</div>
<input id="search" type="search" placeholder="Search paths (e.g. .so or /usr/lib)" autocomplete="off">
<span id="search-count"></span></div>
<nav id="breadcrumb" aria-label="directory"></nav>
<div class="map-wrap"><div id="map" role="img" aria-label="treemap"></div>
<aside id="side"><div id="legend"></div><div id="side-list"></div></aside></div>
<p class="hint">{e(note or HOW_TO)}</p>
<div id="tip" hidden></div></section>"""


def _bar(part: int, whole: int, cls: str = "") -> str:
    w = 0 if not whole else max(0.0, min(100.0, 100 * part / whole))
    return f'<span class="bar {cls}"><i style="width:{w:.2f}%"></i></span>'


def layers_table(doc: Doc) -> str:
    total = doc["totals"]["total_bytes"]
    rows = []
    for l in doc["layers"]:
        rows.append(
            f'<tr><td class="num">{l["index"]}</td><td class="num">{e(size(l["bytes"]))}</td>'
            f'<td>{_bar(l["bytes"], total)}</td>'
            f'<td class="num">{e(size(l["wasted_bytes"])) if l["wasted_bytes"] else ""}</td>'
            f'<td class="num">{l["added"]}</td><td class="num">{l["modified"] + l["metadata_only"]}'
            f'</td><td class="num">{l["deleted"]}</td>'
            f'<td><code class="cmd">{e(short_command(layer_command(l)))}</code></td></tr>')
    return ('<section id="layers"><h2>Layers</h2><table><thead><tr><th>#</th><th>size</th>'
            '<th>share</th><th>wasted</th><th title="added">+</th><th title="modified">~</th>'
            '<th title="deleted">−</th><th>command</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></section>")


def largest_files(doc: Doc) -> str:
    files = sorted((f for f in doc.get("files") or [] if f["type"] in ("file", "hardlink")),
                   key=lambda f: (-f["size"], f["path"]))[:TOP]
    if not files:
        return ""
    whole = doc["totals"]["final_bytes"]
    rows = "".join(
        f'<tr><td class="num">{e(size(f["size"]))}</td><td>{_bar(f["size"], whole)}</td>'
        f'<td class="num">{f["layer"]}</td><td class="path">{e(f["path"])}</td></tr>'
        for f in files)
    return (f'<section id="largest"><h2>Largest files</h2><table><thead><tr><th>size</th>'
            f'<th>share</th><th>layer</th><th>path</th></tr></thead><tbody>{rows}</tbody>'
            '</table></section>')


def waste_table(doc: Doc) -> str:
    waste = sorted(doc.get("waste") or [], key=lambda w: (-w["bytes"], w["path"]))[:TOP]
    if not waste:
        return ""
    rows = "".join(
        f'<tr><td class="num">{e(size(w["bytes"]))}</td><td><span class="chip r-{e(w["reason"])}">'
        f'{e(w["reason"])}</span></td><td class="num">{w["layer"]}</td>'
        f'<td class="num">{w["hidden_by"]}</td><td class="path">'
        f'{"⚠ " if w.get("sensitive") else ""}{e(w["path"])}</td></tr>' for w in waste)
    n = len(doc.get("waste") or [])
    return (f'<section id="waste"><h2>Largest waste <small>({min(n, TOP)} of {n})</small></h2>'
            '<table><thead><tr><th>size</th><th>reason</th><th>stored in</th><th>hidden by</th>'
            f'<th>path</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _paths(paths: list[str], limit: int = 6) -> str:
    more = f" <small>… {len(paths) - limit} more</small>" if len(paths) > limit else ""
    return "<br>".join(e(p) for p in paths[:limit]) + more


def duplicates(doc: Doc) -> str:
    dups = doc.get("duplicates") or []
    if not dups:
        return ""
    rows = "".join(
        f'<tr><td class="num">{e(size(d["bytes"]))} × {len(d["paths"])}</td>'
        f'<td class="num">{e(size(d["savable_bytes"]))}</td><td class="path">{_paths(d["paths"])}'
        "</td></tr>" for d in dups[:TOP])
    return (f'<section id="duplicates"><h2>Duplicates <small>({len(dups)} groups, '
            f'{e(size(sum(d["savable_bytes"] for d in dups)))} savable)</small></h2><table><thead>'
            f'<tr><th>size</th><th>savable</th><th>paths</th></tr></thead><tbody>{rows}</tbody>'
            '</table></section>')


def hints(doc: Doc) -> str:
    items = doc.get("hints") or []
    if not items:
        return ""
    rows = "".join(
        f'<li><b>{e(size(h["bytes"]))}</b> {e(h["title"])} <small>(layer {h["layer"]}: '
        f'<code>{e(short_command(h.get("created_by") or "", 80))}</code>)</small><br>'
        f'{e(h["advice"])}<div class="path small">{_paths(h.get("paths") or [], 4)}</div></li>'
        for h in items[:TOP])
    return f'<section id="hints"><h2>Hints</h2><ul class="hints">{rows}</ul></section>'


def analysis_sections(doc: Doc) -> str:
    return "\n".join(s for s in (layers_table(doc), waste_table(doc), largest_files(doc),
                                 hints(doc), duplicates(doc)) if s)


def ci_verdict(ci: Doc) -> str:
    rules = ci.get("rules") or []
    passed = ci.get("passed")
    failed = ci.get("failed") or []
    n = len(rules)
    word = "rule" if n == 1 else "rules"       # the words of the gate's own verdict line
    head = (f"PASSED: all {n} {word} passed" if passed else
            f"FAILED: {len(failed)} of {n} {word} failed ({', '.join(failed)})")
    src = (ci.get("config") or {}).get("source")
    rows = []
    for r in rules:
        culprits = r.get("culprits") or []
        detail = ""
        if culprits:
            items = "".join(f"<li>{e(c['text'].strip())}</li>" for c in culprits)
            detail = (f'<details{" open" if not r["passed"] else ""}><summary>{len(culprits)} '
                      f'culprit{"s" if len(culprits) != 1 else ""}</summary><ul>{items}</ul>'
                      "</details>")
        note = f'<div class="small">{e(r["note"])}</div>' if r.get("note") else ""
        rows.append(
            f'<tr class="rule {"pass" if r["passed"] else "fail"}" data-rule="{e(r["rule"])}">'
            f'<td class="verdict">{"✓ pass" if r["passed"] else "✗ FAIL"}</td>'
            f'<td><code>{e(r["rule"])}</code></td><td>{e(r["measured_text"])}</td>'
            f'<td>{e(r["budget_text"])}</td><td>{e(r["summary"])}{note}{detail}</td></tr>')
    base = ""
    if ci.get("baseline"):
        t = ci["baseline"]["totals"]["final_bytes"]
        base = (f'<p>Against the baseline {e(ci["baseline"]["old"]["reference"])}: final size '
                f'{e(size(t["old"]))} → {e(size(t["new"]))} ({e(signed(t["change"]))}).</p>')
    return (f'<section id="ci" class="{"pass" if passed else "fail"}"><h2 id="verdict">'
            f'{e(head)}</h2><p class="small">config: {e(src or "no config file")}</p>{base}'
            '<table><thead><tr><th></th><th>rule</th><th>measured</th><th>budget</th>'
            f'<th>result</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')
