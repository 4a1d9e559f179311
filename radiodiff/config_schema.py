"""Turning plain YAML values into typed, frozen config dataclasses (and back).

The loader is generic: it walks a dataclass's type hints, so every config section only declares its
fields, docstrings and `__post_init__` checks. Errors name the dotted key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from typing import Any, Literal, get_args, get_origin

_EXPONENT_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class ConfigError(ValueError):
    """A config file or override is wrong; the message names the key and what is allowed."""


def build(cls: type, values: dict[str, Any], where: str = "") -> Any:
    """Build dataclass `cls` from a plain mapping, checking keys and types.

    Args:
        cls: a (frozen) dataclass type.
        values: the mapping read from YAML (missing keys keep their defaults).
        where: dotted prefix of this section, used in error messages.
    """
    if not isinstance(values, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping of keys, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, raw in values.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(f"{where}{key}", key, list(fields)))
        if isinstance(raw, dict):  # a section given in part: its other keys keep this field's own defaults
            raw = {**_field_default_values(fields[key]), **raw}
        kwargs[key] = _convert(hints[key], raw, f"{where}{key}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:  # __post_init__ checks name the field; add its section
        raise ConfigError(f"{where}{err}") from None


def _field_default_values(field: dataclasses.Field) -> dict[str, Any]:
    """The plain values of a section field's default (e.g. `ldm_train`'s LDM_TRAINING, not TrainConfig()'s)."""
    if field.default is not dataclasses.MISSING:
        default = field.default
    elif field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    else:
        return {}
    return to_dict(default) if dataclasses.is_dataclass(default) else {}


def to_dict(obj: Any) -> Any:
    """The plain (YAML-ready) form of a config dataclass: tuples become lists."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_dict(v) for v in obj]
    return obj


def speed_only_keys(obj: Any, prefix: str = "") -> set[str]:
    """Dotted keys of the fields marked `speed_only` in their metadata (settings that never change a result)."""
    keys: set[str] = set()
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            keys |= speed_only_keys(value, f"{prefix}{f.name}.")
        elif f.metadata.get("speed_only"):
            keys.add(f"{prefix}{f.name}")
    return keys


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """`{"data.size": 64, ...}`: the config as dotted keys (for MLflow params)."""
    return flatten_dict(to_dict(obj), prefix)


def flatten_dict(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out.update(flatten_dict(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _unknown_key_message(dotted: str, key: str, names: list[str]) -> str:
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(names)}"
    return f"unknown config key '{dotted}': {hint}"


def _convert(hint: Any, raw: Any, key: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, raw if raw is not None else {}, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        return _convert_union(hint, raw, key)
    if origin is Literal:
        allowed = get_args(hint)
        if raw not in allowed:
            raise ConfigError(f"{key} = {raw!r} is not allowed; choose one of {list(allowed)}")
        return raw
    if origin is tuple:
        return _convert_tuple(hint, raw, key)
    if hint is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"{key} = {raw!r}: expected true or false")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"{key} = {raw!r}: expected an integer")
        return raw
    if hint is float:
        if isinstance(raw, str) and _EXPONENT_FLOAT.fullmatch(raw.strip()):
            return float(raw)  # "1e-3" given as text in a dict of overrides (YAML reads it as a number already)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ConfigError(f"{key} = {raw!r}: expected a number")
        return float(raw)
    if hint is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{key} = {raw!r}: expected a string")
        return raw
    raise ConfigError(f"{key}: unsupported config type {hint!r}")


def _convert_union(hint: Any, raw: Any, key: str) -> Any:
    options = get_args(hint)
    if raw is None:
        if type(None) in options:
            return None
        raise ConfigError(f"{key} may not be null")
    errors = []
    for option in options:
        if option is type(None):
            continue
        try:
            return _convert(option, raw, key)
        except ConfigError as err:
            errors.append(str(err))
    raise ConfigError(errors[0] if len(errors) == 1 else f"{key} = {raw!r}: " + "; or ".join(errors))


def _convert_tuple(hint: Any, raw: Any, key: str) -> tuple:
    if not isinstance(raw, list | tuple):
        raise ConfigError(f"{key} = {raw!r}: expected a list")
    args = get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_convert(args[0], v, f"{key}[{i}]") for i, v in enumerate(raw))
    if len(args) != len(raw):
        raise ConfigError(f"{key} = {list(raw)!r}: expected a list of {len(args)} values")
    return tuple(_convert(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, raw, strict=True)))
