"""`main` does not train a step twice at once: a live train_vae run (a real process) with the same config stops it
with one line; once that process is killed the run counts as dead (main would resume it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from training_helpers import PROJECT_ROOT, TINY_VAE, error_lines

from radiodiff.cli import main as cli_main
from radiodiff.config import load
from radiodiff.data.generator import generate_dataset
from radiodiff.tracking import prior_run
from radiodiff.tracking.run_list import experiment_runs

OVERRIDES = f"{TINY_VAE} vae_train.steps=100000 tracking.heartbeat_s=1"


@pytest.fixture
def home(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    MlflowClient().search_experiments()  # the store exists before two processes use it
    return tmp_path


def test_main_stops_at_a_live_step_and_sees_it_dead_once_killed(home: Path, capsys: pytest.CaptureFixture) -> None:
    root = home / "data-root"
    generate_dataset(load(PROJECT_ROOT / "configs/default.yaml", OVERRIDES).generator, root)
    args = ["--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", OVERRIDES, "--data-dir", str(root)]
    training = subprocess.Popen([sys.executable, "-m", "radiodiff", "train_vae", *args], cwd=home,
                                env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        run_id = _wait_until_training(training)
        assert cli_main(["main", *args]) == 2
        (line,) = error_lines(capsys.readouterr().err)  # MLflow's own INFO lines aside
        assert line.startswith(f"radiodiff main: error: train_vae: run {run_id} with the same config is still running")
    finally:
        training.kill()
        training.wait()
    assert prior_run(run_id).state == "dead"  # its process is gone: main would resume it from its checkpoint


def _wait_until_training(process: subprocess.Popen, timeout_s: float = 300) -> str:
    """The id of the train_vae run once it has logged a training step (its config params are in the store)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and process.poll() is None:
        live = [r for r in experiment_runs("Default") if r.entry_point == "train_vae" and r.status == "RUNNING"]
        if live and live[0].step is not None:
            return live[0].run_id
        time.sleep(0.5)
    raise AssertionError("train_vae never reached a training step")
