"""A sweep's search space: named config keys with ranges, parsed from one line of text.

Syntax: space-separated items `key.sub=distribution(args)`, e.g.
`ldm_train.lr=loguniform(1e-4,3e-3) ldm.channels=choice(16,32) ldm_train.ema_decay=uniform(0.99,0.9999)
vae_train.steps=int(200,800)`. Distributions: `uniform(low,high)` and `loguniform(low,high)` (floats),
`int(low,high)` and `logint(low,high)` (integers, both ends included), `choice(a,b,...)` (YAML values, lists too,
e.g. `vae.channel_mult=choice([1,2],[1,2,4])`). Every key is a config key and every range end (or choice) a value
that the config accepts; anything else is a one-line ConfigError naming the key.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import optuna

from radiodiff.config import Config, ConfigError
from radiodiff.config_yaml import read_yaml

EXAMPLE = "ldm_train.lr=loguniform(1e-4,3e-3)"
_ITEM = re.compile(r"(?P<key>[A-Za-z_][\w.]*)=(?P<kind>[a-z]+)\((?P<args>.*)\)", re.DOTALL)


@dataclass(frozen=True)
class Dimension:
    """One swept config key and its distribution."""

    key: str
    kind: str
    """One of DISTRIBUTIONS."""
    values: tuple[Any, ...]
    """(low, high) for the ranges; the choices for `choice`."""

    def suggest(self, trial: optuna.Trial) -> Any:
        """The trial's value for this key (Optuna's parameter name is the config key)."""
        if self.kind in ("uniform", "loguniform"):
            return trial.suggest_float(self.key, *self.values, log=self.kind == "loguniform")
        if self.kind in ("int", "logint"):
            return trial.suggest_int(self.key, *self.values, log=self.kind == "logint")
        tokens = [_choice_token(v) for v in self.values]  # Optuna's categoricals are scalars: lists as JSON text
        return self.values[tokens.index(trial.suggest_categorical(self.key, tokens))]

    def value_of(self, param: Any) -> Any:
        """The config value of a stored Optuna param (a choice's JSON text back to its list)."""
        if self.kind != "choice":
            return param
        return self.values[[_choice_token(v) for v in self.values].index(param)]

    def text(self) -> str:
        """The canonical form `key=kind(a,b)`."""
        return f"{self.key}={self.kind}({','.join(_value_text(v) for v in self.values)})"


@dataclass(frozen=True)
class SearchSpace:
    """The swept keys, in the order given."""

    dimensions: tuple[Dimension, ...]

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """The trial's overrides {dotted key: value}."""
        return {d.key: d.suggest(trial) for d in self.dimensions}

    def overrides_of(self, params: dict[str, Any]) -> dict[str, Any]:
        """The overrides of a finished trial from its stored Optuna params."""
        return {d.key: d.value_of(params[d.key]) for d in self.dimensions}

    def text(self) -> str:
        """The canonical text (the sweep's `space` param and part of the study's identity)."""
        return " ".join(d.text() for d in self.dimensions)


def parse_space(text: str, config: Config) -> SearchSpace:
    """Parse and check a search space against the config it sweeps.

    Raises:
        ConfigError: one line naming the item or key: malformed syntax, an unknown distribution, a bad range, an
            unknown config key (with the config's did-you-mean), or a range end the config refuses.
    """
    items = _split(text or "", " ")
    if not items:
        raise ConfigError(f'sweep needs a search space: -P space="{EXAMPLE} ..." (see README, Sweeps)')
    dimensions: list[Dimension] = []
    for item in items:
        dimension = _dimension(item)
        if any(d.key == dimension.key for d in dimensions):
            raise ConfigError(f"sweep space: '{dimension.key}' is given twice")
        _check_against_config(dimension, config)
        dimensions.append(dimension)
    return SearchSpace(tuple(dimensions))


DISTRIBUTIONS = ("uniform", "loguniform", "int", "logint", "choice")


def _dimension(item: str) -> Dimension:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise ConfigError(f"sweep space item '{item}': expected key.sub=distribution(args), e.g. {EXAMPLE}")
    key, kind, args = match["key"], match["kind"], _split(match["args"], ",")
    if kind not in DISTRIBUTIONS:
        raise ConfigError(
            f"sweep space '{key}': unknown distribution '{kind}'; choose one of {', '.join(DISTRIBUTIONS)}"
        )
    if kind == "choice":
        if not args:
            raise ConfigError(f"sweep space '{key}': choice() needs at least one value")
        return Dimension(key, kind, tuple(read_yaml(a) for a in args))
    if len(args) != 2:
        raise ConfigError(f"sweep space '{key}': {kind}(low,high) takes 2 values, got {len(args)}")
    low, high = (_number(key, kind, a) for a in args)
    if not low < high:
        raise ConfigError(f"sweep space '{key}': {kind}({args[0]},{args[1]}) needs low < high")
    if kind.startswith("log") and low <= 0:
        raise ConfigError(f"sweep space '{key}': {kind}({args[0]},{args[1]}) needs low > 0")
    return Dimension(key, kind, (low, high))


def _number(key: str, kind: str, text: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"sweep space '{key}': {kind}() bound '{text}' is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"sweep space '{key}': {kind}() bound '{text}' is not finite")
    if kind in ("int", "logint"):
        if not value.is_integer():
            raise ConfigError(f"sweep space '{key}': {kind}() bound '{text}' is not an integer")
        return int(value)
    return value


def _check_against_config(dimension: Dimension, config: Config) -> None:
    """The key is a config key (not a section), and every range end (or choice) a value the config accepts."""
    key = dimension.key
    if any(k.startswith(f"{key}.") for k in config.flat()):
        raise ConfigError(f"sweep space '{key}': a section, not a key; name one of its keys")
    for value in dimension.values:
        try:
            config.with_overrides({key: value})
        except ConfigError as err:  # names the key: "unknown config key ...: did you mean ...?", a bad value
            raise ConfigError(f"sweep space: {err}") from None


def _split(text: str, separator: str) -> list[str]:
    """`text` split at `separator` (whitespace for " ") outside brackets and parentheses; empty parts dropped."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and (char.isspace() if separator == " " else char == separator):
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _choice_token(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def _value_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list | dict | str) else repr(value)
