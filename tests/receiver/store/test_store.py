"""The store: migrations, the append-only timeline, SQLite's WAL mode, aware times."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from receiver.config.settings import DatabaseSettings
from receiver.incidents.models import AppendOnlyViolation, IncidentRecord, TimelineEntry
from receiver.store import database
from receiver.store.database import SchemaOutOfDate, Store, StoreUnavailable
from receiver.store.tables import METADATA
from tests.support.records import incident_record

AT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def _add_incident_with_entry(store: Store) -> int:
    def work(session):  # type: ignore[no-untyped-def]
        incident = incident_record()
        session.add(incident)
        session.flush()
        session.add(
            TimelineEntry(incident_id=incident.id, at=AT, kind="note", message="first", data={})
        )
        return incident.id

    return store.write(work)


def test_store_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, METADATA)

    assert differences == []


def test_store_schema_is_current_after_upgrade(store: Store) -> None:
    store.check_schema()
    store.upgrade()  # a second upgrade is a no-op
    store.check_schema()


def test_store_check_schema_refuses_unmigrated_database(tmp_path: Path) -> None:
    store = Store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'empty.db'}"))

    with pytest.raises(SchemaOutOfDate, match="onwatch db upgrade"):
        store.check_schema()


def test_store_ensure_schema_upgrades_an_embedded_sqlite_file(tmp_path: Path) -> None:
    store = Store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'empty.db'}"))

    store.ensure_schema()

    store.check_schema()
    store.dispose()


def test_store_keeps_times_aware_and_exact(store: Store) -> None:
    local = datetime(2026, 10, 25, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    row = incident_record(opened_at=local)
    incident_id = store.write(lambda session: (session.add(row), session.flush(), row.id)[2])

    with store.read() as session:
        stored = session.get(IncidentRecord, incident_id)

    assert stored is not None
    assert stored.opened_at == local
    assert stored.opened_at.tzinfo == UTC


def test_store_refuses_naive_times(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.write(lambda session: session.add(incident_record(opened_at=datetime(2026, 1, 1))))


def test_store_one_open_incident_per_group_is_enforced(store: Store) -> None:
    store.write(lambda session: session.add(incident_record()))

    with pytest.raises(StoreUnavailable, match="write conflict"):
        store.write(lambda session: session.add(incident_record(channel="#inc-other")))

    # A resolved incident of the same group does not count.
    store.write(lambda session: session.add(incident_record(status="resolved", channel="#inc-x")))


def test_store_timeline_is_append_only_in_orm(store: Store) -> None:
    _add_incident_with_entry(store)

    def edit(session):  # type: ignore[no-untyped-def]
        entry = session.get(TimelineEntry, 1)
        entry.message = "rewritten"
        session.add(entry)

    with pytest.raises(AppendOnlyViolation):
        store.write(edit)
    with pytest.raises(AppendOnlyViolation):
        store.write(lambda session: session.delete(session.get(TimelineEntry, 1)))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE timeline_entry SET message = 'rewritten'", "DELETE FROM timeline_entry"],
)
def test_store_timeline_is_append_only_in_database(store: Store, statement: str) -> None:
    _add_incident_with_entry(store)

    with pytest.raises(DBAPIError, match="append-only"):
        store.write(lambda session: session.execute(text(statement)))

    with store.read() as session:
        assert session.get(TimelineEntry, 1).message == "first"  # type: ignore[union-attr]


def test_store_write_is_all_or_nothing(store: Store) -> None:
    def fails_halfway(session):  # type: ignore[no-untyped-def]
        session.add(incident_record())
        session.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.write(fails_halfway)

    with store.read() as session:
        assert session.get(IncidentRecord, 1) is None


def test_store_sqlite_uses_wal(tmp_path: Path) -> None:
    store = Store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'wal.db'}"))
    store.upgrade()

    with store.engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()

    assert mode == "wal"
    store.dispose()


def test_store_ping_reports_unreachable_postgres() -> None:
    store = Store(DatabaseSettings(url="postgresql+psycopg://postgres@127.0.0.1:1/none"))

    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.upgrade()


def test_requests_yield_to_their_process_writer_until_it_is_done(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "YIELD_TO_WRITER_S", 30.0)
    passed = threading.Event()

    def request() -> None:
        store.yield_to_writer()
        passed.set()

    with store.writer_lock():
        waiting = threading.Thread(target=request)
        waiting.start()
        if store.settings.is_sqlite:  # PostgreSQL's writers do not queue on one lock
            assert not passed.wait(0.2)
    waiting.join(5)
    assert passed.is_set()
