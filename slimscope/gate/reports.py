"""What the gate tells people and CI systems: a human summary, JUnit XML,
JSON (which a later run can use as its baseline), Markdown (also appended to
$GITHUB_STEP_SUMMARY) and GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Optional

import click

from slimscope import schemas
from slimscope.core.fmt import md_cell
from slimscope.gate.culprits import shown

ANNOTATION_CULPRITS = 5


class Outcome:
    """The gate's run: the analysis, the config it used and each rule's result."""

    def __init__(self, analysis, config, results: list, baseline=None, diff=None, top: int = 10):
        self.top = top        # culprits listed per group, in every report
        self.analysis = analysis
        self.config = config
        self.results = results
        self.baseline = baseline
        self.diff = diff

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def reference(self) -> str:
        return self.analysis.image.reference

    def verdict(self) -> str:
        n = len(self.results)
        if self.passed:
            return f"PASSED: all {n} rule{'s' if n != 1 else ''} passed"
        return (f"FAILED: {len(self.failed)} of {n} rule{'s' if n != 1 else ''} failed "
                f"({', '.join(r.rule for r in self.failed)})")


def render_text(o: Outcome, top: int = 10) -> str:
    img = o.analysis.image
    lines = [f"slimscope ci: {img.reference}  {img.id[:19]}"
             + (f"  (config: {o.config.source}{f', {o.config.note}' if o.config.note else ''})"
                if o.config.source else "  (no config file)")]
    width = max((len(r.rule) for r in o.results), default=8)
    seen: dict = {}
    for r in o.results:
        mark = click.style("✓ pass", fg="green") if r.passed else click.style("✗ FAIL", fg="red",
                                                                             bold=True)
        lines.append(f"  {mark}  {r.rule:<{width}}  {r.summary}")
        if r.note:
            lines.append(f"           {'':<{width}}  ({r.note})")
        texts = [c.text for c in r.culprits]
        if texts and texts in seen.values():
            same = next(k for k, v in seen.items() if v == texts)
            lines.append(f"           {'':<{width}}    (the same files as {same})")
            continue
        seen[r.rule] = texts
        for text, _ in shown(r.culprits, r.totals, top):
            lines.append(f"           {'':<{width}}    {text}")
    lines.append(click.style(o.verdict(), fg="green" if o.passed else "red", bold=True))
    return "\n".join(lines)


def to_json(o: Outcome) -> dict:
    from slimscope.core.delta import to_json as diff_json
    from slimscope.core.report import to_json as analysis_json

    return {
        "schema": schemas.CI,
        "image": {"reference": o.analysis.image.reference, "id": o.analysis.image.id},
        "passed": o.passed,
        "failed": [r.rule for r in o.failed],
        "config": {"source": o.config.source, "rules": o.config.as_dict()},
        "rules": [r.as_dict() for r in o.results],
        "baseline": None if o.diff is None else diff_json(o.diff, top=50),
        # The full analysis with the final filesystem: a later run's --baseline.
        "analysis": analysis_json(o.analysis, include_files=True),
    }




def render_markdown(o: Outcome, top: int = 10) -> str:
    head = ":white_check_mark:" if o.passed else ":x:"
    out = [f"## slimscope ci: `{md_cell(o.reference)}` {head} {md_cell(o.verdict())}", "",
           "| | rule | measured | budget |", "|---|---|---|---|"]
    for r in o.results:
        out.append(f"| {'✅' if r.passed else '❌'} | `{r.rule}` | {md_cell(r.measured_text)} | "
                   f"{md_cell(r.budget_text)} |")
    out.append("")
    for r in o.failed:
        out += [f"### ❌ `{r.rule}`", "", md_cell(r.summary)]
        if r.note:
            out += ["", f"_{md_cell(r.note)}_"]
        if r.culprits:
            out.append("")
            out += [f"- {md_cell(text.strip())}" for text, _ in shown(r.culprits, r.totals, top)]
        out.append("")
    return "\n".join(out)


def render_junit(o: Outcome) -> bytes:
    """One test case per rule, so CI systems list the rules as tests."""
    import xml.etree.ElementTree as ET  # only a --junit run writes one

    n, f = len(o.results), len(o.failed)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    suites = ET.Element("testsuites", name="slimscope ci", tests=str(n), failures=str(f),
                        errors="0", time="0")
    suite = ET.SubElement(suites, "testsuite", name=f"slimscope ci {o.reference}", tests=str(n),
                          failures=str(f), errors="0", skipped="0", time="0", timestamp=stamp)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="image", value=o.reference)
    ET.SubElement(props, "property", name="image-id", value=o.analysis.image.id)
    if o.config.source:
        ET.SubElement(props, "property", name="config", value=o.config.source)
    for r in o.results:
        case = ET.SubElement(suite, "testcase", classname="slimscope.ci", name=r.rule, time="0")
        if not r.passed:
            fail = ET.SubElement(case, "failure", message=r.summary, type=r.rule)
            fail.text = "\n".join([r.summary] + ([r.note] if r.note else [])
                                  + [text for text, _ in shown(r.culprits, r.totals, o.top)])
        out = ET.SubElement(case, "system-out")
        out.text = r.summary + (f"\n{r.note}" if r.note else "")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(o: Outcome) -> list:
    """`::error` workflow commands, one per failed rule."""
    lines = []
    for r in o.failed:
        body = [r.summary] + [text.strip() for text, _ in
                              shown(r.culprits, r.totals, min(o.top, ANNOTATION_CULPRITS))]
        props = f"title={_gh_prop(f'slimscope ci {r.rule} ({o.reference})')}"
        if o.config.source:
            props = f"file={_gh_prop(os.path.relpath(o.config.source))}," + props
        lines.append(f"::error {props}::{_gh_data(chr(10).join(body))}")
    return lines


def append_step_summary(markdown: str, env: Optional[dict] = None) -> Optional[str]:
    """Append to $GITHUB_STEP_SUMMARY when it is set (GitHub expects appends)."""
    path = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(markdown + "\n")
    except OSError as e:
        click.echo(f"slimscope: warning: cannot append to GITHUB_STEP_SUMMARY {path}: "
                   f"{e.strerror}", err=True)
        return None
    return path


def json_bytes(o: Outcome) -> bytes:
    return (json.dumps(to_json(o), indent=2) + "\n").encode()
