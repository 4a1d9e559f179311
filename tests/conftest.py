"""Shared fixtures: an isolated MLflow store (real sqlite in a temp dir) and the project root."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh sqlite tracking store in tmp_path; the test runs with tmp_path as working directory."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    _forget_active_experiment()
    yield uri
    while mlflow.active_run():
        mlflow.end_run()
    _forget_active_experiment()
    mlflow.set_tracking_uri(None)


@pytest.fixture
def home(mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as working directory and RADIODIFF_HOME (generated data, local checkpoints), with the test's store."""
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    return tmp_path


def _forget_active_experiment() -> None:
    """An experiment set by an earlier test belongs to another store: MLflow keeps its id in a module global."""
    mlflow.tracking.fluent._active_experiment_id = None
