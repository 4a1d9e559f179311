"""A sweep's own settings (the `sweep` entry point's parameters besides config, overrides, data_dir and vae), with
their defaults in one place and one-line errors for bad values."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from radiodiff.config import ConfigError
from radiodiff.metrics import METRICS

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class SweepSettings:
    """What to sweep and how."""

    space: str = ""
    """The search space (`radiodiff.sweep.space`), required."""
    entry: str = "train_vae"
    """The training entry point each trial runs."""
    trials: int = 20
    """Trials COMPLETE or PRUNED in the whole study (every launch and process together) before it is done."""
    metric: str = "val/rmse"
    """The validation score optimised: val/<nmse|rmse|ssim|psnr|mae>."""
    direction: str = ""
    """minimize or maximize; empty: maximize for the metrics where higher is better (ssim, psnr), else minimize."""
    seed: int = 0
    """TPE's seed (trial n of a study always draws from the same random state)."""
    study: str = ""
    """The study's name; empty: `<entry>-<digest of entry, metric, direction, space and config>`."""
    storage: str = ""
    """The Optuna RDB storage URI; empty: sqlite:///<RADIODIFF_HOME>/sweeps/optuna.db."""
    pruner_startup_trials: int = 5
    """The median pruner prunes nothing until this many trials have completed."""
    pruner_warmup_steps: int = 0
    """... nor at a validation step below this."""

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ConfigError(f"trials = {self.trials}: expected at least 1")
        if self.direction and self.direction not in DIRECTIONS:
            raise ConfigError(f"direction = {self.direction!r}: choose one of {', '.join(DIRECTIONS)}")
        if not self.metric.startswith("val/") or self.metric_name not in METRICS:
            names = ", ".join(f"val/{name}" for name in METRICS)
            raise ConfigError(f"metric = {self.metric!r}: a sweep optimises a validation score, one of {names}")
        for name in ("pruner_startup_trials", "pruner_warmup_steps"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} = {getattr(self, name)}: expected 0 or more")

    @property
    def metric_name(self) -> str:
        """The score's name without `val/` (the trainer's key)."""
        return self.metric.removeprefix("val/")

    @classmethod
    def from_arguments(cls, values: dict[str, Any]) -> SweepSettings:
        """The settings from command-line values; None (not given) keeps a default."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names and v is not None})
