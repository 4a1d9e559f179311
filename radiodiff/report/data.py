"""Everything a report shows about one run, read once from the tracking store into plain arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from radiodiff.tracking import RunRecord, fetch_run, image_artifacts, metric_history, read_artifact

SAMPLE_KEY = "samples"
PHASE_PARAM = "cfg.vae_loss.disc_start"
"""The step at which train_vae switches from VAE to VAE-GAN (the discriminator starts)."""
TRAIN_SECTIONS = {"train_vae": "vae_train", "train_ldm": "ldm_train", "train_unet": "unet_train"}
"""Entry point -> the config section of its training schedule (steps, val_every, checkpoint_every)."""


@dataclass(frozen=True)
class Series:
    """The history of one metric, ordered by (step, logging time)."""

    steps: np.ndarray
    """(N,) int64 steps."""
    values: np.ndarray
    """(N,) float64 values (NaN and inf kept as logged)."""
    timestamps_ms: np.ndarray
    """(N,) int64 logging times, milliseconds since the epoch."""

    @property
    def last(self) -> float:
        """The value at the highest step (the newest one when a step was logged twice)."""
        return float(self.values[-1])

    def finite(self) -> Series:
        """The entries with a finite value."""
        keep = np.isfinite(self.values)
        return Series(self.steps[keep], self.values[keep], self.timestamps_ms[keep])


@dataclass(frozen=True)
class SampleImage:
    """A logged sample grid: its step and its PNG bytes as stored."""

    step: int
    png: bytes


@dataclass(frozen=True)
class RunData:
    """One run as the report sees it."""

    record: RunRecord
    metrics: dict[str, Series]
    """Metric key -> history, for every key the run logged."""
    samples: list[SampleImage] = field(default_factory=list)
    """The first, middle and last sample grids (fewer when fewer were logged)."""
    sample_steps: tuple[int, ...] = ()
    """Every step at which a sample grid was logged."""

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def entry_point(self) -> str:
        return self.record.tags.get("radiodiff.entry_point", "")

    @property
    def label(self) -> str:
        """A short name for legends and tables: `<run name> (<first 8 characters of the id>)`."""
        return f"{self.record.run_name or 'run'} ({self.run_id[:8]})"

    def keys(self, prefix: str) -> list[str]:
        """The logged metric keys that start with `prefix`, sorted."""
        return sorted(k for k in self.metrics if k.startswith(prefix))

    def train_param(self, name: str) -> int | None:
        """An integer `cfg.<train section>.<name>` param of a training run (e.g. steps), None if absent."""
        section = TRAIN_SECTIONS.get(self.entry_point)
        return _int_or_none(self.record.params.get(f"cfg.{section}.{name}")) if section else None

    @property
    def phase_switch(self) -> int | None:
        """The VAE -> VAE-GAN switch step of a train_vae run, None for other runs."""
        return _int_or_none(self.record.params.get(PHASE_PARAM)) if self.entry_point == "train_vae" else None

    def event_steps(self) -> set[int]:
        """Steps at which the run validated, logged sample grids or saved a checkpoint (slow intervals)."""
        events = {int(s) for k in self.keys("val/") for s in self.metrics[k].steps}
        events |= set(self.sample_steps)
        every = self.train_param("checkpoint_every")
        last = int(self.metrics["train/loss"].steps.max()) if "train/loss" in self.metrics else 0
        if every:
            events |= set(range(every, last + 1, every))
        return events


def load_run_data(run_id: str, with_samples: bool = True) -> RunData:
    """Read a run's record, every metric history and (optionally) its first, middle and last sample grids.

    Raises:
        RunNotFound: the tracking store has no run `run_id`.
    """
    record = fetch_run(run_id)
    metrics = {key: _series(run_id, key) for key in record.metric_keys}
    paths = image_artifacts(run_id, SAMPLE_KEY)
    samples = _sample_images(run_id, paths) if with_samples else []
    return RunData(record, metrics, samples, tuple(paths))


def _series(run_id: str, key: str) -> Series:
    points = metric_history(run_id, key)
    return Series(
        steps=np.array([p.step for p in points], dtype=np.int64),
        values=np.array([p.value for p in points], dtype=np.float64),
        timestamps_ms=np.array([p.timestamp_ms for p in points], dtype=np.int64),
    )


def _sample_images(run_id: str, paths: dict[int, str]) -> list[SampleImage]:
    """The first, middle and last of the sample images `paths` (step -> artifact path), each step once."""
    steps = list(paths)
    chosen = sorted({steps[0], steps[len(steps) // 2], steps[-1]}) if steps else []
    return [SampleImage(step, read_artifact(run_id, paths[step])) for step in chosen]


def _int_or_none(text: str | None) -> int | None:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        return None
    return int(value) if math.isfinite(value) else None
