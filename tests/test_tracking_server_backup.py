"""README's backup and restore of the team server: pg_dump of the tracking database plus a copy of the artifact
folder, restored into a new database and another folder, serve the same runs and files (slow: two server starts)."""

from __future__ import annotations

import shutil
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from server_helpers import PostgresCluster, TrackingServer, metric_steps, request, rest

pytestmark = pytest.mark.slow


def test_pg_dump_and_the_artifact_folder_restore_the_runs_and_their_files(
    postgres: PostgresCluster, tracking_server: TrackingServer, tmp_path: Path
) -> None:
    experiment = rest(tracking_server, "POST", "/api/2.0/mlflow/experiments/create", {"name": "team"})["experiment_id"]
    run = rest(tracking_server, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": experiment})["run"]["info"]
    for step in (2, 4):
        metric = {"run_id": run["run_id"], "key": "train/loss", "value": 1.0 / step, "timestamp": 0, "step": step}
        rest(tracking_server, "POST", "/api/2.0/mlflow/runs/log-metric", metric)
    proxied = run["artifact_uri"].removeprefix("mlflow-artifacts:/")  # <experiment>/<run>/artifacts
    status, _ = _put(tracking_server, f"/api/2.0/mlflow-artifacts/artifacts/{proxied}/notes/hello.txt", b"hello")
    assert status == 200

    tracking_server.stop()
    dump, restored = tmp_path / "mlflow.dump", f"r{uuid.uuid4().hex[:12]}"
    postgres.client("pg_dump", "--format=custom", f"--file={dump}", tracking_server.backend_uri.rsplit("/", 1)[1])
    postgres.create_database(restored)
    postgres.client("pg_restore", f"--dbname={restored}", "--no-owner", str(dump))
    shutil.move(tracking_server.artifacts_dir, tmp_path / "elsewhere")  # the restored server has only this copy

    server = TrackingServer(postgres.uri(restored), tmp_path / "elsewhere")
    try:
        server.start()
        assert metric_steps(server, run["run_id"], "train/loss") == [2, 4]
        query = urllib.parse.urlencode({"run_id": run["run_id"], "path": "notes/hello.txt"})
        assert request(server.url, "GET", "/get-artifact", query=query) == (200, "hello")
    finally:
        server.close()


def _put(server: TrackingServer, path: str, data: bytes) -> tuple[int, str]:
    """An artifact upload through the server's proxy (raw bytes, not JSON)."""
    call = urllib.request.Request(f"{server.url}{path}", data=data, method="PUT")
    with urllib.request.urlopen(call, timeout=30) as response:
        return response.status, response.read().decode()
