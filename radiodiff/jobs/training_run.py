"""One training job inside one MLflow run: resume detection, data, baselines, the trainer, the export.

train_vae and train_ldm differ only in the `TrainingJob` they pass: how to build the task, which baselines to
log at step 0, and how to export the trained model.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from radiodiff.config import Config, TrainConfig, load
from radiodiff.jobs.common import TrainingData, find_checkpoint, prepare_data, report_config_changes
from radiodiff.paths import run_dir
from radiodiff.tracking import RunTracker, start_run
from radiodiff.training.checkpoint import CONFIG_FILE
from radiodiff.training.metrics_log import MetricsLog
from radiodiff.training.task import TrainingTask
from radiodiff.training.trainer import Trainer


@dataclass(frozen=True)
class TrainingJob:
    """What distinguishes one training entry point from another."""

    entry_point: str
    train_config: Callable[[Config], TrainConfig]
    build_task: Callable[[Config, TrainingData], tuple[TrainingTask, Dataset, Config]]
    """-> (the task, the training dataset it reads (e.g. with cached latents), the config with any value the
    task resolved, e.g. an estimated latent scale factor)."""
    baselines: Callable[[Config, TrainingData], dict[str, float]]
    """Reference scores logged at step 0 of a new run (`baseline/...`)."""
    export: Callable[[Config, Path, int, RunTracker], None]
    """Log/register the trained model from a checkpoint folder at a step."""


def run_training(job: TrainingJob, config: Config, resume: str = "", nested: bool = False) -> str:
    """Train (or resume) in an MLflow run; returns its id.

    Args:
        job: the entry point's specifics.
        config: the resolved config (a resumed run keeps the config it started with).
        resume: run id to continue; under `mlflow run --run-id ID` it comes from MLFLOW_RUN_ID.
        nested: open a child run of the active run (the `main` pipeline).
    """
    run_id = resume or ("" if nested else os.environ.get("MLFLOW_RUN_ID", ""))
    checkpoint = find_checkpoint(run_id) if run_id else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"run {resume} has no checkpoints/last artifact to resume from")
    if checkpoint is not None:
        config = report_config_changes(config, load(checkpoint / CONFIG_FILE))
    train = job.train_config(config)
    data = prepare_data(config, seed=train.seed)
    torch.manual_seed(train.seed)
    task, train_set, config = job.build_task(config, data)
    with start_run(job.entry_point, config, run_name=job.entry_point, run_id=run_id or None, nested=nested) as tracker:
        tracker.log_dataset(data.root, name=data.name, digest=data.digest, context="training")
        if checkpoint is None:
            tracker.log_metrics({f"baseline/{k}": v for k, v in job.baselines(config, data).items()}, step=0)
            summary = task.summary()
            tracker.log_table(summary, "model/summary.json")
            tracker.log_params({"model.parameters": summary["parameters"][-1], "model.gflops": summary["gflops"][-1]})
        log = MetricsLog(tracker, config.tracking.log_every, config.data.batch_size * train.grad_accum)
        folder = run_dir(tracker.run_id)
        trainer = Trainer(task, config, train, (train_set, data.splits["val"]), folder, log, resume_from=checkpoint)
        state = trainer.fit()
        if trainer.accelerator.is_main_process:
            best = folder / "checkpoints" / "best"
            job.export(config, best if best.is_dir() else folder / "checkpoints" / "last", state.step, tracker)
        return tracker.run_id
