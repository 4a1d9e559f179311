"""Where radiodiff keeps local files: generated data sets and the local copies of run checkpoints.

Both live under RADIODIFF_HOME (default: the working directory, i.e. the project root under `mlflow run`),
in `data/` and `outputs/`, which git ignores. The MLflow run's artifacts remain the reference copy.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_VARIABLE = "RADIODIFF_HOME"


def home() -> Path:
    return Path(os.environ.get(HOME_VARIABLE, "."))


def data_home() -> Path:
    """Generated data sets: <home>/data/generated-<fingerprint>."""
    return home() / "data"


def run_dir(run_id: str) -> Path:
    """Local working folder of an MLflow run: <home>/outputs/<run_id> (checkpoints/last, checkpoints/best)."""
    return home() / "outputs" / run_id
