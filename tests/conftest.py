"""Shared fixtures: an isolated MLflow store (real sqlite in a temp dir), the project root, and a real tracking
server (`radiodiff server`) on a real PostgreSQL cluster."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
    with _client_of(uri, tmp_path, monkeypatch):
        yield uri


@contextmanager
def _client_of(uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test (and the processes it starts) use the tracking store `uri`, with tmp_path as working directory."""
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


@pytest.fixture(scope="session")
def postgres() -> Iterator:
    """A real PostgreSQL cluster on loopback for the whole session (server_helpers.PostgresCluster); the tests
    that need it are skipped where the server binaries are missing (.ci/run installs them)."""
    from server_helpers import PostgresCluster, postgres_bin_dir

    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def tracking_server(postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A running `radiodiff server` (server_helpers.TrackingServer) on a fresh PostgreSQL database, artifacts in
    tmp_path/mlartifacts. The test is its client as with `home`: MLFLOW_TRACKING_URI is the server's URL,
    RADIODIFF_HOME and the working directory are tmp_path."""
    from server_helpers import TrackingServer

    server = TrackingServer(postgres.create_database(f"t{uuid.uuid4().hex[:12]}"), tmp_path / "mlartifacts")
    monkeypatch.setenv("RADIODIFF_HOME", str(tmp_path))
    for variable in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    try:
        server.start()
        with _client_of(server.url, tmp_path, monkeypatch):
            yield server
    finally:
        server.close()


def _forget_active_experiment() -> None:
    """An experiment set by an earlier test belongs to another store: MLflow keeps its id in a module global."""
    mlflow.tracking.fluent._active_experiment_id = None
