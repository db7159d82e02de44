"""Finding and reading slimscope's TOML config: a `[NAME]` table of `.slimscope.toml`, or
`[tool.slimscope.NAME]` of `pyproject.toml`, in the nearest directory that has one."""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from slimscope.errors import BadInput

FILES = (".slimscope.toml", "pyproject.toml")


def read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            doc: dict[str, Any] = tomllib.load(fh)
            return doc
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise BadInput(f"cannot read {path}: {e.strerror}") from None


def table(path: str, name: str) -> Optional[dict[str, Any]]:
    """The `name` table of the config file `path`, or None when it has none."""
    data = read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("slimscope", {})
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadInput(f"{path}: {name} must be a table, not {type(value).__name__}")
    return value


def find(name: str, starts: list[str]
         ) -> tuple[Optional[str], Optional[dict[str, Any]]]:
    """(path, table) of the first file with a `name` table, walking up from each directory of
    `starts` in turn; (None, None) when there is none."""
    seen: set[str] = set()
    for start in starts:
        d = os.path.abspath(start)
        while d not in seen:
            seen.add(d)
            for f in FILES:
                path = os.path.join(d, f)
                if os.path.isfile(path):
                    found = table(path, name)
                    if found is not None:
                        return path, found
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    return None, None
