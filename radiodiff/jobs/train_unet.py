"""The `train_unet` job: train the supervised RadioUNet baseline (Levie et al. 2021) in an MLflow run.

The same Trainer, tracking, checkpoints, resume and processes as train_vae and train_ldm; the run logs the
network as its pyfunc model `model` (the RadioDiff model's inputs, params and output), which `evaluate` scores with
the same code and `evaluate --register` registers as `radiounet` (never as `radiodiff`).
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from radiodiff.config import Config
from radiodiff.inference import log_radiounet_model
from radiodiff.jobs.common import TrainingData, map_baselines
from radiodiff.jobs.training_run import TrainingJob, run_training
from radiodiff.tracking import RunTracker
from radiodiff.training.radiounet_task import RadioUNetTask
from radiodiff.training.trainer import ValidationCallback


def train_unet(
    config: Config, resume: str = "", nested: bool = False, on_validation: ValidationCallback | None = None
) -> str:
    """Train (or resume) the RadioUNet baseline on `config.radiounet` / `config.unet_train`; returns the run id.

    Args:
        config: the resolved config (ignored in favour of the checkpoint's when resuming).
        resume: a run id to continue; under `mlflow run --run-id ID` it comes from MLFLOW_RUN_ID.
        nested: open the run as a child of the active run.
        on_validation: called with (step, scores) after each validation; may stop training (`TrainingStopped`).
    """
    job = TrainingJob("train_unet", lambda c: c.unet_train, _build_task, _baselines, _export)
    return run_training(job, config, resume=resume, nested=nested, on_validation=on_validation)


def _build_task(config: Config, data: TrainingData) -> tuple[RadioUNetTask, Dataset, Config]:
    return RadioUNetTask(config), data.splits["train"], config


def _baselines(config: Config, data: TrainingData) -> dict[str, float]:
    """Free space fitted on the training maps and the mean training map, on the maps val/* is measured on."""
    return map_baselines(data, config, config.unet_train)


def _export(config: Config, checkpoint: Path, step: int, tracker: RunTracker) -> None:
    """Log the network as the run's pyfunc model `model`; `evaluate --register` registers it as `radiounet`."""
    tracker.set_tags({"radiodiff.model_uri": log_radiounet_model(checkpoint, step)})
