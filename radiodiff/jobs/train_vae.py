"""The `train_vae` job: train the autoencoder in an MLflow run, resume it exactly, register it."""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from evaluation.baselines import mean_map_rmse, mean_value_rmse
from radiodiff.config import Config, ConfigError
from radiodiff.data.icassp.dataset import TARGET_CHANNELS
from radiodiff.inference import log_vae_model
from radiodiff.jobs.common import TrainingData, validation_maps, whole_training_maps
from radiodiff.jobs.training_run import TrainingJob, run_training
from radiodiff.tracking import RunTracker
from radiodiff.training.trainer import ValidationCallback
from radiodiff.training.vae_task import VAETask


def train_vae(
    config: Config,
    resume: str = "",
    nested: bool = False,
    register: bool = True,
    on_validation: ValidationCallback | None = None,
) -> str:
    """Train (or resume) the VAE; returns the MLflow run id.

    Args:
        config: the resolved config (ignored in favour of the checkpoint's when resuming).
        resume: a run id to continue; under `mlflow run --run-id ID` it comes from MLFLOW_RUN_ID.
        nested: open the run as a child of the active run (the `main` pipeline).
        register: register the trained autoencoder as `radiodiff-vae`.
        on_validation: called with (step, scores) after each validation; may stop training (`TrainingStopped`).
    """

    def export(config: Config, checkpoint: Path, step: int, tracker: RunTracker) -> None:
        tracker.set_tags({"radiodiff.vae_uri": log_vae_model(checkpoint, step=step, register=register)})

    job = TrainingJob("train_vae", lambda c: c.vae_train, _build_task, _baselines, export)
    return run_training(job, config, resume=resume, nested=nested, on_validation=on_validation)


def _build_task(config: Config, data: TrainingData) -> tuple[VAETask, Dataset, Config]:
    channels = TARGET_CHANNELS[config.data.target]
    if config.vae.in_channels != channels:
        raise ConfigError(
            f"vae.in_channels = {config.vae.in_channels}, but data.target = {config.data.target} has {channels} "
            f"channel(s): set vae.in_channels={channels}"
        )
    return VAETask(config), data.splits["train"], config


def _baselines(config: Config, data: TrainingData) -> dict[str, float]:
    """RMSE of predicting the mean (whole) training map (the mean value on the icassp layout's maps of mixed
    sizes), on the validation maps val/* is measured on."""
    val = validation_maps(data, config, config.vae_train)
    if config.data.layout == "icassp":
        return {"mean_value_rmse": mean_value_rmse(whole_training_maps(data), val)}
    return {"mean_map_rmse": mean_map_rmse(whole_training_maps(data), val)}
