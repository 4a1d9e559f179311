"""The tracking database: a SQLAlchemy URI (PostgreSQL for a team), its driver installed, and a database that answers.

These checks run before `mlflow server` starts, so a missing driver or a database that is down is one line
naming the host and port instead of a traceback from every server worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from radiodiff.config_schema import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

INSTALL_HINT = "pip install 'radiodiff[server]'"
# Driver modules whose pip package has another name.
DRIVER_PACKAGES = {"psycopg2": "radiodiff[server]", "psycopg": "psycopg[binary]", "MySQLdb": "mysqlclient"}
CONNECT_TIMEOUT_S = 5
# The SQLAlchemy dialects MLflow's SQL stores support.
DIALECTS = ("postgresql", "mysql", "mssql", "sqlite")


def parse_uri(uri: str, what: str) -> URL:
    """The SQLAlchemy URL of `uri`; `what` names the option it came from in the error.

    Raises:
        ConfigError: not a SQLAlchemy URI of a database MLflow stores runs in.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(uri)
    except ArgumentError:
        raise ConfigError(f"{what} {uri!r} is not a SQLAlchemy database URI (postgresql+psycopg2://...)") from None
    if url.get_backend_name() not in DIALECTS:
        raise ConfigError(
            f"{what} {hidden(url)}: MLflow keeps runs in {', '.join(DIALECTS)} databases (postgresql+psycopg2://...)"
        )
    return url


def hidden(url: URL) -> str:
    """The URI as it may be printed: the password replaced by ***."""
    return url.render_as_string(hide_password=True)


def address(url: URL) -> str:
    """Where the database listens, for messages: host:port (a socket folder or the file for local databases)."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    host = url.host or url.query.get("host") or "the local socket"
    port = url.port or {"postgresql": 5432, "mysql": 3306, "mssql": 1433}[url.get_backend_name()]
    return f"{host}:{port}"


def check_driver(url: URL) -> None:
    """The URI's Python driver (psycopg2 for postgresql and postgresql+psycopg2) is importable.

    Raises:
        ConfigError: the driver is not installed; the line says what to install.
    """
    try:
        url.get_dialect().import_dbapi()
    except ImportError as err:
        module = err.name or url.get_driver_name()
        hint = f"pip install '{DRIVER_PACKAGES.get(module, module)}'"
        raise ConfigError(
            f"{url.drivername}:// needs the Python package {module}, which is not installed: {hint}"
        ) from None


def check_reachable(url: URL, what: str) -> None:
    """One short connection to the database (at most CONNECT_TIMEOUT_S for PostgreSQL).

    Raises:
        ConfigError: the database does not answer, refuses the login or does not exist; the line names its address.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise ConfigError(
            f"{what} {hidden(url)}: cannot connect to the database at {address(url)} ({reason}); "
            "start it, create the database, or fix the URI"
        ) from None
    finally:
        engine.dispose()
