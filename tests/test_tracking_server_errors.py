"""`radiodiff server` refuses bad settings before mlflow starts: exit status 2 and one line naming what to fix; the
auth settings it writes hold no password (real processes, a real PostgreSQL for the settings that connect)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from server_helpers import PostgresCluster
from serving_helpers import free_port
from training_helpers import error_lines, run_radiodiff

from radiodiff.server.command import add_arguments, server_command

PASSWORD = "admin-password-1234"


def _server(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """The one error line of `radiodiff server ARGS`, which must exit with status 2."""
    done = run_radiodiff(["server", *args], home, env={"RADIODIFF_SERVER_DB_URI": "", **(env or {})})
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = error_lines(done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return line


def test_no_backend_uri(tmp_path: Path) -> None:
    line = _server(tmp_path)
    assert line.startswith("radiodiff server: error: no tracking database: pass --backend-store-uri")
    assert "RADIODIFF_SERVER_DB_URI" in line


def test_auth_without_the_admin_password(tmp_path: Path) -> None:
    uri = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/mlflow"
    line = _server(tmp_path, "--backend-store-uri", uri, "--auth", env={"MLFLOW_AUTH_ADMIN_PASSWORD": ""})
    assert line == (
        "radiodiff server: error: --auth needs the admin's password: set MLFLOW_AUTH_ADMIN_PASSWORD "
        "(and MLFLOW_AUTH_ADMIN_USERNAME, default admin)"
    )


def test_a_database_that_does_not_answer_is_named_without_its_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    line = _server(tmp_path, "--backend-store-uri", f"postgresql+psycopg2://team:s3cret-pw@127.0.0.1:{port}/mlflow")
    assert line.startswith(
        f"radiodiff server: error: --backend-store-uri postgresql+psycopg2://team:***@127.0.0.1:{port}/mlflow: "
        f"cannot connect to the database at 127.0.0.1:{port} (connection to server at "
    )
    assert "s3cret-pw" not in line


def test_not_a_database_uri(tmp_path: Path) -> None:
    line = _server(tmp_path, "--backend-store-uri", "./mlruns")
    assert line == (
        "radiodiff server: error: --backend-store-uri './mlruns' is not a SQLAlchemy database URI "
        "(postgresql+psycopg2://...)"
    )


def test_postgresql_without_psycopg2(tmp_path: Path) -> None:
    script = (  # psycopg2 absent from this process: a None entry in sys.modules makes its import fail
        "import sys; sys.modules['psycopg2'] = None; from radiodiff.cli import main; "
        "sys.exit(main(['server', '--backend-store-uri', 'postgresql+psycopg2://team@db-host/mlflow']))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == (
        "radiodiff server: error: postgresql+psycopg2:// needs the Python package psycopg2, which is not installed: "
        "pip install 'radiodiff[server]'"
    ), done.stderr


def test_s3_without_boto3(tmp_path: Path) -> None:
    if importlib.util.find_spec("boto3") is not None:
        pytest.skip("boto3 is installed here")
    uri = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/mlflow"
    line = _server(tmp_path, "--backend-store-uri", uri, "--artifacts-destination", "s3://team-bucket/mlflow")
    assert (
        line
        == "radiodiff server: error: --artifacts-destination s3://team-bucket/mlflow: needs boto3: pip install boto3"
    )


def test_the_auth_ini_and_command_line_hold_no_password(
    postgres: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_AUTH_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.delenv("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", raising=False)
    name = f"t{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    uri = f"postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:{postgres.port}/{name}"  # trust: any password works
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--backend-store-uri", uri, "--auth", "--state-dir", str(tmp_path / "state"),
                              "--artifacts-destination", str(tmp_path / "art")])  # fmt: skip
    command, env = server_command(args)

    assert "s3cret-pw" not in " ".join(command)  # the process list shows no password
    ini = Path(env["MLFLOW_AUTH_CONFIG_PATH"])
    assert ini.parent == tmp_path / "state" and "s3cret-pw" not in ini.read_text()
    assert f"database_uri = postgresql+psycopg2://postgres@127.0.0.1:{postgres.port}/{name}" in ini.read_text()
    assert PASSWORD not in ini.read_text() and oct(ini.stat().st_mode & 0o777) == "0o600"
    assert env["PGPASSWORD"] == "s3cret-pw" and env["MLFLOW_BACKEND_STORE_URI"] == uri
    assert env["MLFLOW_AUTH_ADMIN_USERNAME"] == "admin" and env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert command[command.index("--app-name") + 1] == "basic-auth"
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert (tmp_path / "art").is_dir() and command[command.index("--artifacts-destination") + 1] == str(
        tmp_path / "art"
    )
