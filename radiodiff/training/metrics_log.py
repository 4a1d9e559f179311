"""What the trainer records, when, and under which keys; the MLflow calls themselves live in tracking.py.

Training metrics are logged every `log_every` steps under `train/...`, validation scores under `val/...`,
sample grids under the image key `samples`. A resumed run re-enters its MLflow run: every (key, step) that
the interrupted attempt already stored is skipped, so the history has no duplicated and no missing steps.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)


class Tracker(Protocol):
    """The part of tracking.RunTracker the trainer uses."""

    run_id: str

    def log_metrics(self, metrics: dict[str, float], step: int) -> None: ...
    def log_image(self, key: str, image: np.ndarray, step: int) -> None: ...
    def set_tags(self, tags: dict[str, object]) -> None: ...
    def upload_later(self, folder: Path, artifact_path: str) -> None: ...
    def logged_steps(self, keys: list[str]) -> dict[str, set[int]]: ...
    def logged_image_steps(self, key: str) -> set[int]: ...
    def flush(self) -> None: ...


class MetricsLog:
    """Logging cadence and resume de-duplication for one training run (a no-op without a tracker)."""

    def __init__(self, tracker: Tracker | None, log_every: int, samples_per_step: int, run_id: str = "") -> None:
        """Args: tracker: the run's tracker, None on processes other than rank 0 (nothing is logged there);
        samples_per_step: the global batch (all processes, all accumulated micro-batches); run_id: the run's id
        where there is no tracker."""
        self.tracker = tracker
        self.run_id = tracker.run_id if tracker else run_id
        self.log_every = log_every
        self.samples_per_step = samples_per_step
        self.phase = ""
        self._clock = (time.perf_counter(), 0)
        self.done: dict[str, set[int]] = {}  # per key, the steps the run already holds (read at its first use)
        self.done_images = tracker.logged_image_steps("samples") if tracker else set()

    def start_clock(self, step: int) -> None:
        """Start timing throughput at `step` (the first optimisation step of this process)."""
        self._clock = (time.perf_counter(), step)

    def training(self, step: int, logs: dict[str, float], lr: float, nan_skips: int, every: bool) -> None:
        """Log `train/*` at this step when it is a logging step (or `every` forces it)."""
        if step % self.log_every and not every:
            return
        start_time, start_step = self._clock
        now = time.perf_counter()
        rate = (step - start_step) * self.samples_per_step / max(now - start_time, 1e-9)
        self._clock = (now, step)
        values = {f"train/{k}": v for k, v in logs.items()}
        values.update({"train/lr": lr, "train/samples_per_s": rate, "train/nan_skips": nan_skips})
        self._log(values, step)

    def validation(self, step: int, scores: dict[str, float]) -> None:
        self._log({f"val/{k}": v for k, v in scores.items()}, step)

    def samples(self, step: int, image: np.ndarray) -> None:
        if self.tracker and step not in self.done_images:
            self.tracker.log_image("samples", image, step)

    def set_phase(self, phase: str) -> None:
        if phase != self.phase and self.tracker:
            self.tracker.set_tags({"radiodiff.phase": phase})
        self.phase = phase

    def checkpoint(self, folder: Path, which: str) -> None:
        if self.tracker:
            self.tracker.upload_later(folder, f"checkpoints/{which}")

    def event(self, step: int, message: str) -> None:
        logger.warning("step %d: %s", step, message)
        if self.tracker:
            self.tracker.set_tags({"radiodiff.last_event": f"step {step}: {message}"})

    def flush(self) -> None:
        if self.tracker:
            self.tracker.flush()

    def _log(self, values: dict[str, float], step: int) -> None:
        if not self.tracker:
            return
        unseen = [k for k in values if k not in self.done]
        if unseen:  # whatever keys the task logs: no list of names to keep in step with the tasks
            self.done.update(self.tracker.logged_steps(unseen))
        fresh = {k: v for k, v in values.items() if step not in self.done[k]}
        if fresh:
            self.tracker.log_metrics(fresh, step)
