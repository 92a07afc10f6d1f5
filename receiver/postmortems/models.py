"""The postmortem's rows: one postmortem per incident, and its action items.

The schema is owned by the Alembic migrations in `receiver/store/migrations/`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class PostmortemRecord(SQLModel, table=True):
    """A scheduled postmortem and its milestones."""

    __tablename__ = "postmortem"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    scheduled_at: datetime = utc_column()
    scheduled_by: str = text_column()
    drafted_at: datetime | None = utc_column(nullable=True)
    reviewed_at: datetime | None = utc_column(nullable=True)
    exception: str = text_column()
    exception_at: datetime | None = utc_column(nullable=True)


class ActionItemRecord(SQLModel, table=True):
    """A postmortem action item: an owner, a due date, open until closed."""

    __tablename__ = "action_item"
    __table_args__ = (Index("ix_action_item_status_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    title: str = text_column()
    owner: str | None = text_column(nullable=True)
    due_at: datetime | None = utc_column(nullable=True)
    status: str = Field(max_length=16)  # open | closed
    created_at: datetime = utc_column()
    created_by: str = text_column()
    assigned_at: datetime | None = utc_column(nullable=True)  # first with an owner and a due date
    closed_at: datetime | None = utc_column(nullable=True)
    closed_by: str | None = text_column(nullable=True)
