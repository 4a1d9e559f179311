"""Everything that talks to MLflow while a job runs (run.py) or reads runs back (history.py, for reports).

Jobs use these functions and never import mlflow themselves.
"""

from radiodiff.tracking.run import (
    RunTracker,
    download_checkpoint,
    find_finished_run,
    find_run_with_params,
    run_tag,
    start_run,
)

__all__ = ["RunTracker", "download_checkpoint", "find_finished_run", "find_run_with_params", "run_tag", "start_run"]

# Reading runs back (reports) and adding to a run after the fact.
from radiodiff.tracking.amend import add_artifacts, set_run_tags
from radiodiff.tracking.history import (
    MetricPoint,
    RunNotFound,
    RunRecord,
    fetch_run,
    image_artifacts,
    latest_training_run,
    metric_history,
    read_artifact,
)

__all__ += [
    "MetricPoint",
    "RunNotFound",
    "RunRecord",
    "add_artifacts",
    "fetch_run",
    "image_artifacts",
    "latest_training_run",
    "metric_history",
    "read_artifact",
    "set_run_tags",
]
