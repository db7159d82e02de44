"""The fuzz suite at a fixed seed and a bounded count: every family, every run
held to the contract in tests/fuzz/run.py (well under two minutes in all)."""

from __future__ import annotations

import pytest

from tests.fuzz.cases import FAMILIES
from tests.fuzz.run import GOOD, run, summary

PER_FAMILY = 5


@pytest.mark.fuzz
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family(family):
    outcomes = run(PER_FAMILY, 18, [family])
    assert len(outcomes) == PER_FAMILY
    assert all(o.kind in GOOD for o in outcomes), summary(outcomes)
