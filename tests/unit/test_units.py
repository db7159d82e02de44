"""The gate's sizes, percentages, ratios and amounts."""

from __future__ import annotations

import pytest

from slimscope.gate.units import Amount, UnitError, parse_amount, parse_percent, parse_ratio, parse_size


@pytest.mark.parametrize("text,expected", [
    ("150MB", 150_000_000), ("150 MB", 150_000_000), ("150mb", 150_000_000),
    ("1.5GiB", 1_610_612_736), ("1.5 gib", 1_610_612_736), ("300k", 300_000),
    ("300KiB", 307_200), ("2048", 2048), (2048, 2048), ("0", 0), ("1.5GB", 1_500_000_000),
    ("7B", 7), ("2T", 2 * 10**12), (".5MiB", 524_288),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["abc", "-1", -1, "10%", "1.5XB", "", True, None, [1], "MB"])
def test_parse_size_rejects(bad):
    with pytest.raises(UnitError):
        parse_size(bad)


def test_percent_ratio_amount():
    assert parse_percent("10%") == 10.0
    assert parse_percent("2.5 %") == 2.5
    assert parse_percent(10) == 10.0
    assert parse_ratio(0.9) == 0.9
    assert parse_ratio("90%") == pytest.approx(0.9)
    assert parse_ratio("0.95") == 0.95
    for bad in ("101%", "-3%", "ten"):
        with pytest.raises(UnitError):
            parse_percent(bad)
    for bad in (1.5, "150%", "x", True):
        with pytest.raises(UnitError):
            parse_ratio(bad)
    assert parse_amount("10%") == Amount(percent=10.0)
    assert parse_amount("20MB") == Amount(bytes=20_000_000)
    assert parse_amount("10%").limit(1000) == 100
    assert parse_amount("20MB").limit(1000) == 20_000_000
    assert parse_amount("150%").limit(1000) == 1500
    with pytest.raises(UnitError):
        parse_amount("lots")
