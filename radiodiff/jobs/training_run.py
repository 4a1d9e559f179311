"""One training job inside one MLflow run: resume detection, data, baselines, the trainer, the export.

train_vae and train_ldm differ only in the `TrainingJob` they pass: how to build the task, which baselines to
log at step 0, and how to export the trained model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from accelerate import PartialState
from accelerate.utils import broadcast_object_list
from torch.utils.data import Dataset

from radiodiff.config import Config, TrainConfig, load
from radiodiff.errors import RunConflict
from radiodiff.jobs.common import TrainingData, find_checkpoint, prepare_data, report_config_changes
from radiodiff.paths import run_dir
from radiodiff.tracking import STEPS_TAG, RunTracker, keep_alive, prior_run, start_run
from radiodiff.training.checkpoint import CONFIG_FILE, PROCESSES_KEY, TrainingState, load_state
from radiodiff.training.metrics_log import MetricsLog
from radiodiff.training.processes import job_processes
from radiodiff.training.task import TrainingTask
from radiodiff.training.trainer import Trainer, ValidationCallback

T = TypeVar("T")


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


def run_training(
    job: TrainingJob,
    config: Config,
    resume: str = "",
    nested: bool = False,
    on_validation: ValidationCallback | None = None,
) -> str:
    """Train (or resume) in an MLflow run; returns its id. Under N processes (accelerate launch) every process
    calls this; rank 0 alone owns the MLflow run and the others receive its id.

    Args:
        job: the entry point's specifics.
        config: the resolved config (a resumed run keeps the config it started with).
        resume: run id to continue; under `mlflow run --run-id ID` it comes from MLFLOW_RUN_ID.
        nested: open a child run of the active run (the `main` pipeline).
        on_validation: called with (step, scores) after each validation (`Trainer`); a sweep's pruner.
    Raises:
        TrainingStopped: `on_validation` stopped training; the run ended KILLED (tag `radiodiff.stopped`).
        RunNotFound: `resume` names no run of the tracking store.
        RunConflict: the run to re-enter belongs to another job, has finished, or is still alive elsewhere.
        ConfigError: the config (the checkpoint's, when resuming) lacks what the job needs (`job.check`).
    """
    state = job_processes(job.train_config(config).collective_timeout_s)
    run_id, checkpoint, config = _on_main_then_everywhere(state, lambda: _plan(job, config, resume, nested))
    with state.local_main_process_first():  # a machine without rank 0's copy downloads it once
        if checkpoint is not None and not (checkpoint / CONFIG_FILE).is_file():
            checkpoint = find_checkpoint(run_id)
    beat = keep_alive(run_id, config.tracking.heartbeat_s) if run_id and state.is_main_process else nullcontext()
    with beat:
        return _train(job, config, run_id, checkpoint, nested, state, on_validation)


def _plan(job: TrainingJob, config: Config, resume: str, nested: bool) -> tuple[str, Path | None, Config]:
    """(run id to enter or "", its checkpoint or None, the config to run with), checked (rank 0's work)."""
    run_id = resume or ("" if nested else os.environ.get("MLFLOW_RUN_ID", ""))
    checkpoint = _checkpoint_to_resume(job.entry_point, run_id) if run_id else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"run {resume} has no checkpoints/last artifact to resume from")
    if checkpoint is not None:
        config = report_config_changes(config, load(checkpoint / CONFIG_FILE))
        _check_process_count(run_id, load_state(checkpoint))
    job.check(config)
    return run_id, checkpoint, config


def _train(
    job: TrainingJob,
    config: Config,
    run_id: str,
    checkpoint: Path | None,
    nested: bool,
    state: PartialState,
    on_validation: ValidationCallback | None,
) -> str:
    train = job.train_config(config)
    with state.local_main_process_first():  # one process per machine generates the embedded data set
        data = prepare_data(config, seed=train.seed)
    torch.manual_seed(train.seed)
    task, train_set, config = job.build_task(config, data)
    global_batch = train.batch_for(config.data) * state.num_processes * train.grad_accum
    with _job_run(state, job, config, run_id, nested) as tracker:
        run_id = _on_main_then_everywhere(state, lambda: tracker.run_id)
        if tracker is not None:
            _record_start(tracker, job, config, data, task, checkpoint)
            tracker.log_params({"processes": state.num_processes, "global_batch": global_batch})
            tracker.set_tags({STEPS_TAG: train.steps})
        log = MetricsLog(tracker, config.tracking.log_every, global_batch, run_id=run_id)
        folder = run_dir(run_id)
        datasets = (train_set, data.splits["val"])
        trainer = Trainer(
            task, config, train, datasets, folder, log, resume_from=checkpoint, on_validation=on_validation
        )
        final = trainer.fit()
        if tracker is not None:
            best = folder / "checkpoints" / "best"
            job.export(config, best if best.is_dir() else folder / "checkpoints" / "last", final.step, tracker)
        return run_id


@contextmanager
def _job_run(
    state: PartialState, job: TrainingJob, config: Config, run_id: str, nested: bool
) -> Iterator[RunTracker | None]:
    """The job's MLflow run on rank 0 (opened or re-entered); None on every other process."""
    if not state.is_main_process:
        yield None
        return
    with start_run(job.entry_point, config, run_name=job.entry_point, run_id=run_id or None, nested=nested) as run:
        yield run


def _record_start(
    tracker: RunTracker, job: TrainingJob, config: Config, data: TrainingData, task: TrainingTask, resumed: Path | None
) -> None:
    """What a run records when it starts: its data set; for a new run, the baselines and the model summary."""
    tracker.log_dataset(data.root, name=data.name, digest=data.digest, context="training")
    if resumed is not None:
        return
    tracker.log_metrics({f"baseline/{k}": v for k, v in job.baselines(config, data).items()}, step=0)
    summary = task.summary()
    tracker.log_table(summary, "model/summary.json")
    tracker.log_params({"model.parameters": summary["parameters"][-1], "model.gflops": summary["gflops"][-1]})


def _on_main_then_everywhere(state: PartialState, compute: Callable[[], T]) -> T:
    """`compute()` on rank 0 only, its result (or its exception) handed to every process."""
    if state.num_processes == 1:
        return compute()
    box: list[Any] = [None]
    if state.is_main_process:
        try:
            box = [compute()]
        except Exception as err:  # every process ends with rank 0's error (only rank 0 prints it)
            box = [err]
    broadcast_object_list(box)
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


def _check_process_count(run_id: str, state: TrainingState) -> None:
    """An exact resume needs the process count the run was trained with (its data shares and RNG states)."""
    trained, now = state.extra.get(PROCESSES_KEY, 1), PartialState().num_processes
    if trained != now:
        raise RunConflict(f"run {run_id} was trained with {trained} process(es): resume it with processes={trained}")


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
