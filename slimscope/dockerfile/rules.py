"""The rule catalogue: every rule of every rules module, and hadolint's ids onto them."""

from __future__ import annotations

from slimscope.dockerfile import rules_correctness, rules_pinning, rules_size

RULES = {**rules_size.RULES, **rules_correctness.RULES, **rules_pinning.RULES}
