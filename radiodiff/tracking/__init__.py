"""Everything that talks to MLflow while a job runs (run.py) or reads runs back (history.py, for reports).

Jobs use these functions and never import mlflow themselves.
"""

from radiodiff.tracking.run import (
    RunTracker,
    download_checkpoint,
    find_finished_run,
    run_tag,
    start_run,
)

__all__ = ["RunTracker", "download_checkpoint", "find_finished_run", "run_tag", "start_run"]
