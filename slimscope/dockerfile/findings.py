"""What a lint rule is and what it reports: the vocabulary every rule module, the config and
every output format share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# most to least severe; hadolint's names, so that a --failure-threshold carries over
SEVERITIES = ("error", "warning", "info", "style")
# the `level` of the JSON output: slimscope has always written hadolint's `info` as `note`
LEVEL = {"error": "error", "warning": "warning", "info": "note", "style": "style"}
# SARIF 2.1.0 has no level below note
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "style": "note"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str            # one of SEVERITIES
    why: str                 # one line: what it costs or breaks
    hadolint: tuple = ()     # the hadolint ids that check the same thing
    default: bool = True     # False: runs only when the config enables it


@dataclass
class Finding:
    rule: str
    line: int
    end_line: int
    message: str
    bytes: Optional[int] = None
    hadolint: Optional[str] = None   # the hadolint id of this very finding, when one maps
    severity: str = ""               # set by lint() from the rule and the config

    @property
    def level(self) -> str:
        if not self.severity:
            from slimscope.dockerfile.rules import RULES
            return LEVEL[RULES[self.rule].severity]
        return LEVEL[self.severity]
