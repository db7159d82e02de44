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


@pytest.mark.fuzz
@pytest.mark.parametrize("family", ["bit-flip", "truncation", "hostile-tar"])
def test_the_explorer_sketch_of_broken_archives(family, tmp_path):
    """The explorer's sketch (tar headers only, bodies seeked past) meets the same broken
    archives: it is a sketch of the image, None, or the one-line error; never a crash."""
    import random

    from slimscope.core.analysis import sketch
    from slimscope.errors import BadInput
    from tests.fuzz.cases import FAMILIES

    rnd = random.Random(19)
    for k in range(12):
        d = tmp_path / str(k)
        d.mkdir()
        case = FAMILIES[family](rnd, str(d))
        try:
            got = sketch(case.args[1])
        except BadInput as e:
            assert "\n" not in str(e)
            continue
        assert got is None or got.total_bytes >= got.final_bytes >= 0
