"""The notification outbox's row: one message to one target, delivered after the commit.

The schema is owned by the Alembic migrations in `receiver/store/migrations/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


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
    subject: str = text_column()
    text: str = text_column()  # rendered, what a person reads
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = utc_column()
    deadline_at: datetime = utc_column()
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)
    last_error: str = text_column()
