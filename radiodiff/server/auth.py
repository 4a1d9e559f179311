"""MLflow's basic-auth app for the tracking server: the admin from environment variables, the ini file MLflow reads.

MLflow (3.17) reads its auth settings from the ini file named by MLFLOW_AUTH_CONFIG_PATH and bootstraps the admin
user from MLFLOW_AUTH_ADMIN_USERNAME / MLFLOW_AUTH_ADMIN_PASSWORD on the first start against an empty user store.
radiodiff writes that ini at run time into a state folder outside the repository, without any password: a
password in the auth database URI travels in PGPASSWORD (libpq's variable) instead.

The auth tables (users, roles, role_permissions, user_role_assignments) and their alembic version table
(alembic_version_auth) do not collide with the tracking store's (alembic_version), so by default they live in
the tracking database itself: one database to back up.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
from pathlib import Path

from radiodiff.config_schema import ConfigError
from radiodiff.server.database import INSTALL_HINT, check_driver, check_reachable, hidden, parse_uri

ADMIN_USERNAME = "MLFLOW_AUTH_ADMIN_USERNAME"
ADMIN_PASSWORD = "MLFLOW_AUTH_ADMIN_PASSWORD"
SECRET_KEY = "MLFLOW_FLASK_SERVER_SECRET_KEY"
CONFIG_PATH = "MLFLOW_AUTH_CONFIG_PATH"
DEFAULT_ADMIN = "admin"
MIN_PASSWORD_LENGTH = 12  # MLflow refuses shorter passwords (mlflow.utils.validation._validate_password)
PERMISSIONS = ("READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS")


def admin_from_env() -> tuple[str, str]:
    """(username, password) of the admin MLflow creates on the first start.

    Raises:
        ConfigError: MLFLOW_AUTH_ADMIN_PASSWORD is not set or shorter than MLflow accepts.
    """
    password = os.environ.get(ADMIN_PASSWORD, "")
    if not password:
        raise ConfigError(
            f"--auth needs the admin's password: set {ADMIN_PASSWORD} (and {ADMIN_USERNAME}, default admin)"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"{ADMIN_PASSWORD} is shorter than {MIN_PASSWORD_LENGTH} characters, MLflow's minimum")
    return os.environ.get(ADMIN_USERNAME) or DEFAULT_ADMIN, password


def auth_environment(database_uri: str, default_permission: str, cache_s: int, state_dir: Path) -> dict[str, str]:
    """Check the auth database, write the ini MLflow reads and return the variables the server needs.

    Args:
        database_uri: SQLAlchemy URI of the database that holds users and permissions.
        default_permission: what every user may do on resources nobody granted them (READ, EDIT, ...).
        cache_s: seconds a worker trusts a verified (user, password) pair; 0 hashes the password on every request
            (PBKDF2: about 0.7 s per request on 2 busy CPU cores, so a training job's logging crawls).
        state_dir: folder for the ini file (created; outside the repository).

    Returns:
        MLFLOW_AUTH_CONFIG_PATH, the admin's username, a Flask secret key (unless one is set), and PGPASSWORD when
        the URI carried a password.
    """
    username, _ = admin_from_env()
    if importlib.util.find_spec("flask_wtf") is None:
        raise ConfigError(f"--auth needs Flask-WTF (MLflow's auth extra), which is not installed: {INSTALL_HINT}")
    url = parse_uri(database_uri, "--auth-db-uri")
    check_driver(url)
    check_reachable(url, "--auth-db-uri")
    env = {ADMIN_USERNAME: username}
    if url.password is not None:
        if url.get_backend_name() != "postgresql":
            raise ConfigError(f"--auth-db-uri {hidden(url)}: a password would be written to a file; use PostgreSQL")
        env["PGPASSWORD"] = str(url.password)
        url = url._replace(password=None)  # (URL.set(password=None) keeps it)
    ini = (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {url.render_as_string(hide_password=False)}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {cache_s}\n"
    )
    env[CONFIG_PATH] = str(_write_private(state_dir, ini))
    if not os.environ.get(SECRET_KEY):  # CSRF tokens of the UI; set it to keep sessions across restarts
        env[SECRET_KEY] = secrets.token_hex(32)
    return env


def _write_private(state_dir: Path, text: str) -> Path:
    """`text` in state_dir/basic_auth-<digest>.ini (owner-only): one file per setting, so servers never clash."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / f"basic_auth-{hashlib.sha256(text.encode()).hexdigest()[:12]}.ini"
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text)
    partial.chmod(0o600)
    partial.replace(path)
    return path


def default_state_dir() -> Path:
    """$XDG_STATE_HOME/radiodiff/server, else ~/.local/state/radiodiff/server."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "radiodiff" / "server"
