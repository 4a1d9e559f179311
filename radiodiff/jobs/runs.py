"""`radiodiff runs`: the runs of an experiment as a table, with the command that resumes a dead training run."""

from __future__ import annotations

import time

from radiodiff.tracking.run_list import DEAD, RunState, experiment_runs

RESUMABLE_ENTRY_POINTS = ("train_vae", "train_ldm", "train_unet")
RESUMABLE_STATUSES = (DEAD, "FAILED", "KILLED")
COLUMNS = ("run id", "entry point", "status", "heartbeat", "step", "started", "resume with")


def resume_command(run: RunState) -> str:
    """`mlflow run . -e <entry> --env-manager local --run-id <id>` for a training run that did not finish (and was
    not stopped on purpose, as a pruned sweep trial is); else ""."""
    if run.entry_point not in RESUMABLE_ENTRY_POINTS or run.status not in RESUMABLE_STATUSES or run.stopped:
        return ""
    return f"mlflow run . -e {run.entry_point} --env-manager local --run-id {run.run_id}"


def runs_table(experiment: str, include_all: bool = False) -> str:
    """The experiment's runs, newest first, as an aligned plain-text table (header line first)."""
    rows = [COLUMNS, *(_row(run) for run in experiment_runs(experiment, include_all))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([f"experiment {experiment!r}: {len(rows) - 1} run(s)", *lines])


def _row(run: RunState) -> tuple[str, ...]:
    heartbeat = "-" if run.heartbeat_age_s is None else f"{run.heartbeat_age_s:.0f} s ago"
    step = "-" if run.step is None else str(run.step) + ("" if run.steps is None else f"/{run.steps}")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.start_time_ms / 1000))
    return (run.run_id, run.entry_point or "-", run.status, heartbeat, step, started, resume_command(run) or "-")
