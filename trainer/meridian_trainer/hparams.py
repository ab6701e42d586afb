"""Hyperparameter validation shared by every kind.

Each train_*.py declares its config as a dataclass whose fields carry their limits:

    lr: float = hp(1e-3, min=1e-6, max=1.0, help="Adam learning rate")

`spec(Config)` turns that into the machine-readable form written to
trainer/hyperparameters.json (the server validates admin-supplied values against it);
`parse(Config, overrides)` applies overrides with the same rules and fails on any
unknown key, wrong type or out-of-range value.
"""

import dataclasses
import json
from pathlib import Path
from typing import get_type_hints


class ConfigError(ValueError):
    pass


def hp(default, *, min=None, max=None, choices=None, items=None, help="", arch=False):
    """A config field. `arch=True` marks keys that change the weights' shapes:
    fine-tuning from a base artifact requires them to equal the base's values.
    `items`: a str field holding a comma list, each of whose (at least one) items is one of these."""
    meta = {"min": min, "max": max, "choices": choices, "items": items, "help": help, "arch": arch}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


_TYPE_NAMES = {int: "int", float: "float", bool: "bool", str: "str",
               list[int]: "int[]", list[float]: "float[]"}


def spec(cls) -> dict:
    hints = get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        entry = {"type": _TYPE_NAMES[hints[f.name]], "default": default}
        for k in ("min", "max", "choices", "items"):
            if f.metadata.get(k) is not None:
                entry[k] = f.metadata[k]
        if f.metadata.get("arch"):
            entry["architecture"] = True
        entry["help"] = f.metadata.get("help", "")
        out[f.name] = entry
    return out


def _check_scalar(name, value, typ, meta):
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name}: expected bool, got {value!r}")
        return value
    if typ is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise ConfigError(f"{name}: expected int, got {value!r}")
        value = int(value)
    elif typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name}: expected float, got {value!r}")
        value = float(value)
    elif typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}: expected str, got {value!r}")
    if meta.get("choices") is not None and value not in meta["choices"]:
        raise ConfigError(f"{name}: {value!r} not in {meta['choices']}")
    if meta.get("items") is not None:
        listed = [t.strip() for t in value.split(",") if t.strip()]
        bad = [t for t in listed if t not in meta["items"]]
        if bad or not listed:
            raise ConfigError(f"{name}: unknown item(s) {bad or [value]} (allowed: {', '.join(meta['items'])})")
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(f"{name}: {value} < min {meta['min']}")
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(f"{name}: {value} > max {meta['max']}")
    return value


def parse(cls, overrides: dict | None = None, base: dict | None = None):
    """Defaults <- base (e.g. a base artifact's hyperparameters) <- overrides, validated."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for source in (base or {}), (overrides or {}):
        for name, value in source.items():
            if name not in fields:
                if source is base:
                    continue  # keys a newer/older trainer no longer knows
                raise ConfigError(f"unknown hyperparameter {name!r} (allowed: {', '.join(fields)})")
            typ, meta = hints[name], fields[name].metadata
            if typ in (list[int], list[float]):
                if not isinstance(value, list) or not value:
                    raise ConfigError(f"{name}: expected a non-empty list, got {value!r}")
                elem = typ.__args__[0]
                value = [_check_scalar(f"{name}[{i}]", v, elem, meta) for i, v in enumerate(value)]
            else:
                value = _check_scalar(name, value, typ, meta)
            values[name] = value
    return cls(**values)


def arch_keys(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.metadata.get("arch")]


def load_config_arg(arg: str | None) -> dict:
    """--config accepts inline JSON or a path to a JSON file."""
    if not arg:
        return {}
    text = arg.strip()
    if not text.startswith("{"):
        text = Path(arg).read_text(encoding="utf-8")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--config is not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ConfigError("--config must be a JSON object")
    return obj
