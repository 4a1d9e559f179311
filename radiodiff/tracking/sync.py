"""`radiodiff sync RUN_ID`: send the records a run's process left in its outbox on this machine.

A job whose tracking server stayed away longer than `tracking.outage_wait_s`, or a process killed before its
outbox was empty, leaves records in `<home>/outputs/<run_id>/outbox/`. A resume of the run on this machine sends
them first; `radiodiff sync` sends them without resuming (e.g. when the run resumes on another machine, or has
ended). A run that has ended is reopened for the delivery (MLflow takes metrics only into an active run) and then
given back its status and end time.
"""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from radiodiff.errors import RunConflict, TrackingUnavailable
from radiodiff.paths import run_dir
from radiodiff.tracking.delivery import mlflow_delivery
from radiodiff.tracking.outbox import Outbox, pending_records
from radiodiff.tracking.run import OUTBOX_DIR, prior_run


def sync_run(run_id: str, wait_s: float) -> int:
    """Deliver run `run_id`'s waiting records; returns how many there were.

    Raises:
        RunNotFound: the tracking store holds no such run.
        RunConflict: the run's process is still alive (it delivers its own records).
        TrackingUnavailable: the server did not take them within `wait_s` seconds (they stay on disk).
    """
    folder = run_dir(run_id) / OUTBOX_DIR
    waiting = len(pending_records(folder))
    if not waiting:
        return 0
    prior = prior_run(run_id)
    if prior.state == "live":
        raise RunConflict(f"run {run_id} is still running (heartbeat {prior.heartbeat_age_s:.0f} s ago): it sends them")
    client = MlflowClient()
    info = client.get_run(run_id).info
    if info.status != "RUNNING":
        client.update_run(run_id, status="RUNNING")
    outbox = Outbox(folder, mlflow_delivery(run_id))
    delivered = outbox.wait(wait_s)
    outbox.close()
    if info.status != "RUNNING":
        client.set_terminated(run_id, info.status, end_time=info.end_time)
    if not delivered:
        raise TrackingUnavailable(
            f"the tracking server did not take run {run_id}'s records within {wait_s:.0f} s; they stay in {folder}"
        )
    return waiting
