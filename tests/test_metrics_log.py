"""MetricsLog: logging cadence, resume de-duplication, and the throughput it reports (through a real Trainer)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from radiodiff.config import Config, TrainConfig
from radiodiff.training.metrics_log import MetricsLog
from radiodiff.training.task import StepOutput
from radiodiff.training.trainer import Trainer


class RecordingTracker:
    """The Tracker protocol in memory; `stored` plays the part of what an interrupted attempt already logged."""

    def __init__(self, stored: dict[str, set[int]] | None = None, images: set[int] | None = None) -> None:
        self.run_id = "run-1"
        self.stored = stored or {}
        self.images_stored = images or set()
        self.metrics: list[tuple[int, dict[str, float]]] = []
        self.images: list[int] = []
        self.tags: dict[str, object] = {}

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.metrics.append((step, dict(metrics)))

    def log_image(self, key: str, image: np.ndarray, step: int) -> None:
        self.images.append(step)

    def set_tags(self, tags: dict[str, object]) -> None:
        self.tags.update(tags)

    def upload_later(self, folder: Path, artifact_path: str) -> None:
        pass

    def logged_steps(self, keys: list[str]) -> dict[str, set[int]]:
        return {k: self.stored.get(k, set()) for k in keys}

    def logged_image_steps(self, key: str) -> set[int]:
        return self.images_stored

    def flush(self) -> None:
        pass

    def values(self, key: str) -> list[tuple[int, float]]:
        return [(step, m[key]) for step, m in self.metrics if key in m]


def test_training_metrics_only_every_n_steps_or_when_forced() -> None:
    tracker = RecordingTracker()
    log = MetricsLog(tracker, log_every=5, samples_per_step=8)
    for step in range(1, 13):
        log.training(step, {"loss": 0.5}, lr=1e-3, nan_skips=1, every=step == 12)
    assert [s for s, _ in tracker.values("train/loss")] == [5, 10, 12]
    assert tracker.metrics[0][1].keys() == {"train/loss", "train/lr", "train/samples_per_s", "train/nan_skips"}


def test_resume_skips_steps_the_run_already_stored() -> None:
    tracker = RecordingTracker(stored={"train/loss": {5}, "val/rmse": {5}}, images={5})
    log = MetricsLog(tracker, log_every=5, samples_per_step=8)
    log.training(5, {"loss": 0.5}, lr=1e-3, nan_skips=0, every=False)
    log.validation(5, {"rmse": 0.1})
    log.samples(5, np.zeros((2, 2, 3), np.uint8))
    log.samples(10, np.zeros((2, 2, 3), np.uint8))
    assert tracker.values("train/loss") == [] and tracker.values("train/lr") == [(5, 1e-3)]
    assert tracker.values("val/rmse") == []
    assert tracker.images == [10]


def test_phase_tag_only_on_change_and_no_tracker_is_a_no_op() -> None:
    tracker = RecordingTracker()
    log = MetricsLog(tracker, log_every=1, samples_per_step=1)
    log.set_phase("vae")
    tracker.tags.clear()
    log.set_phase("vae")
    assert tracker.tags == {}
    silent = MetricsLog(None, log_every=1, samples_per_step=1)
    silent.training(1, {"loss": 1.0}, lr=1.0, nan_skips=0, every=True)
    silent.samples(1, np.zeros((2, 2, 3), np.uint8))
    assert silent.run_id == ""


# ----- throughput through the real Trainer --------------------------------------------------------------
STEP_SECONDS = 0.02
BATCH = 4


class Vectors(Dataset):
    def __len__(self) -> int:
        return 64

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"target": torch.full((3,), float(i))}

    def set_epoch(self, epoch: int) -> None:
        pass


class SlowLinearTask:
    """A TrainingTask whose every micro-batch takes at least STEP_SECONDS: true throughput <= BATCH / STEP_SECONDS."""

    kind = "vae"
    main_module = "net"

    def __init__(self) -> None:
        self.net = nn.Linear(3, 1)

    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def optimizers(self, modules: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        return {"net": torch.optim.SGD(modules["net"].parameters(), lr=1e-3)}

    def base_lrs(self) -> dict[str, float]:
        return {"net": 1e-3}

    def compute(self, modules: dict[str, nn.Module], batch: dict[str, Any], step: int) -> StepOutput:
        time.sleep(STEP_SECONDS)
        loss = modules["net"](batch["target"]).square().mean()
        return StepOutput(losses={"net": loss}, logs={"loss": loss.detach()})

    def phase(self, step: int) -> str:
        return "fit"

    def validate(self, model: nn.Module, batches: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        return {"rmse": torch.ones(sum(len(b["target"]) for b in batches))}

    def sample_grid(self, model: nn.Module, batch: dict[str, Any]) -> np.ndarray:
        return np.zeros((2, 2, 3), np.uint8)


def _fit(work: Path, steps: int, resume: Path | None) -> RecordingTracker:
    """Build the tracker, MetricsLog and Trainer in the order train_vae does, and train to `steps`."""
    config = Config().with_overrides({"data.batch_size": BATCH})
    train = TrainConfig(steps=steps, warmup_steps=0, ema_decay=0.0, val_every=100, sample_every=100)
    tracker = RecordingTracker()
    log = MetricsLog(tracker, log_every=5, samples_per_step=BATCH)
    Trainer(SlowLinearTask(), config, train, (Vectors(), Vectors()), work, log, resume_from=resume).fit()
    return tracker


def test_first_throughput_after_resume_counts_only_the_steps_it_timed(tmp_path: Path) -> None:
    _fit(tmp_path, steps=20, resume=None)
    tracker = _fit(tmp_path, steps=25, resume=tmp_path / "checkpoints" / "last")
    (step, rate), *_ = tracker.values("train/samples_per_s")
    assert step == 25
    assert rate <= BATCH / STEP_SECONDS  # every step sleeps STEP_SECONDS: no faster than this is possible
