"""The store: database engine, transactions, schema migrations and health.

SQLite (embedded, WAL mode) is the default; PostgreSQL is for several receiver processes on
several machines. Both get the same guarantees from here: a write transaction either commits
whole or changes nothing, and a database that cannot be reached is reported as
`StoreUnavailable`, which the receiver answers with 503 so that Alertmanager retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from receiver.config import DatabaseSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
# Concurrent writers (workers, HA Alertmanager peers) may both try to create the same row;
# the loser's transaction is retried and then finds the winner's row.
WRITE_ATTEMPTS = 3


class StoreUnavailable(Exception):
    """The database cannot be used right now (down, locked too long, unreachable)."""


class SchemaOutOfDate(Exception):
    """The database schema is not at the revision this code expects."""


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up
    # front; take over (SQLAlchemy's documented recipe) so writers can BEGIN IMMEDIATE and
    # never deadlock on a lock upgrade under several gunicorn workers.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode except on power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """Owns the engine; hands out read sessions and all-or-nothing write transactions."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        url = make_url(settings.url)
        if settings.is_sqlite:
            database = url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"check_same_thread": False})
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_s)
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        else:
            self.engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
            self._write_engine = self.engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; StoreUnavailable when the database cannot answer."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc

    def write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction and commit it, retrying lost creation races.

        All or nothing: if `work` raises, nothing it did is kept.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with Session(self._write_engine, expire_on_commit=False) as session:
                    result = work(session)
                    session.commit()
                    return result
            except IntegrityError as exc:
                if not _lost_creation_race(exc):
                    raise
                if attempt == WRITE_ATTEMPTS:
                    # Still conflicting: let the client retry later rather than fail it.
                    log.warning("write conflict persisted after %d attempts: %s", attempt, exc)
                    raise StoreUnavailable("write conflict with concurrent requests") from exc
                log.info("write conflict with a concurrent request; retrying (%d)", attempt)
            except (OperationalError, PoolTimeout) as exc:
                raise StoreUnavailable(_describe(exc)) from exc
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a trivial query now."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (DBAPIError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration (Alembic `upgrade head`)."""
        try:
            with self._write_engine.begin() as connection:
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc

    def check_schema(self) -> None:
        """Raise SchemaOutOfDate unless the database is at the newest migration."""
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        try:
            with self.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc
        if current != head:
            raise SchemaOutOfDate(
                f"database schema is at revision {current or 'none'}, this onwatch needs {head}: "
                "run `onwatch db upgrade --config PATH`"
            )

    def dispose(self) -> None:
        """Close every pooled connection (tests, and workers before exit)."""
        self.engine.dispose()


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _lost_creation_race(exc: IntegrityError) -> bool:
    """A unique index refused a row a concurrent transaction created first."""
    original = exc.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(original)  # SQLite


def _describe(exc: Exception) -> str:
    # The driver's first line says what is wrong ("connection refused", "database is
    # locked") without the SQL or parameters, which may hold alert text.
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return first_line or type(original).__name__
