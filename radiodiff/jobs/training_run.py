"""One training job inside one MLflow run: resume detection, data, baselines, the trainer, the export.

train_vae and train_ldm differ only in the `TrainingJob` they pass: how to build the task, which baselines to
log at step 0, and how to export the trained model.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from radiodiff.config import Config, TrainConfig, load
from radiodiff.errors import RunConflict
from radiodiff.jobs.common import TrainingData, find_checkpoint, prepare_data, report_config_changes
from radiodiff.paths import run_dir
from radiodiff.tracking import STEPS_TAG, RunTracker, keep_alive, prior_run, start_run
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
    check: Callable[[Config], None] = lambda config: None
    """Raise ConfigError when the config the job will run with (the checkpoint's, when resuming) lacks something."""


def run_training(job: TrainingJob, config: Config, resume: str = "", nested: bool = False) -> str:
    """Train (or resume) in an MLflow run; returns its id.

    Args:
        job: the entry point's specifics.
        config: the resolved config (a resumed run keeps the config it started with).
        resume: run id to continue; under `mlflow run --run-id ID` it comes from MLFLOW_RUN_ID.
        nested: open a child run of the active run (the `main` pipeline).
    Raises:
        RunNotFound: `resume` names no run of the tracking store.
        RunConflict: the run to re-enter belongs to another job, has finished, or is still alive elsewhere.
        ConfigError: the config (the checkpoint's, when resuming) lacks what the job needs (`job.check`).
    """
    run_id = resume or ("" if nested else os.environ.get("MLFLOW_RUN_ID", ""))
    checkpoint = _checkpoint_to_resume(job.entry_point, run_id) if run_id else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"run {resume} has no checkpoints/last artifact to resume from")
    if checkpoint is not None:
        config = report_config_changes(config, load(checkpoint / CONFIG_FILE))
    job.check(config)
    with keep_alive(run_id, config.tracking.heartbeat_s) if run_id else nullcontext():
        return _train(job, config, run_id, checkpoint, nested)


def _train(job: TrainingJob, config: Config, run_id: str, checkpoint: Path | None, nested: bool) -> str:
    train = job.train_config(config)
    data = prepare_data(config, seed=train.seed)
    torch.manual_seed(train.seed)
    task, train_set, config = job.build_task(config, data)
    with start_run(job.entry_point, config, run_name=job.entry_point, run_id=run_id or None, nested=nested) as tracker:
        tracker.log_dataset(data.root, name=data.name, digest=data.digest, context="training")
        tracker.set_tags({STEPS_TAG: train.steps})
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


def _checkpoint_to_resume(entry_point: str, run_id: str) -> Path | None:
    """The last checkpoint of a run this job may re-enter; None for a fresh run (one that `mlflow run` made)."""
    prior = prior_run(run_id)
    if prior.entry_point and prior.entry_point != entry_point:
        raise RunConflict(
            f"run {run_id} is a {prior.entry_point} run, not {entry_point}: resume it with -e {prior.entry_point}"
        )
    if prior.entry_point and prior.state == "finished":
        raise RunConflict(
            f"run {run_id} ({entry_point}) has already FINISHED at step {prior.step or '?'}: nothing to resume"
        )
    if prior.entry_point and prior.state == "live":
        raise RunConflict(
            f"run {run_id} ({entry_point}) is still running (heartbeat {prior.heartbeat_age_s:.0f} s ago): "
            "stop its process first, or wait until `radiodiff runs` shows it DEAD"
        )
    return find_checkpoint(run_id)
