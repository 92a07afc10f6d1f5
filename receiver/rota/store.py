"""Rota overrides in the store, converted to and from the rota's `Override` values."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from receiver.config.settings import Settings
from receiver.rota.models import OverrideRecord
from receiver.store.database import Store
from scheduler.feeds import feed_window
from scheduler.overrides import Override


def to_override(record: OverrideRecord) -> Override:
    """The rota's value for a stored override."""
    assert record.id is not None
    return Override(
        id=record.id,
        rotation=record.rotation,
        layer=record.layer,
        person=record.person,
        start=record.start_at,
        end=record.end_at,
        created_at=record.created_at,
        forced=record.forced,
        reason=record.reason,
    )


def active_overrides(session: Session, rotation: str | None = None) -> list[Override]:
    """Every override not deleted (of one rotation, if named), oldest first."""
    statement = select(OverrideRecord).where(col(OverrideRecord.deleted_at).is_(None))
    if rotation is not None:
        statement = statement.where(OverrideRecord.rotation == rotation)
    return [
        to_override(record) for record in session.exec(statement.order_by(col(OverrideRecord.id)))
    ]


def deleted_overrides(session: Session, start: datetime, end: datetime) -> list[Override]:
    """Deleted overrides over [start, end), however long ago deleted: feeds cancel what they
    made and count them in their events' SEQUENCE (which must never fall)."""
    statement = (
        select(OverrideRecord)
        .where(col(OverrideRecord.deleted_at).is_not(None))
        .where(col(OverrideRecord.start_at) < end)
        .where(col(OverrideRecord.end_at) > start)
        .order_by(col(OverrideRecord.id))
    )
    return [to_override(record) for record in session.exec(statement)]


def stored_overrides(settings: Settings, now: datetime) -> tuple[list[Override], list[Override]]:
    """Active overrides, and the deleted ones over the feed window at `now`, from the store;
    none if no database exists yet."""
    database = settings.database
    if database.is_sqlite:
        path = make_url(database.url).database or ""
        if not path or path == ":memory:" or not Path(path).exists():
            return [], []  # nothing was ever stored: the rota is the configuration alone
    store = Store(database)
    try:
        store.ensure_schema()
        with store.read() as session:
            window = feed_window(now, *settings.calendar.window)
            return active_overrides(session), deleted_overrides(session, *window)
    finally:
        store.dispose()
