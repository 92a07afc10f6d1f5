"""The rows onwatch stores: incidents, their alerts (by fingerprint) and their timeline.

The schema itself is owned by the Alembic migrations in `migrations/`; these classes must
describe the same tables (a test compares them).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class IncidentStatus(StrEnum):
    """Where an incident is in its life: open until resolved, by Alertmanager or by a person."""

    OPEN = "open"
    RESOLVED = "resolved"


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
    receiver: str = text_column()
    group_key: str = text_column()
    group_labels: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)  # an IncidentStatus
    severity: str = Field(max_length=8)  # SEV1..SEV4; never lowered by alerts
    service: str = text_column()
    title: str = text_column()
    channel: str = Field(max_length=80, unique=True)
    external_url: str = text_column()
    truncated_alerts: int = 0
    opened_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    resolved_at: datetime | None = utc_column(nullable=True)
    acknowledged_at: datetime | None = utc_column(nullable=True)
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
    alertname: str = text_column()
    status: str = Field(max_length=16)  # firing | resolved
    labels: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    annotations: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    generator_url: str = text_column()
    severity: str = Field(max_length=8)
    service: str = text_column()
    rule: str = text_column()
    matched: list[str] = Field(sa_column=Column(JSON, nullable=False))
    starts_at: datetime = utc_column()
    ends_at: datetime | None = utc_column(nullable=True)
    first_seen_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class TimelineEntry(SQLModel, table=True):
    """One event in an incident's history. Append-only: never updated, never deleted."""

    __tablename__ = "timeline_entry"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = utc_column()
    kind: str = Field(max_length=40)
    message: str = text_column()
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
    assert incident.id is not None  # a stored incident: there is no relationship to fill it in
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
