"""The rows of the response process: roles, status updates, checklist ticks, reminders,
postmortems, action items, and the notification outbox.

Like `models.py`, these describe tables the Alembic migrations own (0004_response).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class RoleRecord(SQLModel, table=True):
    """The current holder of one role of one incident (changes are in the timeline)."""

    __tablename__ = "incident_role"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_incident_role"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str = Field(max_length=32)
    person: str = text_column()
    assigned_at: datetime = utc_column()
    assigned_by: str = text_column()


class StatusUpdateRecord(SQLModel, table=True):
    """One status update as posted (what was said is kept even if templates change)."""

    __tablename__ = "status_update"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = utc_column()
    by: str = text_column()
    status: str = Field(max_length=16)
    severity: str = Field(max_length=8)  # the incident's severity when posted
    impact: str = text_column()
    current_action: str = text_column()
    eta: str = text_column()


class ChecklistTick(SQLModel, table=True):
    """A checklist item ticked by hand (items ticked by events are derived from the facts)."""

    __tablename__ = "checklist_tick"
    __table_args__ = (UniqueConstraint("incident_id", "item", name="uq_checklist_tick"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    item: str = Field(max_length=40)
    at: datetime = utc_column()
    by: str = text_column()
    note: str = text_column()


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
    due_at: datetime = utc_column()
    at: datetime = utc_column()
