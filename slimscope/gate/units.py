"""Sizes and ratios as people write them: 150MB, 1.5GiB, 2048, 10%, 0.9."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# Decimal units (SI), as `humanize` shows sizes; the -iB units are binary.
_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$")
_PCT_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%\s*$")


class UnitError(ValueError):
    """A value that is not a size, a percentage or a ratio; the message says what was expected."""


def parse_size(value) -> int:
    """Bytes from 150MB / 1.5GiB / 300k / 2048 (a bare number is bytes)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a size like 150MB or 1.5GiB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise UnitError(f"a size cannot be negative, got {value}")
        return value
    if isinstance(value, float):
        if value < 0:
            raise UnitError(f"a size cannot be negative, got {value}")
        return int(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a size like 150MB or 1.5GiB, got {value!r}")
    m = _SIZE_RE.match(value)
    if not m or m.group(2).lower() not in _UNITS:
        raise UnitError(f"expected a size like 150MB, 1.5GiB or 2048 (bytes), got {value!r}")
    return int(round(float(m.group(1)) * _UNITS[m.group(2).lower()]))


def parse_percent(value) -> float:
    """A percentage as a number of percent: "10%", "2.5 %" or a bare number 10 -> 10.0."""
    if isinstance(value, bool):
        raise UnitError(f"expected a percentage like 10%, got {value!r}")
    if isinstance(value, (int, float)):
        pct = float(value)
    elif isinstance(value, str):
        m = _PCT_RE.match(value)
        if m:
            pct = float(m.group(1))
        else:
            try:
                pct = float(value)
            except ValueError:
                raise UnitError(f"expected a percentage like 10%, got {value!r}") from None
    else:
        raise UnitError(f"expected a percentage like 10%, got {value!r}")
    if not 0 <= pct <= 100:
        raise UnitError(f"a percentage must be between 0% and 100%, got {value!r}")
    return pct


def parse_ratio(value) -> float:
    """A ratio in 0..1 written as 0.9 or 90%."""
    if isinstance(value, str) and "%" in value:
        return parse_percent(value) / 100
    if isinstance(value, bool):
        raise UnitError(f"expected a ratio like 0.9 or 90%, got {value!r}")
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise UnitError(f"expected a ratio like 0.9 or 90%, got {value!r}") from None
    if not 0 <= r <= 1:
        raise UnitError(f"expected a ratio between 0 and 1 (or a percentage like 90%), got {value!r}")
    return r


@dataclass(frozen=True)
class Amount:
    """A budget that is either bytes or a percentage of some reference size."""

    bytes: Optional[int] = None
    percent: Optional[float] = None

    def limit(self, reference: int) -> int:
        """The budget in bytes, a percentage taken of `reference`."""
        if self.percent is not None:
            return int(reference * self.percent / 100)
        return self.bytes or 0

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{self.percent:g}%"
        from slimscope.core.fmt import size
        return size(self.bytes)


def parse_amount(value) -> Amount:
    """A size (150MB) or a percentage (10%)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        m = _PCT_RE.match(value)
        if not m:
            raise UnitError(f"expected a size like 50MB or a percentage like 10%, got {value!r}")
        return Amount(percent=float(m.group(1)))
    try:
        return Amount(bytes=parse_size(value))
    except UnitError:
        raise UnitError(f"expected a size like 50MB or a percentage like 10%, got {value!r}") from None
