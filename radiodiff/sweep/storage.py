"""Where a sweep's Optuna study lives: an RDB of its own, beside the tracking store and never inside it.

Default: `sqlite:///<RADIODIFF_HOME>/sweeps/optuna.db`. A team gives the study a database of its own on its
PostgreSQL server (`-P storage=postgresql+psycopg2://USER@HOST:PORT/optuna`). Optuna and MLflow both keep an
`alembic_version` table for their migrations, so one database cannot hold both: a storage URI that names the
tracking store's database is refused.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import optuna
from optuna.storages import RDBStorage
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from radiodiff.config import ConfigError
from radiodiff.paths import home

SQLITE_TIMEOUT_S = 60  # parallel sweep processes on one sqlite file wait this long for its write lock
INIT_ATTEMPTS = 3


def default_storage() -> str:
    """`sqlite:///<RADIODIFF_HOME>/sweeps/optuna.db` (absolute: the same study whatever the working folder)."""
    return f"sqlite:///{(home() / 'sweeps' / 'optuna.db').resolve()}"


def shown(storage: str) -> str:
    """The storage URI without its password (for params and messages)."""
    try:
        return make_url(storage).render_as_string(hide_password=True)
    except ArgumentError:
        return storage


def check_not_tracking_store(storage: str, tracking_uri: str) -> None:
    """Refuse a storage URI that names the tracking store's own database (both use an `alembic_version` table)."""
    study, tracking = _database(storage), _database(tracking_uri)
    if study is not None and study == tracking:
        raise ConfigError(
            f"storage {shown(storage)} is the tracking store's database: Optuna and MLflow both keep an "
            "alembic_version table; give the study a database of its own (default: sweeps/optuna.db beside it)"
        )


def open_storage(storage: str, heartbeat_s: int, grace_s: int) -> RDBStorage:
    """Optuna's RDB storage with trial heartbeats (a trial whose process stops beating for `grace_s` is FAIL).

    Raises:
        ConfigError: one line when the URI is malformed, its driver is missing or the database cannot be opened.
    """
    url = _parse(storage)
    kwargs = {}
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    failure: SQLAlchemyError | None = None
    for attempt in range(INIT_ATTEMPTS):  # two sweeps creating the same new schema at once: a retry sees it made
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.9, and work
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(storage, engine_kwargs=kwargs, heartbeat_interval=heartbeat_s, grace_period=grace_s)
        except ImportError as err:
            raise ConfigError(f"storage {shown(storage)}: its database driver is missing ({err})") from None
        except SQLAlchemyError as err:
            failure = err
            time.sleep(0.5 * (attempt + 1))
    first = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
    raise ConfigError(f"storage {shown(storage)}: cannot open the database ({first})")


def _parse(storage: str) -> URL:
    try:
        return make_url(storage)
    except ArgumentError:
        raise ConfigError(
            f"storage {storage!r} is not a database URI: use sqlite:///PATH or postgresql+psycopg2://USER@HOST/DB"
        ) from None


def _database(uri: str) -> tuple[str, str, int | None, str] | None:
    """(backend, host, port, database) of an SQLAlchemy URI, the sqlite file resolved; None for anything else
    (an http:// tracking server keeps its database out of sight)."""
    try:
        url = make_url(uri)
    except ArgumentError:
        return None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return (backend, "", None, str(Path(url.database).resolve()) if url.database else ":memory:")
    return (backend, url.host or "localhost", url.port, url.database or "")
