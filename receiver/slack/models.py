"""The Slack feature's rows: the Slack outbox, each incident's channel, and the Slack users
found by e-mail.

The schema is owned by the Alembic migrations in `receiver/store/migrations/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class SlackCall(SQLModel, table=True):
    """One Slack Web API call to make for an incident, written in the transaction of the
    change it tells of and made by the Slack dispatcher, in order per incident.

    `action` is create | topic | invite | post | announce | archive. What to say is rendered
    when queued (`payload["text"]`), with people as `<onwatch-person:NAME>` placeholders the
    dispatcher turns into Slack mentions. `dedup_key` is unique: a change queued twice (a
    retried transaction) is stored once.
    """

    __tablename__ = "slack_call"
    __table_args__ = (
        Index("ix_slack_call_due", "status", "next_attempt_at"),
        UniqueConstraint("dedup_key", name="uq_slack_call_dedup"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    action: str = Field(max_length=20)
    dedup_key: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)  # pending | sent | failed | cancelled
    attempts: int = 0
    next_attempt_at: datetime = utc_column()
    deadline_at: datetime = utc_column()
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)
    last_error: str = text_column()


class SlackChannel(SQLModel, table=True):
    """An incident's Slack channel: wanted when the incident opened, confirmed by Slack
    (`channel_id`, `created_at`, the final `name` after any `name_taken`), archived later."""

    __tablename__ = "slack_channel"

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    name: str = Field(max_length=80)  # without "#"; the final one once created
    channel_id: str = Field(default="", max_length=40)
    created_at: datetime | None = utc_column(nullable=True)
    archived_at: datetime | None = utc_column(nullable=True)
    problem: str = text_column()  # why it was not created (Slack's refusal), or ""


class SlackUser(SQLModel, table=True):
    """A configured person's Slack user id, looked up once by e-mail and kept."""

    __tablename__ = "slack_user"

    person: str = Field(primary_key=True, max_length=100)
    slack_user_id: str = Field(max_length=40, index=True)  # "" when Slack knows no such e-mail
    looked_up_at: datetime = utc_column()
