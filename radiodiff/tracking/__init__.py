"""Everything that talks to MLflow while a job runs (run.py) or reads runs back (history.py, for reports).

Jobs use these functions and never import mlflow themselves.
"""

from radiodiff.tracking.heartbeat import STEPS_TAG, keep_alive
from radiodiff.tracking.run import (
    PriorRun,
    RunTracker,
    create_child_run,
    download_checkpoint,
    find_finished_run,
    find_prior_run,
    find_run_with_params,
    prior_run,
    run_tag,
    start_run,
)

__all__ = [
    "STEPS_TAG",
    "PriorRun",
    "RunTracker",
    "create_child_run",
    "download_checkpoint",
    "find_finished_run",
    "find_prior_run",
    "find_run_with_params",
    "keep_alive",
    "prior_run",
    "run_tag",
    "start_run",
]

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
