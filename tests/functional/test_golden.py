"""Every command's output on the bundled samples, byte for byte, as recorded.

A change that means to alter an output re-records it
(`python -m tests.golden.cases --write`) and says why in its commit.
"""

from __future__ import annotations

import pytest

from tests.golden.cases import CASES, OUT, render, run


@pytest.mark.parametrize("name,argv", CASES, ids=[c[0] for c in CASES])
def test_output_unchanged(name, argv, tmp_path):
    expected = (OUT / f"{name}.txt").read_text()
    assert render(*run(argv, str(tmp_path))) == expected
