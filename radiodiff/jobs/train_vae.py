"""The `train_vae` job: train the autoencoder in an MLflow run, resume it exactly, register it."""

from __future__ import annotations

import os

import torch

from evaluation.baselines import mean_map_rmse
from radiodiff.config import Config, load
from radiodiff.inference import log_vae_model
from radiodiff.jobs.common import find_checkpoint, prepare_data, report_config_changes
from radiodiff.paths import run_dir
from radiodiff.tracking import start_run
from radiodiff.training.checkpoint import CONFIG_FILE
from radiodiff.training.metrics_log import MetricsLog
from radiodiff.training.trainer import Trainer
from radiodiff.training.vae_task import VAETask


def train_vae(config: Config, resume: str = "", nested: bool = False, register: bool = True) -> str:
    """Train (or resume) the VAE; returns the MLflow run id.

    Args:
        config: the resolved config (ignored in favour of the checkpoint's when resuming).
        resume: a run id to continue; under `mlflow run --run-id ID` it comes from MLFLOW_RUN_ID.
        nested: open the run as a child of the active run (the `main` pipeline).
        register: register the trained autoencoder as `radiodiff-vae`.
    """
    run_id = resume or os.environ.get("MLFLOW_RUN_ID", "")
    checkpoint = find_checkpoint(run_id) if run_id else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"run {resume} has no checkpoints/last artifact to resume from")
    if checkpoint is not None:
        config = report_config_changes(config, load(checkpoint / CONFIG_FILE))
    train = config.vae_train
    data = prepare_data(config, seed=train.seed)
    torch.manual_seed(train.seed)
    task = VAETask(config)
    with start_run("train_vae", config, run_name="train_vae", run_id=run_id or None, nested=nested) as tracker:
        tracker.log_dataset(data.root, name=data.name, digest=data.digest, context="training")
        if checkpoint is None and config.data.crop_size is None:
            baseline = mean_map_rmse(data.splits["train"], data.splits["val"])
            tracker.log_metrics({"baseline/mean_map_rmse": baseline}, step=0)
        log = MetricsLog(tracker, config.tracking.log_every, config.data.batch_size * train.grad_accum)
        splits = (data.splits["train"], data.splits["val"])
        trainer = Trainer(task, config, train, splits, run_dir(tracker.run_id), log, resume_from=checkpoint)
        state = trainer.fit()
        if trainer.accelerator.is_main_process:
            best = run_dir(tracker.run_id) / "checkpoints" / "best"
            source = best if best.is_dir() else run_dir(tracker.run_id) / "checkpoints" / "last"
            uri = log_vae_model(source, step=state.step, register=register)
            tracker.set_tags({"radiodiff.vae_uri": uri})
        return tracker.run_id
