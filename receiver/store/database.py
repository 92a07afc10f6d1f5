"""The store: database engine, transactions, schema migrations and health.

SQLite (embedded, WAL mode) is the default; PostgreSQL is for several receiver processes on
several machines. Both get the same guarantees from here: a write transaction either commits
whole or changes nothing, and a database that cannot be reached is reported as
`StoreUnavailable`, which the receiver answers with 503 so that Alertmanager retries.

Every wait on the database is bounded, so that a database that stops answering (a network
partition, a stopped proxy) costs a request seconds and a 503, never a worker thread for good:

- SQLite: the busy timeout (`database.sqlite_busy_timeout_s`) and the writer lock's deadline.
- PostgreSQL: `connect_timeout` for a new connection and the pool's checkout timeout
  (`database.connect_timeout_s`); the server's `statement_timeout` for one statement
  (`database.statement_timeout_s`); TCP keepalives and `tcp_user_timeout`, so the kernel
  notices a peer that vanished; and, because none of these notices a peer that still
  acknowledges packets but never answers (a SIGSTOPped proxy does exactly that), a client-side
  deadline on every wait for an answer (`_BoundedConnection`). A pooled connection is pinged
  on checkout within the connect timeout. Once the database was silent, `_SilenceGate` answers
  at once for a moment instead of letting every request wait out the same timeouts.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.abc import PQGen
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from receiver.config.settings import DatabaseSettings
from receiver.store.group_commit import GroupCommit, Together, Work

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
# Concurrent writers (workers, HA Alertmanager peers) may both try to create the same row;
# the loser's transaction is retried and then finds the winner's row.
WRITE_ATTEMPTS = 3
# How often a waiting SQLite writer tries the cross-process writer lock again.
WRITER_LOCK_POLL_S = 0.001
# The longest a request waits for its own process's SQLite writer before starting its CPU
# work (`Store.yield_to_writer`): a batch's write takes a few milliseconds.
YIELD_TO_WRITER_S = 0.05
# The server's own statement_timeout answers first when the server can answer at all; past it
# by this much, the client stops waiting (a silent network).
ANSWER_GRACE_S = 2.0
# After the database was silent, how long requests answer 503 at once before one of them tries
# the database again (per process).
SILENCE_HOLD_S = 1.0
# The same "database unavailable" detail is logged at WARNING at most once in this many seconds
# (an outage would otherwise log a line per request and per dispatcher tick).
UNAVAILABLE_LOG_EVERY_S = 10.0
UNAVAILABLE = "database unavailable"

RV = TypeVar("RV")


class StoreUnavailable(Exception):
    """The database cannot be used right now (down, locked too long, unreachable).

    `str()` is a short reason safe to show a client ("database unavailable", "database is
    locked"): the driver's own message names hosts and ports and goes to the log only, as
    `detail`. `silent` says the database did not answer at all (a timeout, not a refusal).
    """

    def __init__(self, reason: str, *, detail: str | None = None, silent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason
        self.silent = silent


class DatabaseSilent(psycopg.OperationalError):
    """PostgreSQL did not answer within the client-side deadline; the connection is closed."""


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
        self._not_writing = threading.Event()  # clear while this process holds the lock
        self._not_writing.set()

    def wait_until_not_writing(self, timeout_s: float) -> None:
        """Wait (at most `timeout_s`) while a thread of this process holds the lock.

        The holder shares the GIL with the process's other threads: with every thread
        preparing a request, it ran about half the time it held the lock, and the lock, which
        every worker waits for, was held twice as long as its work takes. Threads about to
        start a request's CPU work wait here instead, so that the holder runs alone and the
        other workers, not this one, use the other cores meanwhile.
        """
        self._not_writing.wait(timeout_s)

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
            self._not_writing.clear()
            try:
                yield
            finally:
                self._not_writing.set()
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


def _answer_by(gen: PQGen[RV], deadline: float, limit: float) -> PQGen[RV]:
    """`gen` (one psycopg exchange with the server), raising DatabaseSilent once `deadline`
    has passed with nothing to read.

    psycopg's wait loop resumes the generator with "nothing ready" every poll interval
    (0.1 s), which is where the deadline is checked; data that did arrive is still consumed.
    """
    try:
        state = next(gen)
        while True:
            ready = yield state
            if not ready and time.monotonic() >= deadline:
                raise DatabaseSilent(f"the database did not answer within {limit:g} s")
            state = gen.send(ready)
    except StopIteration as finished:
        result: RV = finished.value
        return result


class _BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server has a deadline.

    libpq has no client-side query timeout: `statement_timeout` is enforced by the server,
    and TCP keepalives and `tcp_user_timeout` only notice a peer whose kernel stopped
    acknowledging. A peer that acknowledges but never answers (a stopped proxy, a hung
    server) would block the calling thread forever. Past the deadline the connection is
    closed (its protocol state is unknown), which SQLAlchemy then sees as a disconnect and
    drops from the pool.
    """

    # Seconds to wait for one answer; None waits as long as the server takes (migrations).
    answer_timeout_s: float | None = None

    def wait(self, gen: PQGen[RV], *args: Any, **kwargs: Any) -> RV:
        """psycopg's `Connection.wait`, bounded by `answer_timeout_s`."""
        limit = self.answer_timeout_s
        if limit is None:
            return super().wait(gen, *args, **kwargs)
        try:
            return super().wait(_answer_by(gen, time.monotonic() + limit, limit), *args, **kwargs)
        except DatabaseSilent:
            self.close()
            raise

    @contextmanager
    def answering_within(self, seconds: float | None) -> Iterator[None]:
        """Use another answer deadline for the block (a short ping, an unbounded migration)."""
        saved, self.answer_timeout_s = self.answer_timeout_s, seconds
        try:
            yield
        finally:
            self.answer_timeout_s = saved


def _postgres_connect_args(settings: DatabaseSettings, url_options: str | None) -> dict[str, Any]:
    """libpq parameters that bound connecting and each statement, and notice a dead peer."""
    connect_s = max(2, math.ceil(settings.connect_timeout_s))  # libpq's minimum is 2 s
    statement_ms = max(1, round(settings.statement_timeout_s * 1000))
    options = f"-c statement_timeout={statement_ms}"
    return {
        "connect_timeout": connect_s,
        # Keep any options the URL itself carries (?options=...); ours come last and win.
        "options": f"{url_options} {options}" if url_options else options,
        # An idle pooled connection whose peer vanished is found within a few seconds, and
        # data the peer never acknowledges fails the connection after the connect timeout.
        "keepalives": 1,
        "keepalives_idle": connect_s,
        "keepalives_interval": max(1, connect_s // 3),
        "keepalives_count": 3,
        "tcp_user_timeout": connect_s * 1000,
    }


class _SilenceGate:
    """After the database went silent, answer StoreUnavailable at once for a moment.

    Without it, while the database is partitioned away every request (and so every worker
    thread) waits out the connect or answer timeout, requests queue behind them, and the
    last in the queue waits many times that. Closed, the gate lets one request through every
    `hold_s` to try the database (the probe); the others fail at once meanwhile. The probe
    succeeding, or failing for any reason other than silence (the database answered), opens
    the gate again. Per process; SQLite never trips it.
    """

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self._lock = threading.Lock()
        self._closed_until = 0.0  # time.monotonic(); 0.0 while the database answers
        self._probing = False

    def trip(self) -> None:
        """The database did not answer: close the gate for `hold_s`."""
        with self._lock:
            self._closed_until = time.monotonic() + self.hold_s
            self._probing = False

    @contextmanager
    def passage(self) -> Iterator[None]:
        """Pass (or raise StoreUnavailable at once while the gate is closed)."""
        if not self._closed_until:  # the usual case: no lock taken
            yield
            return
        with self._lock:
            if not self._closed_until:
                probe = False
            elif self._probing or time.monotonic() < self._closed_until:
                raise StoreUnavailable(
                    UNAVAILABLE,
                    detail="the database did not answer a moment ago; not waiting again yet",
                    silent=True,
                )
            else:
                probe = self._probing = True
        if not probe:
            yield
            return
        try:
            yield
        except StoreUnavailable as exc:
            if not exc.silent:
                self._open()
            raise
        except BaseException:
            self._open()  # the database answered (an error of the request's own)
            raise
        self._open()

    def _open(self) -> None:
        with self._lock:
            self._closed_until = 0.0
            self._probing = False


class Store:
    """Owns the engine; hands out read sessions and all-or-nothing write transactions."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        # SQLite files only; PostgreSQL serialises writers itself, row by row.
        self._writer_lock: _WriterLock | None = None
        self._gate = _SilenceGate(SILENCE_HOLD_S)
        self._last_logged: tuple[str, float] = ("", 0.0)
        url = make_url(settings.url)
        if settings.is_sqlite:
            database = url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                lock_path = Path(database).resolve().with_name(Path(database).name + ".lock")
                self._writer_lock = _WriterLock(lock_path, settings.sqlite_busy_timeout_s)
            # hide_parameters: an error's message (and so any log line) shows the statement,
            # never the values, which carry alert labels and annotations.
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False}, hide_parameters=True
            )
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_s)
            # Engine, not the OptionEngine these are: PostgreSQL uses the plain engine for both.
            self._write_engine: Engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            self._statement_engine: Engine = self.engine.execution_options(sqlite_begin=None)
        else:
            url_options = url.query.get("options")
            self.engine = create_engine(
                url.difference_update_query(["options"]),
                hide_parameters=True,
                # Checked out connections are pinged by _configure_postgres, within the
                # connect timeout rather than the (longer) statement timeout.
                pool_pre_ping=False,
                pool_timeout=settings.connect_timeout_s,
                connect_args=_postgres_connect_args(
                    settings, url_options if isinstance(url_options, str) else None
                ),
            )
            self._configure_postgres()
            self._write_engine = self._statement_engine = self.engine
        self._group_commit = GroupCommit(
            run_together=self._write_together,
            run_alone=self.write_rows,
            unavailable=(StoreUnavailable,),
        )

    def _configure_postgres(self) -> None:
        """Bounded connections, and a ping on checkout that gives up within the connect
        timeout: a connection that went silent in the pool costs seconds, not the
        statement timeout, and a silent ping fails the request at once instead of opening
        yet another connection to a database that does not answer."""
        answer_s = self.settings.statement_timeout_s + ANSWER_GRACE_S
        ping_s = float(max(2, math.ceil(self.settings.connect_timeout_s)))

        @event.listens_for(self.engine, "do_connect")
        def _connect(_dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
            connection = _BoundedConnection.connect(*cargs, **cparams)
            connection.answer_timeout_s = answer_s
            record.info["fresh"] = True  # just connected: no need to ping it at checkout
            return connection

        @event.listens_for(self.engine, "checkout")
        def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            if record.info.pop("fresh", False):
                return
            try:
                with dbapi_connection.answering_within(ping_s):
                    cursor = dbapi_connection.cursor()
                    try:
                        cursor.execute(";")  # what SQLAlchemy's pre-ping sends
                    finally:
                        cursor.close()
            except DatabaseSilent as exc:
                raise self._unavailable(exc) from None
            except psycopg.Error as exc:
                # Closed by the server (a restart): the pool reconnects, as pre-ping would.
                raise DisconnectionError(str(exc)) from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; StoreUnavailable when the database cannot answer."""
        with self._gate.passage():
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    yield session
            except (OperationalError, PoolTimeout) as exc:
                raise self._unavailable(exc) from exc

    @contextmanager
    def read_rows(self) -> Iterator[Connection]:
        """A Core connection for single-statement reads, with no write lock.

        Each statement sees one consistent state of the database; two statements may see
        two. On SQLite no BEGIN/ROLLBACK is sent around them: a hot read is one round trip.
        """
        with self._gate.passage():
            try:
                with self._statement_engine.connect() as connection:
                    yield connection
            except (OperationalError, PoolTimeout) as exc:
                raise self._unavailable(exc) from exc

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

    def on_group_commit(self, observe: Callable[[int], None]) -> None:
        """Tell `observe` how many requests each `write_rows_together` commit served."""
        self._group_commit.on_commit = observe

    def write_rows_together(
        self, work: Callable[[Connection], T], together: Together | None = None
    ) -> T:
        """`write_rows`, sharing its transaction with the other requests of this process that
        write at the same moment (group commit, see `group_commit.py`).

        Returns only once `work`'s transaction committed. `work` runs after the works queued
        before it, on the same connection, so it must read what it depends on itself (as
        ingest does, under the lock) and keep nothing from a run that was rolled back: if a
        work of the batch fails, every work of it runs again, alone. Works that name the same
        `together` are applied by it in one call (one statement per table for all of them).
        """
        return self._group_commit.write(work, together)

    def _write_together(self, works: list[tuple[Work, Together | None]]) -> list[Any]:
        """Run `works` in order in one transaction (neighbours with the same `together`
        by one call of it), and commit it."""
        with self._gate.passage():
            try:
                with self.writer_lock(), self._write_engine.begin() as connection:
                    results: list[Any] = []
                    start = 0
                    while start < len(works):
                        together = works[start][1]
                        end = start + 1
                        while together is not None and end < len(works):
                            if works[end][1] is not together:
                                break
                            end += 1
                        if together is None:
                            results.append(works[start][0](connection))
                        else:
                            results += together(connection, [w for w, _ in works[start:end]])
                        start = end
                    return results
            except (OperationalError, PoolTimeout) as exc:
                raise self._unavailable(exc) from exc

    def _write_with_retries(self, once: Callable[[], T]) -> T:
        with self._gate.passage():
            return self._write_attempts(once)

    def _write_attempts(self, once: Callable[[], T]) -> T:
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
                    log.warning(
                        "write conflict persisted after %d attempts: %s",
                        attempt,
                        describe_database_error(exc),
                    )
                    raise StoreUnavailable("write conflict with concurrent requests") from exc
                log.info("write conflict with a concurrent request; retrying (%d)", attempt)
            except (OperationalError, PoolTimeout) as exc:
                raise self._unavailable(exc) from exc
        raise AssertionError("unreachable")

    def yield_to_writer(self) -> None:
        """Before a request's CPU work: wait while this process writes to SQLite (at most
        YIELD_TO_WRITER_S). Not on PostgreSQL: its transactions wait on the network, which is
        when the other threads should run (measured: slower with the wait)."""
        if self._writer_lock is not None:
            self._writer_lock.wait_until_not_writing(YIELD_TO_WRITER_S)

    def writer_lock(self) -> AbstractContextManager[None]:
        """The SQLite writer lock (nothing on PostgreSQL), for writers outside `write()`.

        APScheduler's job store writes through its own connection: taking this lock queues
        its writes fairly with ingest's instead of leaving them to SQLite's busy back-off,
        which under load stalls the scheduler (and so every page) for seconds.
        """
        return self._writer_lock.held() if self._writer_lock is not None else nullcontext()

    def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers a trivial query now."""
        with self._gate.passage():
            try:
                with self.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
            except (DBAPIError, PoolTimeout) as exc:
                raise self._unavailable(exc) from exc

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration (Alembic `upgrade head`)."""
        try:
            with (
                self.writer_lock(),
                self._write_engine.begin() as connection,
                self._unbounded(connection),
            ):
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except (OperationalError, PoolTimeout) as exc:
            raise self._unavailable(exc) from exc

    @contextmanager
    def _unbounded(self, connection: Connection) -> Iterator[None]:
        """No statement timeout for the block: a migration may rewrite a large table.

        PostgreSQL only (SET LOCAL ends with the transaction); connecting stays bounded.
        """
        driver = connection.connection.driver_connection
        if not isinstance(driver, _BoundedConnection):
            yield
            return
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        with driver.answering_within(None):
            yield

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
            raise self._unavailable(exc) from exc
        if current != head:
            raise SchemaOutOfDate(
                f"database schema is at revision {current or 'none'}, this onwatch needs {head}: "
                "run `onwatch db upgrade --config PATH`"
            )

    def dispose(self) -> None:
        """Close every pooled connection (tests, and workers before exit)."""
        self.engine.dispose()

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        """The StoreUnavailable for a driver or pool failure: the detail goes to the log
        (it names hosts and ports), a silent database closes the gate for a moment."""
        original = getattr(exc, "orig", None) or exc
        silent = isinstance(original, (DatabaseSilent, psycopg.errors.ConnectionTimeout))
        if silent:
            self._gate.trip()
        detail = _describe(exc)
        # SQLite's own words are safe to show (no host, no port), and "locked" tells the
        # client what the writer lock's timeout says too.
        locked = isinstance(original, sqlite3.OperationalError) and "locked" in detail
        now = time.monotonic()
        last_detail, last_at = self._last_logged
        if detail != last_detail or now - last_at >= UNAVAILABLE_LOG_EVERY_S:
            self._last_logged = (detail, now)
            log.warning("database unavailable: %s", detail)
        else:
            log.debug("database unavailable: %s", detail)
        reason = "database is locked" if locked else UNAVAILABLE
        return StoreUnavailable(reason, detail=detail, silent=silent)


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
    # locked") without the SQL or parameters, which may hold alert text. For the log only:
    # it names the database's host and port.
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return first_line or type(original).__name__


def describe_database_error(exc: BaseException) -> str:
    """A database error for the log, without the values it was about.

    A PostgreSQL message may quote the data: the DETAIL line names the key that collided
    ("Key (dedup_key)=(...) already exists"), a data error quotes the bad value. For those
    this keeps what locates the problem (error class, SQLSTATE, constraint, table, column)
    and drops the text. SQLite's messages name constraints and columns, never values, and
    are kept (first line). The SQL statement is added: its parameters are placeholders, and
    the engines run with hide_parameters, so the values never appear.
    """
    original = getattr(exc, "orig", None) or exc
    parts = [type(original).__name__]
    if isinstance(original, psycopg.Error):
        diag = original.diag
        for name, value in (
            ("sqlstate", original.sqlstate),
            ("constraint", diag.constraint_name),
            ("table", diag.table_name),
            ("column", diag.column_name),
        ):
            if value:
                parts.append(f"{name} {value}")
    else:
        lines = str(original).strip().splitlines()
        if lines:
            parts.append(lines[0])
    described = ": ".join(parts[:2]) + "".join(f", {part}" for part in parts[2:])
    statement = getattr(exc, "statement", None)
    if statement:
        described += f" [SQL: {' '.join(str(statement).split())}]"
    return described
