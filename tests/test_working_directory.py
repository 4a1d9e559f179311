"""The defaults do not depend on the working directory: `radiodiff train_vae` run from elsewhere resolves the
same settings as from the repository root (where configs/default.yaml lies)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT, runs_by_start


def _train_vae(cwd: Path, home: Path, store: str) -> None:
    environment = {**os.environ, "RADIODIFF_HOME": str(home), "MLFLOW_TRACKING_URI": store}
    done = subprocess.run(
        [sys.executable, "-m", "radiodiff", "train_vae", "--overrides", "vae_train.steps=2"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_train_vae_from_another_directory_uses_the_repository_defaults(mlflow_store: str, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _train_vae(elsewhere, tmp_path, mlflow_store)  # first: the store's artifact root lands under tmp_path
    _train_vae(PROJECT_ROOT, tmp_path, mlflow_store)

    from_elsewhere, from_root = runs_by_start(MlflowClient())
    settings = [
        {k: v for k, v in run.data.params.items() if k.startswith("cfg.")} for run in (from_elsewhere, from_root)
    ]
    assert settings[0] == settings[1]
    assert settings[0]["cfg.generator.maps"] == "400" and settings[0]["cfg.vae_train.steps"] == "2"
    assert (
        not (PROJECT_ROOT / "mlruns").exists()
        or (PROJECT_ROOT / "mlruns").stat().st_mtime < from_root.info.start_time / 1000
    )
