"""A job lands in the same MLflow experiment whether `radiodiff` or `mlflow run` started it (real store, real
`mlflow run` processes); a tracking.experiment that disagrees with `mlflow run`'s choice is one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from training_helpers import error_lines, run_mlflow

from radiodiff.cli import main as cli_main

TINY = {"maps": "2", "tx_per_map": "1", "size": "32", "workers": "1"}


@pytest.fixture
def home(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    return tmp_path


def _radiodiff_generate(out_dir: Path) -> int:
    return cli_main(["generate_data", "--out_dir", str(out_dir), *(f"--{k}={v}" for k, v in TINY.items())])


def _entry_points_in(experiment: str) -> list[str]:
    client = MlflowClient()
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    return sorted(run.data.tags.get("radiodiff.entry_point", "") for run in runs)


def test_radiodiff_lands_in_mlflows_default_experiment(home: Path) -> None:
    assert _radiodiff_generate(home / "a") == 0
    assert _entry_points_in("Default") == ["generate_data"]


def test_radiodiff_and_mlflow_run_share_the_experiment_of_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "shared")
    assert _radiodiff_generate(home / "a") == 0
    assert "MLFLOW_EXPERIMENT_ID" not in os.environ  # a job leaves the environment of the next one alone
    launched = run_mlflow("generate_data", home, {**TINY, "out_dir": str(home / "b")})
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert _entry_points_in("shared") == ["generate_data", "generate_data"]
    assert MlflowClient().search_runs([MlflowClient().get_experiment_by_name("Default").experiment_id]) == []


def test_a_configured_experiment_that_disagrees_with_mlflow_run_is_one_line(home: Path) -> None:
    params = {**TINY, "out_dir": str(home / "c"), "overrides": "tracking.experiment=mine"}
    launched = run_mlflow("generate_data", home, params, options=["--experiment-name", "theirs"])
    output = launched.stdout + launched.stderr
    assert launched.returncode != 0 and "Traceback" not in output
    (line,) = error_lines(output)
    assert line.startswith("radiodiff generate_data: error: tracking.experiment = 'mine' but run ")
    assert line.endswith(
        "is in experiment 'theirs': choose the experiment with `mlflow run --experiment-name mine ...` or "
        "MLFLOW_EXPERIMENT_NAME=mine, and leave tracking.experiment empty"
    )
