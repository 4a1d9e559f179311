"""The project's configuration: frozen dataclasses, loaded from YAML plus `key.sub=value` overrides.

Every field has a docstring-style comment; `__post_init__` rejects out-of-range values with a message naming
the key. `load()` is the only way configs enter the program.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from radiodiff.config_schema import ConfigError, build, flatten, speed_only_keys, to_dict
from radiodiff.config_sections import (
    DataConfig,
    DiffusionConfig,
    GeneratorConfig,
    LDMConfig,
    RadioUNetConfig,
    TrackingConfig,
    TrainConfig,
    VAEConfig,
    VAELossConfig,
)
from radiodiff.config_yaml import read_yaml

__all__ = [
    "Config",
    "ConfigError",
    "DataConfig",
    "DiffusionConfig",
    "GeneratorConfig",
    "LDMConfig",
    "RadioUNetConfig",
    "TrackingConfig",
    "TrainConfig",
    "VAEConfig",
    "VAELossConfig",
    "dump",
    "load",
    "parse_overrides",
]

# The defaults of the two training sections (one TrainConfig class, two sets of values); with the other
# sections' dataclass defaults they are the CPU defaults that configs/default.yaml writes out (a test compares).
VAE_TRAINING = TrainConfig(steps=450, lr=4e-4, lr_floor=0.05, val_every=150, sample_every=150, checkpoint_every=150)
"""`vae_train` defaults: 450 steps of reconstruction + KL (~3 min on 2 CPU cores)."""
LDM_TRAINING = TrainConfig(
    steps=1200,
    lr=1e-3,
    betas=(0.9, 0.999),
    weight_decay=1e-4,
    lr_floor=0.05,
    val_every=400,
    val_batches=8,
    sample_every=400,
    checkpoint_every=400,
    ema_decay=0.0,
)
"""`ldm_train` defaults: 1200 steps (~4-6 min on 2 CPU cores), 64 validation maps, no EMA: at this budget the last
weights score better than their average (test RMSE 0.1119 against 0.1139 with decay 0.99 and 0.1144 with 0.999,
docs/quality.md)."""
UNET_TRAINING = TrainConfig(
    steps=1500,
    lr=2e-3,
    betas=(0.9, 0.999),
    weight_decay=1e-4,
    lr_floor=0.05,
    val_every=250,
    val_batches=8,
    sample_every=250,
    checkpoint_every=500,
)
"""`unet_train` defaults (the RadioUNet baseline): 1500 steps (~2.5 min of training, ~3 min in all, on 2 CPU cores),
64 validation maps."""


@dataclass(frozen=True)
class Config:
    """The whole configuration of a radiodiff job."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    data: DataConfig = field(default_factory=DataConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    vae_loss: VAELossConfig = field(default_factory=VAELossConfig)
    vae_train: TrainConfig = VAE_TRAINING
    ldm: LDMConfig = field(default_factory=LDMConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    ldm_train: TrainConfig = LDM_TRAINING
    radiounet: RadioUNetConfig = field(default_factory=RadioUNetConfig)
    unet_train: TrainConfig = UNET_TRAINING

    def __post_init__(self) -> None:
        if self.generator.size == 0:  # the embedded data set is generated at the training resolution
            object.__setattr__(self, "generator", replace(self.generator, size=max(32, *self.data.image_size)))

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        """A copy with dotted-key overrides applied and validated again."""
        raw = to_dict(self)
        _apply(raw, overrides)
        return build(Config, raw)

    def flat(self) -> dict[str, Any]:
        """Dotted keys -> values, e.g. `{"batch_size": 8, ...}`."""
        return flatten(self)

    def speed_only_keys(self) -> set[str]:
        """Dotted keys of the settings that change only how fast a job runs (e.g. `generator.workers`)."""
        return speed_only_keys(self)


def parse_overrides(text: str | list[str] | None) -> dict[str, Any]:
    """Parse `"a.b=1 c=[64,64]"` (or a list of such pairs); values are read as YAML (`radiodiff.config_yaml`)."""
    if not text:
        return {}
    pairs = shlex.split(text) if isinstance(text, str) else list(text)
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override '{pair}' is not of the form key.sub=value")
        out[key.strip()] = read_yaml(value) if value.strip() else ""
    return out


def load(path: str | Path | None = None, overrides: str | list[str] | dict[str, Any] | None = None) -> Config:
    """Read a YAML config, apply overrides and validate.

    Args:
        path: YAML file; None or "" means the built-in defaults (the values of `configs/default.yaml`), whatever
            the working directory.
        overrides: `"key.sub=value ..."`, a list of pairs, or a dict of dotted keys.
    Returns:
        The frozen, validated Config.
    """
    raw = _read_yaml(Path(path)) if path else {}
    _apply(raw, overrides if isinstance(overrides, dict) else parse_overrides(overrides))
    try:
        return build(Config, raw)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}" if path else str(err)) from None


def dump(config: Config) -> str:
    """The config as YAML text (the artifact `config/resolved.yaml`)."""
    return yaml.safe_dump(to_dict(config), sort_keys=False)


BASE_KEY = "base"
"""A config file's optional top-level key naming another config file (relative to its folder) that it extends:
the base's sections are read first, then this file's keys replace theirs one by one."""


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist" + (f" (the base of {seen[-1]})" if seen else ""))
    try:
        raw = read_yaml(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    base = raw.pop(BASE_KEY, None)
    if base is None:
        return raw
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: {BASE_KEY} must name a config file, got {base!r}")
    base_path = (path.parent / base).resolve()
    if base_path in seen or base_path == path.resolve():
        raise ConfigError(f"{path}: {BASE_KEY} {base} leads back to itself")
    merged = _read_yaml(base_path, (*seen, path.resolve()))
    for section, values in raw.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:
            merged[section] = values
    return merged


def _apply(raw: dict[str, Any], overrides: dict[str, Any]) -> None:
    for dotted, value in overrides.items():
        node = raw
        *parents, leaf = dotted.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override '{dotted}': '{part}' is a value, not a section")
            node = child
        node[leaf] = value
