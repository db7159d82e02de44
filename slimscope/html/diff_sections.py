"""The static parts of a diff page, from the `slimscope.diff/v1` document."""

from __future__ import annotations

from typing import Optional

from slimscope.core.fmt import layer_command, short_command, signed, size
from slimscope.html.data import Doc
from slimscope.html.sections import TOP, e

_LABELS = {"final_bytes": "final filesystem", "total_bytes": "stored in layers",
           "wasted_bytes": "wasted", "compressed_bytes": "compressed", "layers": "layers",
           "files": "paths"}
_BYTES = {"final_bytes", "total_bytes", "wasted_bytes", "compressed_bytes"}


def _val(key: str, n: Optional[int]) -> str:
    if n is None:
        return "?"
    return size(n) if key in _BYTES else f"{n:,}"


def _change(key: str, n: Optional[int]) -> str:
    if n is None:
        return "?"
    if key in _BYTES:
        return signed(n)
    return f"{n:+,}" if n else "0"


def header(d: Doc) -> str:
    old, new = d["old"], d["new"]
    stats = []
    for key, t in d["totals"].items():
        cls = "" if not t["change"] else ("bad" if t["change"] > 0 else "good")
        stats.append(
            f'<div class="stat {cls}" data-key="{e(key)}" data-value="'
            f'{"" if t["change"] is None else t["change"]}"><b>{e(_change(key, t["change"]))}</b>'
            f'<span>{e(_LABELS.get(key, key))}: {e(_val(key, t["old"]))} → '
            f'{e(_val(key, t["new"]))}</span></div>')
    return (f'<header><h1 id="image-ref">{e(old["reference"] or old["origin"])} → '
            f'{e(new["reference"] or new["origin"])}</h1>'
            f'<p class="meta">{e(old["id"])} → {e(new["id"])}</p>'
            f'<div class="stats">{"".join(stats)}</div></header>')


def _layer_rows(layers: list[Doc], sign: str) -> str:
    return "".join(
        f'<tr><td>{sign}</td><td class="num">{l["index"]}</td><td class="num">'
        f'{e(size(l["bytes"]))}</td><td><code class="cmd">'
        f'{e(short_command(layer_command(l)))}</code></td></tr>' for l in layers)


def layers(d: Doc) -> str:
    lc = d["layers"]
    head = (f'<section id="layer-changes"><h2>Layers <small>({lc["shared"]} shared, '
            f'{len(lc["removed"])} removed, {len(lc["added"])} added)</small></h2>')
    if not lc["removed"] and not lc["added"]:
        return head + "<p>OLD and NEW have the same layers.</p></section>"
    return (head + '<table><thead><tr><th></th><th>#</th><th>size</th><th>command</th></tr>'
            f'</thead><tbody>{_layer_rows(lc["removed"], "−")}{_layer_rows(lc["added"], "+")}'
            '</tbody></table></section>')


def directories(d: Doc) -> str:
    dirs = d.get("directories")
    if not dirs:
        return ""
    rows = "".join(
        f'<tr><td class="num">{e(signed(x["change"]))}</td><td class="num">'
        f'{e(size(x["old_bytes"]))}</td><td class="num">{e(size(x["new_bytes"]))}</td>'
        f'<td class="path">{e(x["path"])}</td></tr>' for x in dirs[:TOP])
    return ('<section id="dir-changes"><h2>Directories</h2><table><thead><tr><th>change</th>'
            f'<th>old</th><th>new</th><th>path</th></tr></thead><tbody>{rows}</tbody></table>'
            '</section>')


def files(d: Doc) -> str:
    fs = d.get("files")
    if not fs:
        return ""
    rows = "".join(
        f'<tr><td class="num">{e(signed(f["delta"]))}</td><td><span class="chip c-{e(f["change"])}">'
        f'{e(f["change"])}</span></td><td class="num">{e(size(f["old_bytes"]))}</td>'
        f'<td class="num">{e(size(f["new_bytes"]))}</td><td class="path">{e(f["path"])}</td></tr>'
        for f in fs[:TOP])
    return (f'<section id="file-changes"><h2>Files <small>({min(len(fs), TOP)} of {len(fs)} '
            'changes)</small></h2><table><thead><tr><th>change</th><th></th><th>old</th>'
            f'<th>new</th><th>path</th></tr></thead><tbody>{rows}</tbody></table></section>')


def notes(d: Doc) -> str:
    if not d.get("notes"):
        return ""
    return "".join(f'<p class="note">{e(n)}</p>' for n in d["notes"])
