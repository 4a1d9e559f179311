"""Adding to an existing run after the fact (a report into a finished training run), leaving its state alone.

The files go in through `MlflowClient.log_artifacts(run_id, ...)`, which writes to a run in any state and
leaves its status and end time alone. Re-entering the run with `mlflow.start_run(run_id=...)` instead
would (1) set it RUNNING and, on leaving, FINISHED with a new end time (a FAILED run would turn FINISHED,
the run's wall time would grow), (2) refuse when this process's active experiment (`set_experiment`, e.g.
by a job that ran before) is not the run's, and (3) race with the owner of a run that is still training.
"""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient


def add_artifacts(run_id: str, folder: str | Path, artifact_path: str) -> str:
    """Upload a local folder's files into `artifact_path` of an existing run.

    Args:
        run_id: the run to add to; its status and end time are the same afterwards.
        folder: local folder whose files (and sub-folders) are uploaded.
        artifact_path: destination folder inside the run's artifacts, e.g. "report".
    Returns:
        The URI of the destination folder, `runs:/<run_id>/<artifact_path>`.
    """
    MlflowClient().log_artifacts(run_id, str(folder), artifact_path)
    return f"runs:/{run_id}/{artifact_path}"


def set_run_tags(run_id: str, tags: dict[str, str]) -> None:
    """Set tags on a run without re-entering it (its status and end time stay as they are)."""
    client = MlflowClient()
    for key, value in tags.items():
        client.set_tag(run_id, key, str(value))
