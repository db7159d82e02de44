"""Where the gate's rules come from: .slimscope.toml ([ci]), pyproject.toml
([tool.slimscope.ci]) or dive's .dive-ci, found from the working directory
upward, with command-line flags on top. Every key is checked: an unknown key
or a bad value is a BadInput naming the file and the key."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Optional

from slimscope.errors import BadInput
from slimscope.gate.units import Amount, UnitError, parse_amount, parse_percent, parse_ratio, parse_size

OFF = ("off", "disabled", "none")


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise UnitError(f"expected a whole number, got {value!r}")
    try:
        n = int(value)
    except ValueError:
        raise UnitError(f"expected a whole number, got {value!r}") from None
    if n < 0:
        raise UnitError(f"expected a whole number >= 0, got {value!r}")
    return n


def _globs(value) -> list:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UnitError(f"expected a list of path globs like [\"**/*.pem\"], got {value!r}")
    return [v.strip() for v in value]


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "false", "no", "off"):
        return value.lower() in ("true", "yes", "on")
    raise UnitError(f"expected true or false, got {value!r}")


def _budgets(value) -> dict:
    if not isinstance(value, dict) or not value:
        raise UnitError('expected a table of glob = size, like {"/usr/lib/python3*/**" = "80MB"}')
    out = {}
    for glob, size in value.items():
        try:
            out[glob] = parse_size(size)
        except UnitError as e:
            raise UnitError(f"{glob!r}: {e}") from None
    return out


def _text(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UnitError(f"expected a file path or an image reference, got {value!r}")
    return value.strip()


# key -> (GateConfig field, parser, what the rule measures), in report order.
KEYS = {
    "max-size": ("max_size", parse_size, "final filesystem bytes"),
    "max-compressed-size": ("max_compressed_size", parse_size, "compressed (push) bytes"),
    "max-wasted-bytes": ("max_wasted_bytes", parse_size, "wasted bytes"),
    "max-wasted-percent": ("max_wasted_percent", parse_percent, "wasted share of stored bytes"),
    "min-efficiency": ("min_efficiency", parse_ratio, "final / stored bytes"),
    "max-layers": ("max_layers", _count, "layer count"),
    "max-layer-size": ("max_layer_size", parse_size, "bytes of the largest layer"),
    "forbid": ("forbid", _globs, "forbidden paths"),
    "no-hidden-secrets": ("no_hidden_secrets", _bool, "hidden secrets"),
    "secrets-allow": ("secrets_allow", _globs, "paths exempt from no-hidden-secrets"),
    "path-budgets": ("path_budgets", _budgets, "bytes under each glob"),
    "max-growth": ("max_growth", parse_amount, "growth over the baseline"),
    "baseline": ("baseline", _text, "the image or JSON report to compare with"),
}

DIVE_KEYS = {
    "lowestEfficiency": ("min-efficiency", parse_ratio),
    "highestWastedBytes": ("max-wasted-bytes", parse_size),
    # dive writes this one as a ratio (0.1 = 10%).
    "highestUserWastedPercent": ("max-wasted-percent", lambda v: parse_ratio(v) * 100),
}


@dataclass
class GateConfig:
    max_size: Optional[int] = None
    max_compressed_size: Optional[int] = None
    max_wasted_bytes: Optional[int] = None
    max_wasted_percent: Optional[float] = None
    min_efficiency: Optional[float] = None
    max_layers: Optional[int] = None
    max_layer_size: Optional[int] = None
    forbid: list = field(default_factory=list)
    no_hidden_secrets: bool = True
    secrets_allow: list = field(default_factory=list)
    path_budgets: dict = field(default_factory=dict)
    max_growth: Optional[Amount] = None
    baseline: Optional[str] = None
    source: Optional[str] = None      # the file the settings came from, if any
    note: str = ""                    # what the report says about that file

    def set(self, key: str, value, where: str) -> None:
        """Validate and set one key as written in a config file or a flag."""
        name = key.replace("_", "-")
        if name not in KEYS:
            import difflib
            close = difflib.get_close_matches(name, list(KEYS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else f"; known keys: {', '.join(KEYS)}"
            raise BadInput(f"{where}: unknown key {key!r}{hint}")
        attr, parse, _ = KEYS[name]
        if value is False and attr not in ("no_hidden_secrets",):
            setattr(self, attr, _empty(attr))
            return
        if isinstance(value, str) and value.strip().lower() in OFF and attr != "baseline":
            setattr(self, attr, False if attr == "no_hidden_secrets" else _empty(attr))
            return
        try:
            setattr(self, attr, parse(value))
        except UnitError as e:
            raise BadInput(f"{where}: bad value for {key}: {e}") from None

    def as_dict(self) -> dict:
        out = {}
        for name, (attr, _, _) in KEYS.items():
            v = getattr(self, attr)
            out[name] = str(v) if isinstance(v, Amount) else v
        return out


def _empty(attr: str):
    return {"forbid": [], "secrets_allow": [], "path_budgets": {}}.get(attr)


def _read_toml(path: str) -> dict:
    # imported here: most runs find no config file, and start-up is every run's cost
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise BadInput(f"cannot read config {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"config {path} is not valid TOML: {e}") from None


def _apply_table(cfg: GateConfig, table, where: str) -> None:
    if not isinstance(table, dict):
        raise BadInput(f"{where} must be a table of rule settings")
    for key, value in table.items():
        cfg.set(key, value, where)


# Tables a .slimscope.toml may hold: the gate reads [ci]; `slimscope lint` reads [lint].
TOML_TABLES = ("ci", "lint")


def _from_slimscope_toml(cfg: GateConfig, path: str, doc: dict) -> None:
    for key, value in doc.items():
        if not isinstance(value, dict) and key.replace("_", "-") in KEYS:
            raise BadInput(f"{path}: key {key!r} is outside a table; put the gate's settings "
                           "under [ci]")
    stray = [k for k in doc if k not in TOML_TABLES]
    if stray:
        raise BadInput(f"{path}: unknown {'keys' if len(stray) > 1 else 'key'} "
                       f"{', '.join(repr(k) for k in stray)} (the file holds the tables "
                       f"{' and '.join(f'[{t}]' for t in TOML_TABLES)})")
    if "ci" not in doc:
        if not doc:
            raise BadInput(f"{path} is empty: put the gate's settings under [ci], or pass "
                           "--no-config")
        cfg.note = "no [ci] table"
        return
    if doc["ci"] == {}:
        cfg.note = "empty [ci] table"
    _apply_table(cfg, doc["ci"], f"{path} [ci]")


def _pyproject_table(doc: dict):
    return ((doc.get("tool") or {}).get("slimscope") or {}).get("ci")


def parse_dive_ci(text: str, where: str) -> dict:
    """dive's .dive-ci: a YAML mapping `rules:` of three keys. Only that shape is read."""
    out = {}
    in_rules = False
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        key, sep, value = line.strip().partition(":")
        if not sep:
            raise BadInput(f"{where}:{n}: expected `key: value`, got {raw.strip()!r}")
        key, value = key.strip(), value.strip().strip("'\"")
        if indent == 0:
            if key != "rules" or value:
                raise BadInput(f"{where}:{n}: unknown key {key!r} (a .dive-ci holds `rules:`)")
            in_rules = True
            continue
        if not in_rules:
            raise BadInput(f"{where}:{n}: {key!r} is not under `rules:`")
        if key not in DIVE_KEYS:
            raise BadInput(f"{where}: unknown key {key!r} under rules "
                           f"(known: {', '.join(DIVE_KEYS)})")
        out[key] = value
    return out


def _from_dive_ci(cfg: GateConfig, path: str) -> None:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read config {path}: {getattr(e, 'strerror', None) or e}") from None
    for key, value in parse_dive_ci(text, path).items():
        name, parse = DIVE_KEYS[key]
        attr = KEYS[name][0]
        if value.lower() in OFF:
            setattr(cfg, attr, None)
            continue
        try:
            setattr(cfg, attr, parse(value))
        except UnitError as e:
            raise BadInput(f"{path}: bad value for rules.{key}: {e}") from None


def load_file(path: str) -> GateConfig:
    """Read one config file; its kind comes from its name."""
    cfg = GateConfig(source=path)
    base = os.path.basename(path)
    if not os.path.isfile(path):
        raise BadInput(f"config {path} does not exist")
    if base == ".dive-ci" or base.endswith((".yaml", ".yml")):
        _from_dive_ci(cfg, path)
    elif base == "pyproject.toml":
        table = _pyproject_table(_read_toml(path))
        if table is None:
            raise BadInput(f"{path} has no [tool.slimscope.ci] table")
        _apply_table(cfg, table, f"{path} [tool.slimscope.ci]")
    else:
        _from_slimscope_toml(cfg, path, _read_toml(path))
    _resolve_baseline(cfg, path)
    return cfg


def _resolve_baseline(cfg: GateConfig, path: str) -> None:
    """A relative baseline file in a config is relative to the config's directory."""
    if cfg.baseline and not os.path.isabs(cfg.baseline):
        candidate = os.path.join(os.path.dirname(os.path.abspath(path)), cfg.baseline)
        if os.path.exists(candidate):
            cfg.baseline = candidate


def find_config(start: Optional[str] = None) -> Optional[str]:
    """The nearest config from `start` (default: the working directory) upward."""
    d = os.path.abspath(start or os.getcwd())
    while True:
        p = os.path.join(d, ".slimscope.toml")
        if os.path.isfile(p):       # read whatever it holds: a config never passes silently
            return p
        p = os.path.join(d, "pyproject.toml")
        if os.path.isfile(p) and _pyproject_table(_read_toml(p)) is not None:
            return p
        p = os.path.join(d, ".dive-ci")
        if os.path.isfile(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load(config_path: Optional[str] = None, use_config: bool = True,
         overrides: Optional[dict] = None) -> GateConfig:
    """The config file (named, or found) with flag overrides applied on top.

    `overrides` maps config keys to flag values; `forbid` and `path-budgets`
    add to the file's lists instead of replacing them.
    """
    path = config_path or (find_config() if use_config else None)
    cfg = load_file(path) if path else GateConfig()
    for key, value in (overrides or {}).items():
        where = f"--{key}"
        if key in ("forbid", "secrets-allow"):
            try:
                globs = _globs(list(value))
            except UnitError as e:
                raise BadInput(f"{where}: {e}") from None
            if key == "forbid":
                cfg.forbid = cfg.forbid + globs
            else:
                cfg.secrets_allow = cfg.secrets_allow + globs
        elif key == "path-budgets":
            budgets = dict(cfg.path_budgets)
            for spec in value:
                glob, sep, amount = spec.rpartition("=")
                if not sep or not glob:
                    raise BadInput(f"--path-budget wants GLOB=SIZE, got {spec!r}")
                try:
                    budgets[glob] = parse_size(amount)
                except UnitError as e:
                    raise BadInput(f"--path-budget {glob}: {e}") from None
            cfg.path_budgets = budgets
        else:
            cfg.set(key, value, where)
    return cfg

