"""One self-contained HTML document: the static sections, the trees as packed JSON,
and the script, style and treemap layout library inlined from this package's
files, so the page opens from a CI artifact or a mail attachment with no network."""

from __future__ import annotations

import base64
import gzip
import json
from importlib.resources import files

from slimscope import __version__ as VERSION
from slimscope.html import data, diff_sections, sections
from slimscope.html.data import Doc
from slimscope.html.sections import e


def _asset(name: str) -> str:
    return files("slimscope.html").joinpath(name).read_text(encoding="utf-8")


def _packed(obj: object) -> str:
    """JSON, gzipped (no timestamp: the same input writes the same page) and base64'd,
    which a <script> element holds as is: a 200,000-file tree in about 1 MB."""
    # surrogatepass: a tar name that is not UTF-8 reaches here surrogate-escaped; the
    # browser's decoder shows its bytes as U+FFFD, as it would in the tables.
    raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8",
                                                                             "surrogatepass")
    return base64.b64encode(gzip.compress(raw, 6, mtime=0)).decode("ascii")


def _displayable(text: str) -> str:
    """Text that encodes as UTF-8: bytes of a non-UTF-8 name become U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def document(title: str, body: str, trees: list[Doc]) -> str:
    return _displayable(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="slimscope {e(VERSION)}">
<link rel="icon" href="data:,">
<title>{e(title)}</title>
<style>{_asset("page.css")}</style>
</head><body>
<main>
{body}
<footer>Written by slimscope {e(VERSION)}. Treemap layout: d3-hierarchy (ISC licence, inlined).</footer>
</main>
<script type="application/octet-stream" id="slimscope-data" data-encoding="gzip+base64">
{_packed({"trees": trees})}
</script>
<script>{_asset("d3-hierarchy.min.js")}</script>
<script>{_asset("treemap.js")}</script>
</body></html>
""")


def _shell(trees: list[Doc], note: str = "") -> str:
    return sections.treemap_shell(trees, note)


def analysis_page(doc: Doc) -> str:
    """The page of `slimscope.core.report.to_json(analysis, include_files=True)`."""
    trees = data.analysis_trees(doc)
    body = "\n".join([sections.header(doc), _shell(trees), sections.analysis_sections(doc)])
    return document(f"slimscope: {doc['image'].get('reference', '')}", body, trees)


def ci_page(ci_doc: Doc) -> str:
    """The page of a `slimscope.ci/v1` document: each rule's verdict first, then the
    analysis it judged."""
    doc = ci_doc["analysis"]
    trees = data.analysis_trees(doc)
    body = "\n".join([sections.header(doc), sections.ci_verdict(ci_doc), _shell(trees),
                      sections.analysis_sections(doc)])
    verdict = "passed" if ci_doc.get("passed") else "FAILED"
    return document(f"slimscope ci {verdict}: {doc['image'].get('reference', '')}", body, trees)


def ci_error_page(image: str, message: str) -> str:
    """What `ci --html` writes when the image could not be read: an artifact that
    says so, rather than none or a stale one."""
    body = (f'<header><h1 id="image-ref">{e(image)}</h1></header><section id="ci" class="fail">'
            f'<h2 id="verdict">ERROR: the image could not be analysed</h2><p>{e(message)}</p>'
            "</section>")
    return document(f"slimscope ci error: {image}", body, [])


def diff_page(diff_doc: Doc) -> str:
    """The page of `slimscope.core.delta.to_json(diff)` (all files: top=None)."""
    trees = data.diff_trees(diff_doc)
    note = ("Area is the change in bytes: Growth shows added and grown paths, Shrinkage the "
            "removed and shrunk ones. Click a directory to zoom in.")
    shell = _shell(trees, note) if diff_doc.get("files") is not None else ""
    body = "\n".join([diff_sections.header(diff_doc), diff_sections.notes(diff_doc), shell,
                      diff_sections.layers(diff_doc), diff_sections.directories(diff_doc),
                      diff_sections.files(diff_doc)])
    return document(f"slimscope diff: {diff_doc['old']['reference']} → "
                    f"{diff_doc['new']['reference']}", body, trees)
