"""Adding to a run after the fact (a report into a finished training run), leaving its state as it was.

`mlflow.start_run(run_id=...)` re-enters any run, but it sets the run RUNNING and leaving it sets FINISHED
with a new end time: a FAILED run would turn FINISHED and its wall time would grow by the gap. So the run's
status and end time are written back afterwards. A run that is still RUNNING belongs to a live (or crashed)
process: it is not re-entered (ending it here would race with its owner); its artifacts go in through the
client, which leaves the run untouched.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

TERMINATED = ("FINISHED", "FAILED", "KILLED")


def add_artifacts(run_id: str, folder: str | Path, artifact_path: str) -> str:
    """Upload a local folder's files into `artifact_path` of an existing run.

    Args:
        run_id: the run to add to; its status and end time are the same afterwards.
        folder: local folder whose files (and sub-folders) are uploaded.
        artifact_path: destination folder inside the run's artifacts, e.g. "report".
    Returns:
        The URI of the destination folder, `runs:/<run_id>/<artifact_path>`.
    """
    client = MlflowClient()
    before = client.get_run(run_id).info
    if before.status not in TERMINATED:
        client.log_artifacts(run_id, str(folder), artifact_path)
        return f"runs:/{run_id}/{artifact_path}"
    try:
        with mlflow.start_run(run_id=run_id, nested=mlflow.active_run() is not None):
            mlflow.log_artifacts(str(folder), artifact_path)
    finally:
        client.set_terminated(run_id, status=before.status, end_time=before.end_time)
    return f"runs:/{run_id}/{artifact_path}"


def set_run_tags(run_id: str, tags: dict[str, str]) -> None:
    """Set tags on a run without re-entering it (its status and end time stay as they are)."""
    client = MlflowClient()
    for key, value in tags.items():
        client.set_tag(run_id, key, str(value))
