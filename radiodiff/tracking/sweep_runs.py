"""The MLflow side of a sweep: its parent run's launcher runs, its trials' runs, and the dead among them.

Tags: the parent run and every trial run carry `radiodiff.sweep.study`; a trial run also `radiodiff.sweep.trial`
(its number) and `radiodiff.sweep.state` (running, complete, pruned, failed). `mlflow run` creates a new run for
every launch; a launch that joins an existing study turns its run into a short child of the study's parent run
(tag `radiodiff.sweep.launch_of`), so that the trials of every launch land under the one parent.
"""

from __future__ import annotations

import os
import time

import mlflow
from mlflow.tracking import MlflowClient

from radiodiff.errors import RunConflict
from radiodiff.tracking.heartbeat import is_dead
from radiodiff.tracking.history import RunNotFound
from radiodiff.tracking.run import prior_run

STUDY_TAG = "radiodiff.sweep.study"
TRIAL_TAG = "radiodiff.sweep.trial"
STATE_TAG = "radiodiff.sweep.state"
LAUNCH_OF_TAG = "radiodiff.sweep.launch_of"
PARENT_TAG = "mlflow.parentRunId"


def tracking_uri() -> str:
    """The tracking store this process logs to."""
    return mlflow.get_tracking_uri()


def adopt_launcher_run(parent_run_id: str, study: str) -> str:
    """When `mlflow run` made a fresh run for this launch (MLFLOW_RUN_ID) but the study's parent run is another
    one, end that fresh run as a child of the parent saying so, and take MLFLOW_RUN_ID out of the environment (the
    trials then open under the parent). Returns the adopted run's id, "" when there was none.

    Raises:
        RunConflict: MLFLOW_RUN_ID names a run of some job (e.g. `mlflow run --run-id` of another run).
    """
    launcher = os.environ.get("MLFLOW_RUN_ID", "")
    if not launcher or launcher == parent_run_id:
        return ""
    prior = prior_run(launcher)
    if prior.entry_point:
        raise RunConflict(
            f"run {launcher} is a {prior.entry_point} run, not the parent run {parent_run_id} of study {study!r}: "
            f"start the sweep without --run-id, or with --run-id {parent_run_id}"
        )
    client = MlflowClient()
    note = f"This launch continued sweep study `{study}` in its parent run `{parent_run_id}`."
    for key, value in {PARENT_TAG: parent_run_id, LAUNCH_OF_TAG: parent_run_id, "mlflow.note.content": note}.items():
        client.set_tag(launcher, key, value)
    client.set_terminated(launcher, "FINISHED")
    del os.environ["MLFLOW_RUN_ID"]
    return launcher


def check_parent_run(run_id: str, study: str) -> None:
    """The parent run recorded in the study must exist in this tracking store."""
    try:
        prior_run(run_id)
    except RunNotFound:
        raise RunConflict(
            f"study {study!r} belongs to parent run {run_id}, which the tracking store {tracking_uri()} does not hold: "
            "use the store it was swept with, or -P study=NEW_NAME for a new study"
        ) from None


class SweepTrialRuns:
    """Tags the trials' runs (`radiodiff.sweep.objective.TrialRuns`)."""

    def __init__(self, study: str) -> None:
        self.study = study
        self.client = MlflowClient()

    def started(self, number: int) -> str:
        run_id = mlflow.active_run().info.run_id
        tags = {STUDY_TAG: self.study, TRIAL_TAG: number, STATE_TAG: "running", "mlflow.runName": f"trial-{number}"}
        for key, value in tags.items():
            self.client.set_tag(run_id, key, str(value))
        return run_id

    def ended(self, run_id: str, state: str) -> None:
        self.client.set_tag(run_id, STATE_TAG, state)


def run_is_live(run_id: str) -> bool:
    """Whether a trial's run still has a live process (an unknown run is not live)."""
    try:
        return prior_run(run_id).state == "live"
    except RunNotFound:
        return False


def end_dead_children(parent_run_id: str) -> list[str]:
    """End KILLED (tag `radiodiff.sweep.state` = failed) every RUNNING child of the parent run whose process died,
    so that `radiodiff runs` no longer shows it running; returns their ids."""
    client = MlflowClient()
    parent = client.get_run(parent_run_id)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = '{parent_run_id}' and attributes.status = 'RUNNING'",
    )
    ended = []
    for run in children:
        if is_dead(run.info.status, run.data.tags, run.info.start_time, time.time()):
            client.set_tag(run.info.run_id, STATE_TAG, "failed")
            client.set_terminated(run.info.run_id, "KILLED")
            ended.append(run.info.run_id)
    return ended


def run_params(run_id: str) -> dict[str, str]:
    """The params a run holds."""
    return dict(MlflowClient().get_run(run_id).data.params)
