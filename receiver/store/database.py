"""The store: database engine, transactions, schema migrations and health.

SQLite (embedded, WAL mode) is the default; PostgreSQL is for several receiver processes on
several machines. Both get the same guarantees from here: a write transaction either commits
whole or changes nothing, and a database that cannot be reached is reported as
`StoreUnavailable`, which the receiver answers with 503 so that Alertmanager retries.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from receiver.config.settings import DatabaseSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
# Concurrent writers (workers, HA Alertmanager peers) may both try to create the same row;
# the loser's transaction is retried and then finds the winner's row.
WRITE_ATTEMPTS = 3
# How often a waiting SQLite writer tries the cross-process writer lock again.
WRITER_LOCK_POLL_S = 0.001


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
        if mode is not None:  # None: no transaction, every statement stands alone
            connection.exec_driver_sql(f"BEGIN {mode}")


class _WriterLock:
    """Serialises SQLite writers across threads and processes, and lets the next one in at once.

    SQLite's own busy handler sleeps with back-off (up to 100 ms a retry) while another
    connection holds the write lock, so under load writers spend most of their time asleep
    after the lock became free, and the cores idle. Here the threads of a process queue on a
    thread lock, and one of them at a time polls an advisory lock on `<database>.lock`
    (flock) every millisecond; whoever holds both runs BEGIN IMMEDIATE ... COMMIT. SQLite's
    busy timeout stays as the backstop for writers that do not take this lock.
    """

    def __init__(self, path: Path, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._fd_pid = 0  # the process that opened _fd: a forked child must open its own

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the writer lock, or raise StoreUnavailable after the busy timeout."""
        deadline = time.monotonic() + self.timeout_s
        if not self._threads.acquire(timeout=self.timeout_s):
            raise StoreUnavailable("database is locked")
        try:
            fd = self._descriptor()
            if fd is None:  # no usable lock file: SQLite's busy handler alone, as before
                yield
                return
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreUnavailable("database is locked") from None
                    time.sleep(WRITER_LOCK_POLL_S)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self) -> int | None:
        # Called with the thread lock held. flock belongs to the open file, which a forked
        # child shares with its parent: each process opens the file itself.
        if self._fd is None or self._fd_pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                log.warning(
                    "no SQLite writer lock file %s (%s): using the busy handler", self.path, exc
                )
                self._fd = None
            self._fd_pid = os.getpid()
        return self._fd


class Store:
    """Owns the engine; hands out read sessions and all-or-nothing write transactions."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        # SQLite files only; PostgreSQL serialises writers itself, row by row.
        self._writer_lock: _WriterLock | None = None
        url = make_url(settings.url)
        if settings.is_sqlite:
            database = url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                lock_path = Path(database).resolve().with_name(Path(database).name + ".lock")
                self._writer_lock = _WriterLock(lock_path, settings.sqlite_busy_timeout_s)
            self.engine = create_engine(url, connect_args={"check_same_thread": False})
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_s)
            # Engine, not the OptionEngine these are: PostgreSQL uses the plain engine for both.
            self._write_engine: Engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            self._statement_engine: Engine = self.engine.execution_options(sqlite_begin=None)
        else:
            self.engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
            self._write_engine = self._statement_engine = self.engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; StoreUnavailable when the database cannot answer."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc

    @contextmanager
    def read_rows(self) -> Iterator[Connection]:
        """A Core connection for single-statement reads, with no write lock.

        Each statement sees one consistent state of the database; two statements may see
        two. On SQLite no BEGIN/ROLLBACK is sent around them: a hot read is one round trip.
        """
        try:
            with self._statement_engine.connect() as connection:
                yield connection
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc

    def write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction and commit it, retrying lost creation races.

        All or nothing: if `work` raises, nothing it did is kept.
        """

        def once() -> T:
            with Session(self._write_engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result

        return self._write_with_retries(once)

    def write_rows(self, work: Callable[[Connection], T]) -> T:
        """`write` for SQLAlchemy Core: `work` gets the transaction's connection, no ORM.

        Ingestion's hot path uses it: a Session and its unit of work cost more than the few
        statements it runs.
        """

        def once() -> T:
            with self._write_engine.begin() as connection:
                return work(connection)

        return self._write_with_retries(once)

    def _write_with_retries(self, once: Callable[[], T]) -> T:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                # The SQLite writer lock, if any: held from BEGIN IMMEDIATE to COMMIT.
                with self.writer_lock():
                    return once()
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

    def writer_lock(self) -> AbstractContextManager[None]:
        """The SQLite writer lock (nothing on PostgreSQL), for writers outside `write()`.

        APScheduler's job store writes through its own connection: taking this lock queues
        its writes fairly with ingest's instead of leaving them to SQLite's busy back-off,
        which under load stalls the scheduler (and so every page) for seconds.
        """
        return self._writer_lock.held() if self._writer_lock is not None else nullcontext()

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
            with self.writer_lock(), self._write_engine.begin() as connection:
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(_describe(exc)) from exc

    def ensure_schema(self) -> None:
        """Bring the database to the newest schema, or refuse to run against an older one.

        An embedded SQLite file is upgraded, keeping it current by itself; a shared
        database is only checked (SchemaOutOfDate): upgrading it is an operator's
        deliberate step, `onwatch db upgrade`.
        """
        if self.settings.is_sqlite:
            self.upgrade()
        else:
            self.check_schema()

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
