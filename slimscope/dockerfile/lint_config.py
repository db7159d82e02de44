"""Which rules run, at which severity, and which findings the user silenced: the `[lint]`
config, command-line options, and the ignore pragmas of the Dockerfile itself (slimscope's
and hadolint's), all checked against the rule catalogue."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from slimscope import configfile
from slimscope.dockerfile.findings import SEVERITIES
from slimscope.errors import BadInput

THRESHOLDS = SEVERITIES + ("none",)
OFF = ("off", "ignore", "none")
# a hadolint id slimscope has no rule for is accepted and matches nothing, so that a team's
# hadolint ignore list carries over as it is
HADOLINT_ID = re.compile(r"^(DL|SC)\d{4}$")
PRAGMA = re.compile(r"^(slimscope|hadolint)\s+(global\s+)?ignore\s*=\s*(\S.*)$", re.I)
KEYS = ("ignore", "ignored", "enable", "severity", "trusted-registries", "failure-threshold")


@dataclass
class LintConfig:
    ignore: set = field(default_factory=set)        # rule ids or hadolint ids
    enable: set = field(default_factory=set)        # off-by-default rules turned on
    severity: dict = field(default_factory=dict)    # rule id or hadolint id -> severity or "off"
    trusted_registries: list = field(default_factory=list)
    failure_threshold: str = "warning"
    source: Optional[str] = None                    # the config file read, if any

    def enabled(self, rules: dict) -> set:
        on = {r.id for r in rules.values() if r.default} | set(self.enable)
        for name, sev in self.severity.items():
            if sev not in OFF:
                on |= set(rule_ids(name, rules))
        return on

    def severity_of(self, finding, rule) -> str:
        for key in (finding.rule, finding.hadolint):
            if key and key in self.severity:
                return self.severity[key]
        return rule.severity

    def ignored(self, finding) -> bool:
        return finding.rule in self.ignore or (finding.hadolint is not None
                                               and finding.hadolint in self.ignore)


def hadolint_index(rules: dict) -> dict:
    out: dict = {}
    for r in rules.values():
        for h in r.hadolint:
            out.setdefault(h, []).append(r.id)
    return out


def rule_ids(name: str, rules: dict) -> list:
    if name in rules:
        return [name]
    return hadolint_index(rules).get(name.upper(), [])


def check_rule(name: str, rules: dict, where: str) -> str:
    """`name` as a known rule id or hadolint id, else a BadInput with the nearest match."""
    if not isinstance(name, str) or not name.strip():
        raise BadInput(f"{where}: expected a rule id, got {name!r}")
    name = name.strip()
    if name in rules:
        return name
    if HADOLINT_ID.match(name.upper()):
        return name.upper()
    near = difflib.get_close_matches(name, list(rules) + list(hadolint_index(rules)), n=1)
    hint = f"; did you mean {near[0]}?" if near else "; `slimscope lint --list-rules` shows them"
    raise BadInput(f"{where}: unknown rule {name!r}{hint}")


def check_severity(value, where: str) -> str:
    v = value.lower() if isinstance(value, str) else value
    if v == "note":
        return "info"
    if v in SEVERITIES or v in OFF:
        return "off" if v in OFF else v
    raise BadInput(f"{where}: severity must be one of {', '.join(SEVERITIES)} or off, not {value!r}")


def check_threshold(value, where: str) -> str:
    v = value.lower() if isinstance(value, str) else value
    if v == "note":
        return "info"
    if v not in THRESHOLDS:
        raise BadInput(f"{where}: failure-threshold must be one of {', '.join(THRESHOLDS)}, "
                       f"not {value!r}")
    return v


def _names(value, where: str) -> list:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise BadInput(f"{where}: expected a list of rule ids, got {value!r}")
    return value


def from_table(data: dict, path: str, rules: dict) -> LintConfig:
    cfg = LintConfig(source=path)
    for key, value in data.items():
        where = f"{path}: [lint] {key}"
        if key not in KEYS:
            near = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"; did you mean {near[0]}?" if near else f"; known keys: {', '.join(KEYS)}"
            raise BadInput(f"{path}: unknown key {key!r} in [lint]{hint}")
        if key in ("ignore", "ignored"):
            cfg.ignore |= {check_rule(n, rules, where) for n in _names(value, where)}
        elif key == "enable":
            for n in _names(value, where):
                cfg.enable |= set(rule_ids(check_rule(n, rules, where), rules))
        elif key == "severity":
            if not isinstance(value, dict):
                raise BadInput(f'{where}: expected a table like {{ cd-in-run = "error" }}')
            for n, sev in value.items():
                cfg.severity[check_rule(n, rules, f"{where}.{n}")] = check_severity(
                    sev, f"{where}.{n}")
        elif key == "trusted-registries":
            regs = [value] if isinstance(value, str) else value
            if not isinstance(regs, list) or not all(isinstance(r, str) and r.strip() for r in regs):
                raise BadInput(f'{where}: expected a list like ["docker.io", "*.corp.example"]')
            cfg.trusted_registries = [r.strip() for r in regs]
        else:
            cfg.failure_threshold = check_threshold(value, where)
    return cfg


def load(dockerfile: str, rules: dict, explicit: Optional[str] = None) -> LintConfig:
    """The config for linting `dockerfile`: `explicit` if named, else the nearest `[lint]`
    found from the Dockerfile's directory upward, then from the working directory upward."""
    if explicit:
        data = configfile.table(explicit, "lint")
        if data is None:
            raise BadInput(f"{explicit}: no [lint] table (or [tool.slimscope.lint] in pyproject.toml)")
        return from_table(data, explicit, rules)
    path, data = configfile.find("lint", [os.path.dirname(os.path.abspath(dockerfile)), os.getcwd()])
    return from_table(data, path, rules) if path is not None and data is not None else LintConfig()


# --------------------------------------------------------------------------- #
# Pragmas in the Dockerfile
# --------------------------------------------------------------------------- #

@dataclass
class Pragmas:
    everywhere: set = field(default_factory=set)
    by_line: dict = field(default_factory=dict)     # instruction line -> ids silenced there

    def suppressed(self, finding) -> bool:
        ids = self.everywhere | self.by_line.get(finding.line, set())
        return finding.rule in ids or (finding.hadolint is not None and finding.hadolint in ids)


def pragmas(df, rules: dict) -> Pragmas:
    """`# slimscope ignore=RULE[,RULE]` (or `# hadolint ignore=DL3008,...`) in the comment lines
    right above an instruction silences those rules there; `global ignore=` the whole file.
    slimscope's own pragmas are checked like config; hadolint's may name rules slimscope
    does not have."""
    out = Pragmas()
    comments = dict(df.comments)
    for line, text in df.comments:
        m = PRAGMA.match(text)
        if not m:
            continue
        ours = m.group(1).lower() == "slimscope"
        ids = set()
        for name in re.split(r"[,\s]+", m.group(3).strip()):
            if not name:
                continue
            ids.add(check_rule(name, rules, f"{df.path}:{line}") if ours else name.upper())
        if m.group(2):
            out.everywhere |= ids
            continue
        # the pragma holds for the instruction that ends the comment block it is in
        nxt = line + 1
        while nxt in comments:
            nxt += 1
        out.by_line.setdefault(nxt, set()).update(ids)
    return out
