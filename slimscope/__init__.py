"""slimscope: where the bytes of a container image go, and how to make it smaller.

The library face::

    import slimscope
    a = slimscope.analyze("app.tar")          # any source the command line takes
    print(a.wasted_bytes, a.waste[0].path)

`analyze` returns an `Analysis`: its `layers` (LayerReport), `waste` (WasteItem),
`duplicates` (Duplicate), `hints` (Hint), and `files()` / `entry(path)` (FileRecord)
for the final filesystem. `open_image` opens and indexes a source without
composing it. Bad input raises `BadInput` (a `SlimscopeError`).

Names are loaded on first use, so importing slimscope stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slimscope.errors import BadInput, CheckFailed, EngineUnavailable, SlimscopeError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from slimscope.core.analysis import Analysis, analyze, open_image
    from slimscope.core.hints import Hint
    from slimscope.core.records import Duplicate, FileRecord, LayerReport, WasteItem
    from slimscope.image.model import Image

# public name -> the module that defines it
_LAZY = {
    "analyze": "slimscope.core.analysis",
    "open_image": "slimscope.core.analysis",
    "Analysis": "slimscope.core.analysis",
    "LayerReport": "slimscope.core.records",
    "WasteItem": "slimscope.core.records",
    "Duplicate": "slimscope.core.records",
    "FileRecord": "slimscope.core.records",
    "Hint": "slimscope.core.hints",
    "Image": "slimscope.image.model",
}

__all__ = ["analyze", "open_image", "Analysis", "LayerReport", "WasteItem", "Duplicate",
           "FileRecord", "Hint", "Image", "SlimscopeError", "BadInput", "CheckFailed",
           "EngineUnavailable", "__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'slimscope' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
