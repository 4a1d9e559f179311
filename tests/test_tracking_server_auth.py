"""`radiodiff server --auth` (MLflow's basic-auth app) on a real PostgreSQL, over plain HTTP: anonymous requests
are refused (401), a user cannot log where nobody granted it (403, default permission READ), and training with
the user's credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD) into an experiment it may edit works."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import PostgresCluster, TrackingServer, request, rest, runs_of
from training_helpers import PROJECT_ROOT, TINY_VAE, run_radiodiff

ADMIN = ("admin", "admin-password-1234")
ALICE = ("alice", "alice-password-5678")


@pytest.fixture
def auth_server(postgres: PostgresCluster, tmp_path: Path) -> Iterator[TrackingServer]:
    server = TrackingServer(postgres.create_database(f"t{uuid.uuid4().hex[:12]}"), tmp_path / "mlartifacts",
                            auth=True, admin=ADMIN)  # fmt: skip
    try:
        yield server.start()
    finally:
        server.close()


def test_anonymous_401_ungranted_403_and_training_with_the_users_credentials(
    auth_server: TrackingServer, tmp_path: Path
) -> None:
    status, _ = request(auth_server.url, "POST", "/api/2.0/mlflow/experiments/search", {"max_results": 10})
    assert status == 401
    assert request(auth_server.url, "GET", "/health")[0] == 200  # load balancers' probe stays open

    team = _create_experiment(auth_server, "team", ADMIN)
    team_run = rest(auth_server, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": team}, user=ADMIN)
    rest(auth_server, "POST", "/api/2.0/mlflow/users/create", {"username": ALICE[0], "password": ALICE[1]}, user=ADMIN)
    assert request(auth_server.url, "GET", "/api/2.0/mlflow/experiments/get", query=f"experiment_id={team}",
                   user=ALICE)[0] == 200  # fmt: skip  # default permission READ
    assert (
        request(auth_server.url, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": team}, user=ALICE)[0] == 403
    )
    metric = {"run_id": team_run["run"]["info"]["run_id"], "key": "train/loss", "value": 1.0, "timestamp": 0}
    assert request(auth_server.url, "POST", "/api/2.0/mlflow/runs/log-metric", metric, user=ALICE)[0] == 403
    assert (
        request(auth_server.url, "POST", "/api/2.0/mlflow/runs/log-metric", metric, user=("alice", "wrong-password"))[0]
        == 401
    )

    own = _create_experiment(auth_server, "alice-vae", ADMIN)
    grant = {"username": ALICE[0], "resource_type": "experiment", "resource_id": own, "permission": "EDIT"}
    rest(auth_server, "POST", "/api/3.0/mlflow/users/permissions/grant", grant, user=ADMIN)
    args = ["train_vae", "--config", str(PROJECT_ROOT / "configs/default.yaml"), "--overrides", TINY_VAE]
    env = {**auth_server.client_env(ALICE), "MLFLOW_EXPERIMENT_NAME": "alice-vae"}
    done = run_radiodiff(args, tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    (run,) = runs_of(auth_server, "train_vae", user=ALICE)
    assert run["info"]["experiment_id"] == own and run["info"]["status"] == "FINISHED"
    assert run["info"]["user_id"] == ALICE[0]


def _create_experiment(server: TrackingServer, name: str, user: tuple[str, str]) -> str:
    return rest(server, "POST", "/api/2.0/mlflow/experiments/create", {"name": name}, user=user)["experiment_id"]


@pytest.mark.slow
def test_a_password_protected_database_serves_auth_without_a_password_in_any_file(tmp_path: Path) -> None:
    cluster = PostgresCluster.start(password="pg-secret-password")
    server = TrackingServer(cluster.create_database("mlflow"), tmp_path / "mlartifacts", auth=True, admin=ADMIN)
    try:
        server.start()  # the auth tables are reached with the password in PGPASSWORD, not in the ini
        rest(server, "POST", "/api/2.0/mlflow/users/create", {"username": ALICE[0], "password": ALICE[1]}, user=ADMIN)
        assert rest(server, "GET", "/api/2.0/mlflow/users/current", user=ALICE)["user"]["username"] == ALICE[0]
        (ini,) = server.state_dir.glob("*.ini")
        assert "pg-secret-password" not in ini.read_text() and ADMIN[1] not in ini.read_text()
    finally:
        server.close()
        cluster.stop()
