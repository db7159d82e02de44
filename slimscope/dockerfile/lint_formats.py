"""The lint report in the formats CI systems read: text, JSON, SARIF 2.1.0, checkstyle XML,
GitLab Code Quality and GitHub workflow annotations."""

from __future__ import annotations

import hashlib
import json
from typing import Optional
from xml.sax.saxutils import quoteattr

from slimscope import __version__, schemas
from slimscope.dockerfile.findings import SARIF_LEVEL
from slimscope.dockerfile.rules import RULES

# hadolint's names for the same formats, accepted so that a CI script needs one word changed
ALIASES = {"tty": "text", "codeclimate": "gitlab", "gitlab_codeclimate": "gitlab"}
FORMATS = ("text", "json", "sarif", "checkstyle", "gitlab", "github")


def _size(n) -> str:
    from slimscope.core.fmt import size
    return size(n)


def _sev(f) -> str:
    return f.severity or RULES[f.rule].severity


def to_text(findings: list, path: str) -> str:
    if not findings:
        return f"{path}: no findings"
    lines = []
    for f in findings:
        cost = f" [{_size(f.bytes)}]" if f.bytes else ""
        lines.append(f"{path}:{f.line}: {f.level}: {f.rule}: {f.message}{cost}")
    # no total: findings overlap (the lists of an install are part of its layer)
    lines.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}")
    return "\n".join(lines)


def _finding(f) -> dict:
    d = {"rule": f.rule, "line": f.line, "end_line": f.end_line, "message": f.message,
         "bytes": f.bytes, "level": f.level}
    if f.hadolint:
        d["hadolint"] = f.hadolint
    return d


def to_json(findings: list, path: str, image: Optional[str]) -> dict:
    return {"schema": schemas.LINT, "path": path, "image": image,
            "findings": [_finding(f) for f in findings]}


def _sarif_rule(r) -> dict:
    d = {"id": r.id, "name": r.id, "shortDescription": {"text": r.why},
         "defaultConfiguration": {"level": SARIF_LEVEL[r.severity]}}
    if not r.default:
        d["defaultConfiguration"]["enabled"] = False
    if r.hadolint:
        d["properties"] = {"hadolint": list(r.hadolint)}
    return d


def to_sarif(findings: list, path: str) -> dict:
    rules = [_sarif_rule(RULES[r]) for r in sorted(RULES)]
    index = {r["id"]: k for k, r in enumerate(rules)}
    results = []
    for f in findings:
        res = {"ruleId": f.rule, "ruleIndex": index[f.rule], "level": SARIF_LEVEL[_sev(f)],
               "message": {"text": f.message + (f" ({_size(f.bytes)} measured)" if f.bytes else "")},
               "locations": [{"physicalLocation": {
                   "artifactLocation": {"uri": path.lstrip("./") if not path.startswith("/") else path},
                   "region": {"startLine": f.line, "endLine": max(f.line, f.end_line)}}}]}
        props = {}
        if f.bytes is not None:
            props["bytes"] = f.bytes
        if f.hadolint:
            props["hadolint"] = f.hadolint
        if props:
            res["properties"] = props
        results.append(res)
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "slimscope", "version": __version__,
                                          "informationUri": "https://github.com/slimscope/slimscope",
                                          "rules": rules}},
                      "results": results}]}


CHECKSTYLE = {"error": "error", "warning": "warning", "info": "info", "style": "info"}


def to_checkstyle(findings: list, path: str) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">',
           f"  <file name={quoteattr(path)}>"]
    for f in findings:
        out.append(f'    <error line="{f.line}" column="1" severity="{CHECKSTYLE[_sev(f)]}" '
                   f"message={quoteattr(f.message)} source={quoteattr('slimscope.' + f.rule)}/>")
    out += ["  </file>", "</checkstyle>"]
    return "\n".join(out)


GITLAB = {"error": "critical", "warning": "major", "info": "minor", "style": "info"}


def to_gitlab(findings: list, path: str) -> list:
    """GitLab Code Quality: a list of issues; the fingerprint is stable while the finding's
    rule, message and line stay."""
    out = []
    for f in findings:
        key = f"{path}\0{f.rule}\0{f.line}\0{f.message}".encode()
        out.append({"description": f.message, "check_name": f.rule,
                    "fingerprint": hashlib.sha256(key).hexdigest(),
                    "severity": GITLAB[_sev(f)],
                    "location": {"path": path, "lines": {"begin": f.line, "end": max(f.line, f.end_line)}}})
    return out


GITHUB = {"error": "error", "warning": "warning", "info": "notice", "style": "notice"}


def _gh(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def to_github(findings: list, path: str) -> str:
    """GitHub workflow commands: one `::warning file=...,line=...::message` per finding."""
    lines = []
    for f in findings:
        cost = f" [{_size(f.bytes)}]" if f.bytes else ""
        lines.append(f"::{GITHUB[_sev(f)]} file={_gh(path, True)},line={f.line},"
                     f"endLine={max(f.line, f.end_line)},title={_gh(f.rule, True)}::"
                     f"{_gh(f.message + cost)}")
    return "\n".join(lines)


def render(fmt: str, findings: list, path: str, image: Optional[str]) -> str:
    fmt = ALIASES.get(fmt, fmt)
    if fmt == "json":
        return json.dumps(to_json(findings, path, image), indent=2)
    if fmt == "sarif":
        return json.dumps(to_sarif(findings, path), indent=2)
    if fmt == "checkstyle":
        return to_checkstyle(findings, path)
    if fmt == "gitlab":
        return json.dumps(to_gitlab(findings, path), indent=2)
    if fmt == "github":
        return to_github(findings, path)
    return to_text(findings, path)
