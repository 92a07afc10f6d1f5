"""The rows of the response process: roles, status updates, checklist ticks, reminders,
postmortems, action items, and the notification outbox.

Like `models.py`, these describe tables the Alembic migrations own (0004_response).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from receiver.incidents.models import UTCDateTime


def _utc(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


def _text(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(Text, nullable=nullable))


class RoleRecord(SQLModel, table=True):
    """The current holder of one role of one incident (changes are in the timeline)."""

    __tablename__ = "incident_role"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_incident_role"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str = Field(max_length=32)
    person: str = _text()
    assigned_at: datetime = _utc()
    assigned_by: str = _text()


class StatusUpdateRecord(SQLModel, table=True):
    """One status update as posted (what was said is kept even if templates change)."""

    __tablename__ = "status_update"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = _utc()
    by: str = _text()
    status: str = Field(max_length=16)
    severity: str = Field(max_length=8)  # the incident's severity when posted
    impact: str = _text()
    current_action: str = _text()
    eta: str = _text()


class ChecklistTick(SQLModel, table=True):
    """A checklist item ticked by hand (items ticked by events are derived from the facts)."""

    __tablename__ = "checklist_tick"
    __table_args__ = (UniqueConstraint("incident_id", "item", name="uq_checklist_tick"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    item: str = Field(max_length=40)
    at: datetime = _utc()
    by: str = _text()
    note: str = _text()


class ReminderRecord(SQLModel, table=True):
    """A reminder or escalation the scheduler has done, once per (incident, kind, due time).

    The unique key makes each one happen exactly once, even if two schedulers overlap.
    """

    __tablename__ = "response_reminder"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "due_at", name="uq_response_reminder"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=40)
    due_at: datetime = _utc()
    at: datetime = _utc()


class PostmortemRecord(SQLModel, table=True):
    """A scheduled postmortem and its milestones."""

    __tablename__ = "postmortem"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    scheduled_at: datetime = _utc()
    scheduled_by: str = _text()
    drafted_at: datetime | None = _utc(nullable=True)
    reviewed_at: datetime | None = _utc(nullable=True)
    exception: str = _text()
    exception_at: datetime | None = _utc(nullable=True)


class ActionItemRecord(SQLModel, table=True):
    """A postmortem action item: an owner, a due date, open until closed."""

    __tablename__ = "action_item"
    __table_args__ = (Index("ix_action_item_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    title: str = _text()
    owner: str | None = _text(nullable=True)
    due_at: datetime | None = _utc(nullable=True)
    status: str = Field(max_length=16)  # open | closed
    created_at: datetime = _utc()
    created_by: str = _text()
    assigned_at: datetime | None = _utc(nullable=True)  # first with an owner and a due date
    closed_at: datetime | None = _utc(nullable=True)
    closed_by: str | None = _text(nullable=True)


class NotificationMessage(SQLModel, table=True):
    """A message to a notification target (a chat channel, a webhook, a mailbox).

    Written rendered, in the same transaction as the change it announces, and delivered by
    the notification dispatcher with retries until `deadline_at`, then marked failed
    (never dropped). `dedup_key` + `target` is unique: a message announced twice (two
    overlapping schedulers) is stored once.
    """

    __tablename__ = "notification_message"
    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        UniqueConstraint("dedup_key", "target", name="uq_notification_dedup"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    topic: str = Field(max_length=40)  # status_update | all_clear | reminder | ...
    audience: str = Field(max_length=40)  # exec | team | ... or "" when addressed directly
    target: str = Field(max_length=100)  # the configured notification target's name
    dedup_key: str = Field(max_length=200)
    subject: str = _text()
    text: str = _text()  # rendered, what a person reads
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _utc()
    deadline_at: datetime = _utc()
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(nullable=True)
    last_error: str = _text()


class HandoffNote(SQLModel, table=True):
    """A note the person on call leaves for the next one; carried by the next briefing."""

    __tablename__ = "handoff_note"

    id: int | None = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=100, index=True)
    at: datetime = _utc()
    by: str = _text()
    text: str = _text()
    briefed_at: datetime | None = _utc(nullable=True)  # the handoff whose briefing carried it


class HandoffBriefing(SQLModel, table=True):
    """One briefing sent at one handoff of one layer: the unique key makes it exactly once."""

    __tablename__ = "handoff_briefing"
    __table_args__ = (
        UniqueConstraint("rotation", "layer", "handoff_at", name="uq_handoff_briefing"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=100)
    layer: str = Field(max_length=100)
    handoff_at: datetime = _utc()
    outgoing: str | None = _text(nullable=True)
    incoming: str | None = _text(nullable=True)
    sent_at: datetime = _utc()
    late: bool = False
