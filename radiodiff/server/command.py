"""`radiodiff server`: check the settings, then become `mlflow server` (exec: signals and exit status are its own).

    radiodiff server --backend-store-uri postgresql+psycopg2://mlflow@db-host:5432/mlflow \\
        --artifacts-destination /srv/mlartifacts --host 0.0.0.0 --allowed-hosts mlflow.example.org --auth

Clients then use MLFLOW_TRACKING_URI=http://HOST:PORT (and MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD
with --auth). The backend URI reaches mlflow through MLFLOW_BACKEND_STORE_URI, not its command line, so a
password in it does not show in the process list.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from radiodiff.config_schema import ConfigError
from radiodiff.server.artifacts import artifacts_destination
from radiodiff.server.auth import PERMISSIONS, admin_from_env, auth_environment, default_state_dir
from radiodiff.server.database import check_driver, check_reachable, hidden, parse_uri

DB_URI_VARIABLE = "RADIODIFF_SERVER_DB_URI"
JOBS_VARIABLE = "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `radiodiff server`."""
    parser.add_argument(
        "--backend-store-uri",
        default=os.environ.get(DB_URI_VARIABLE, ""),
        help=f"tracking database, postgresql+psycopg2://USER[:PASSWORD]@HOST:PORT/DB (default: ${DB_URI_VARIABLE})",
    )
    parser.add_argument(
        "--artifacts-destination",
        default="mlartifacts",
        help="where the server stores artifacts: a folder (default ./mlartifacts) or s3://bucket/prefix",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    parser.add_argument("--workers", type=int, default=4, help="server worker processes (default 4)")
    parser.add_argument(
        "--allowed-hosts",
        default="",
        help="Host headers accepted beyond loopback, e.g. mlflow.example.org,10.0.0.5:5000",
    )
    parser.add_argument("--cors-allowed-origins", default="", help="browser origins allowed to call the API")
    parser.add_argument("--auth", action="store_true", help="MLflow's basic auth (admin from MLFLOW_AUTH_ADMIN_*)")
    parser.add_argument("--auth-db-uri", default="", help="users and permissions database (default: the tracking one)")
    parser.add_argument(
        "--default-permission",
        choices=PERMISSIONS,
        default="READ",
        help="what users may do where nobody granted them anything (default READ)",
    )
    parser.add_argument(
        "--auth-cache-s",
        type=int,
        default=60,
        help="seconds a worker trusts a checked password (default 60; 0: hash it on every request, slow)",
    )
    parser.add_argument("--state-dir", default="", help="folder for the generated auth ini (default ~/.local/state)")


def server_command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The `mlflow server` command line and the extra environment it runs with, after every check.

    Raises:
        ConfigError: no or a bad backend URI, a missing driver or admin password, a database that does not answer.
    """
    if not args.backend_store_uri:
        raise ConfigError(
            f"no tracking database: pass --backend-store-uri postgresql+psycopg2://... or set {DB_URI_VARIABLE}"
        )
    if args.auth:
        admin_from_env()  # before any connection: the cheapest mistake first
        if args.auth_cache_s < 0:
            raise ConfigError(f"--auth-cache-s {args.auth_cache_s}: expected 0 (no cache) or more seconds")
    url = parse_uri(args.backend_store_uri, "--backend-store-uri")
    check_driver(url)
    destination = artifacts_destination(args.artifacts_destination)
    check_reachable(url, "--backend-store-uri")
    env = {"MLFLOW_BACKEND_STORE_URI": args.backend_store_uri}
    # MLflow's GenAI job runner (scorers, trace rollups: 8 more processes) serves nothing radiodiff logs.
    env[JOBS_VARIABLE] = os.environ.get(JOBS_VARIABLE, "false")
    command = [sys.executable, "-m", "mlflow", "server", "--serve-artifacts", "--artifacts-destination", destination]
    command += ["--host", args.host, "--port", str(args.port), "--workers", str(args.workers)]
    if args.allowed_hosts:
        command += ["--allowed-hosts", args.allowed_hosts]
    if args.cors_allowed_origins:
        command += ["--cors-allowed-origins", args.cors_allowed_origins]
    if args.auth:
        state_dir = Path(args.state_dir).expanduser() if args.state_dir else default_state_dir()
        env |= auth_environment(
            args.auth_db_uri or args.backend_store_uri, args.default_permission, args.auth_cache_s, state_dir
        )
        command += ["--app-name", "basic-auth"]
    return command, env


def serve(args: argparse.Namespace) -> int:
    """Check the settings and replace this process by `mlflow server` (never returns unless a check fails)."""
    command, env = server_command(args)
    url = parse_uri(args.backend_store_uri, "--backend-store-uri")
    auth = f"basic auth on (admin {env['MLFLOW_AUTH_ADMIN_USERNAME']})" if args.auth else "no authentication"
    print(
        f"radiodiff server: http://{args.host}:{args.port}, tracking database {hidden(url)}, "
        f"artifacts {command[command.index('--artifacts-destination') + 1]}, {auth}",
        flush=True,
    )
    os.execve(sys.executable, command, {**os.environ, **env})
