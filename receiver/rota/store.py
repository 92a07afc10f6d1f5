"""Rota overrides in the store, converted to and from the rota's `Override` values."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from receiver.incidents.models import OverrideRecord
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


def deleted_overrides(session: Session, since: datetime) -> list[tuple[Override, datetime]]:
    """Overrides deleted at or after `since`, with when, so feeds can cancel their events."""
    statement = (
        select(OverrideRecord)
        .where(col(OverrideRecord.deleted_at).is_not(None))
        .where(col(OverrideRecord.deleted_at) >= since)
        .order_by(col(OverrideRecord.id))
    )
    found = []
    for record in session.exec(statement):
        assert record.deleted_at is not None
        found.append((to_override(record), record.deleted_at))
    return found
