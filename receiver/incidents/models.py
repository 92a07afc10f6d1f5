"""The rows onwatch stores: incidents, their alerts (by fingerprint) and their timeline.

The schema itself is owned by the Alembic migrations in `migrations/`; these classes must
describe the same tables (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: onwatch keeps every time aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


class IncidentRecord(SQLModel, table=True):
    """One incident: the life of one Alertmanager group from first firing to resolution."""

    __tablename__ = "incident"
    __table_args__ = (
        # One open incident per group, enforced by the database, so that two workers (or two
        # Alertmanager HA peers) racing on the same group cannot open two incidents.
        Index(
            "ix_incident_one_open_per_group",
            "group_identity",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_incident_group_identity", "group_identity"),
        Index("ix_incident_status_severity", "status", "severity"),
        Index("ix_incident_opened_at", "opened_at"),  # the monthly report reads a month
    )

    id: int | None = Field(default=None, primary_key=True)
    group_identity: str = Field(max_length=64)
    receiver: str = Field(sa_column=Column(Text, nullable=False))
    group_key: str = Field(sa_column=Column(Text, nullable=False))
    group_labels: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)  # open | resolved
    severity: str = Field(max_length=8)  # SEV1..SEV4; never lowered by alerts
    service: str = Field(sa_column=Column(Text, nullable=False))
    title: str = Field(sa_column=Column(Text, nullable=False))
    channel: str = Field(max_length=80, unique=True)
    external_url: str = Field(sa_column=Column(Text, nullable=False))
    truncated_alerts: int = 0
    opened_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    resolved_at: datetime | None = _utc_column(nullable=True)
    acknowledged_at: datetime | None = _utc_column(nullable=True)
    acknowledged_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Who resolved it by hand; None when Alertmanager reported the group resolved.
    resolved_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Set when a person (the IC) chose the severity: alerts then no longer raise it.
    severity_set_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    classification: str | None = Field(default=None, max_length=16)  # actionable | noise
    classification_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    classified_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class AlertRecord(SQLModel, table=True):
    """One alert of an incident, keyed by its Alertmanager fingerprint within the incident."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("incident_id", "fingerprint", name="uq_alert_fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    fingerprint: str = Field(max_length=64)
    alertname: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16)  # firing | resolved
    labels: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    annotations: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    generator_url: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=8)
    service: str = Field(sa_column=Column(Text, nullable=False))
    rule: str = Field(sa_column=Column(Text, nullable=False))
    matched: list[str] = Field(sa_column=Column(JSON, nullable=False))
    starts_at: datetime = _utc_column()
    ends_at: datetime | None = _utc_column(nullable=True)
    first_seen_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class TimelineEntry(SQLModel, table=True):
    """One event in an incident's history. Append-only: never updated, never deleted."""

    __tablename__ = "timeline_entry"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = _utc_column()
    kind: str = Field(max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def add_to_timeline(
    session: Session,
    incident: IncidentRecord,
    now: datetime,
    kind: str,
    message: str,
    **data: object,
) -> None:
    """Append one entry to the incident's timeline (in the caller's transaction)."""
    session.add(
        TimelineEntry(incident_id=incident.id, at=now, kind=kind, message=message, data=data)
    )


class AppendOnlyViolation(RuntimeError):
    """Code tried to change or delete a timeline entry."""


@event.listens_for(Session, "before_flush")
def _timeline_is_append_only(session: Session, _context: Any, _instances: Any) -> None:
    # The database refuses it too (triggers in the migrations); failing here first gives the
    # programmer a clear error instead of a backend-specific one.
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, TimelineEntry) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AppendOnlyViolation("the incident timeline is append-only")


class OverrideRecord(SQLModel, table=True):
    """A stored rota override: `person` covers a layer of a rotation for a range.

    Deleting an override keeps the row (with `deleted_at`) so that calendar feeds can tell
    subscribed calendars to drop the events it had created.
    """

    __tablename__ = "rota_override"

    id: int | None = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=100, index=True)
    layer: str = Field(max_length=100)
    person: str = Field(max_length=100)
    start_at: datetime = _utc_column()
    end_at: datetime = _utc_column()
    forced: bool = False
    reason: str = Field(sa_column=Column(Text, nullable=False))
    requested_by: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _utc_column()
    deleted_at: datetime | None = _utc_column(nullable=True)
