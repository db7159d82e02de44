"""`slimscope lint`: run every enabled rule over a Dockerfile, then apply the config, the
command line and the file's own ignore pragmas. Each finding names its line and, given the
image built from the Dockerfile, the bytes it costs."""

from __future__ import annotations

from typing import Optional

from slimscope.dockerfile import rules_correctness, rules_pinning, rules_size
from slimscope.dockerfile.findings import SEVERITIES, Finding
from slimscope.dockerfile.lint_config import LintConfig, pragmas
from slimscope.dockerfile.lint_formats import to_json, to_sarif, to_text
from slimscope.dockerfile.rules import RULES

# what callers of the lint module had before the rules moved out, still importable here
__all__ = ["RULES", "Finding", "LintConfig", "fails", "lint", "to_json", "to_sarif", "to_text"]


def lint(df, measure, cfg: Optional[LintConfig] = None) -> list:
    """The findings for `df`, sorted by line; `cfg` None: every default rule at its severity."""
    cfg = cfg or LintConfig()
    enabled = cfg.enabled(RULES)
    found = (rules_size.check(df, measure) + rules_correctness.check(df, cfg)
             + rules_pinning.check(df, enabled))
    silenced = pragmas(df, RULES)
    out, seen = [], set()
    for f in found:
        # the fixer reports a rule once per command; one finding per instruction says it
        if (f.rule, f.line, f.message) in seen:
            continue
        seen.add((f.rule, f.line, f.message))
        rule = RULES[f.rule]
        # None: the rule's own id; "": this finding is one hadolint has no check for
        if f.hadolint is None and len(rule.hadolint) == 1:
            f.hadolint = rule.hadolint[0]
        f.hadolint = f.hadolint or None
        if f.rule not in enabled or cfg.ignored(f) or silenced.suppressed(f):
            continue
        sev = cfg.severity_of(f, rule)
        if sev == "off":
            continue
        f.severity = sev
        out.append(f)
    out.sort(key=lambda f: (f.line, f.rule))
    return out


def fails(findings: list, threshold: str) -> bool:
    """Whether any finding is at `threshold` or more severe (`none`: never)."""
    if threshold == "none":
        return False
    worst = SEVERITIES.index(threshold)
    return any(SEVERITIES.index(f.severity or RULES[f.rule].severity) <= worst for f in findings)
