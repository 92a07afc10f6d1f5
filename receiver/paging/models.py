"""The rows of paging: the outbox of messages to pagers, and the ledger of pages sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class OutboxMessage(SQLModel, table=True):
    """A message for a pager, written in the same transaction as the incident change.

    Delivered after the HTTP answer by the dispatcher, retried with back-off until
    `deadline_at`, then marked failed (never dropped). Escalations are messages whose
    `next_attempt_at` lies in the future; acknowledging cancels them.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    rotation: str = Field(max_length=100)
    action: str = Field(max_length=16)  # trigger | acknowledge | resolve | notice
    target: str = Field(max_length=100)  # a layer, "escalation", or "" (ack/resolve)
    level: int = 0
    loop: int = 0
    severity: str = Field(max_length=8)
    status: str = Field(max_length=16)  # pending | sent | failed | cancelled
    attempts: int = 0
    next_attempt_at: datetime = utc_column()
    deadline_at: datetime = utc_column()
    created_at: datetime = utc_column()
    sent_at: datetime | None = utc_column(nullable=True)
    recipient: str = text_column()
    reference: str = text_column()  # the pager's own id
    last_error: str = text_column()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PageRecord(SQLModel, table=True):
    """The page ledger: one row per page delivered to a person."""

    __tablename__ = "page"
    # The monthly report reads a month of pages by time: a covering index answers it alone.
    __table_args__ = (Index("ix_page_at", "at", "person", "rotation", "incident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    message_id: int = Field(foreign_key="outbox_message.id", unique=True)
    rotation: str = Field(max_length=100, index=True)
    person: str = Field(max_length=100, index=True)
    severity: str = Field(max_length=8)
    at: datetime = utc_column()
    night: bool = False


class PagerDutyEventRecord(SQLModel, table=True):
    """A PagerDuty webhook event onwatch has applied, by PagerDuty's `event.id`.

    PagerDuty retries a delivery it did not see answered with 2xx, and anyone holding a
    signed body can send it again: a remembered id is answered 200 without effect. Events
    older than the webhook's window are refused anyway, so rows older than it are pruned
    (by `occurred_at`) whenever one is added: the table holds about an hour of events.
    """

    __tablename__ = "pagerduty_event"
    __table_args__ = (Index("ix_pagerduty_event_occurred_at", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=100, unique=True)  # PagerDuty's are 26 characters
    event_type: str = Field(max_length=100)
    occurred_at: datetime = utc_column()  # PagerDuty's time of the event
    received_at: datetime = utc_column()
