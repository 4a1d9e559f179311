"""The runs of an experiment as `radiodiff runs` lists them: status (a dead run told from a live one), heartbeat
age and the step reached. Plain dataclasses out; no MLflow entity leaves this module."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from radiodiff.tracking.heartbeat import STEP_TAG, STEPS_TAG, heartbeat_age_s, is_dead
from radiodiff.tracking.history import RunNotFound
from radiodiff.tracking.run import STOPPED_TAG

DEAD = "DEAD"
"""The status shown for a RUNNING run whose process is gone (see `heartbeat.is_dead`)."""
RECENT_RUNS = 20  # listed without --all


@dataclass(frozen=True)
class RunState:
    """One run of the experiment, as far as its status goes."""

    run_id: str
    entry_point: str
    """The radiodiff job (tag radiodiff.entry_point; the MLproject entry point when the job never tagged it)."""
    status: str
    """MLflow's RUNNING, FINISHED, FAILED, KILLED, SCHEDULED, or DEAD."""
    heartbeat_age_s: float | None
    """Seconds since the last heartbeat of a RUNNING or DEAD run; None otherwise."""
    step: int | None
    steps: int | None
    start_time_ms: int
    stopped: str = ""
    """Why training was stopped on purpose (tag radiodiff.stopped, e.g. a pruned sweep trial); "" otherwise."""


def experiment_runs(experiment: str, include_all: bool = False, now_s: float | None = None) -> list[RunState]:
    """The runs of `experiment`, newest first (the RECENT_RUNS newest unless `include_all`).

    Raises:
        RunNotFound: no experiment of that name in the tracking store (one line on the command line).
    """
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise RunNotFound(f"no experiment named {experiment!r} in the tracking store {client.tracking_uri}")
    now = time.time() if now_s is None else now_s
    limit = None if include_all else RECENT_RUNS
    runs, token = [], None
    while True:
        page = client.search_runs(
            [found.experiment_id], order_by=["attributes.start_time DESC"], max_results=limit or 1000, page_token=token
        )
        runs += list(page)
        token = page.token
        if not token or (limit and len(runs) >= limit):
            break
    return [_state(run, now) for run in runs[:limit]]


def _state(run: Run, now: float) -> RunState:
    info, tags = run.info, run.data.tags
    alive_or_dead = info.status == "RUNNING"
    status = DEAD if is_dead(info.status, tags, info.start_time, now) else info.status
    return RunState(
        run_id=info.run_id,
        entry_point=tags.get("radiodiff.entry_point") or tags.get("mlflow.project.entryPoint", ""),
        status=status,
        heartbeat_age_s=heartbeat_age_s(tags, info.start_time, now) if alive_or_dead else None,
        step=_int(tags.get(STEP_TAG)),
        steps=_int(tags.get(STEPS_TAG)),
        start_time_ms=int(info.start_time or 0),
        stopped=tags.get(STOPPED_TAG, ""),
    )


def _int(text: str | None) -> int | None:
    return int(text) if text else None
