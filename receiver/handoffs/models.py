"""The handoff's rows: notes for the next shift, and the briefings sent (once per handoff).

The schema is owned by the Alembic migrations in `receiver/store/migrations/`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class HandoffNote(SQLModel, table=True):
    """A note the person on call leaves for the next one; carried by the next briefing."""

    __tablename__ = "handoff_note"

    id: int | None = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=100, index=True)
    at: datetime = utc_column()
    by: str = text_column()
    text: str = text_column()
    briefed_at: datetime | None = utc_column(nullable=True)  # the handoff whose briefing carried it


class HandoffBriefing(SQLModel, table=True):
    """One briefing sent at one handoff of one layer: the unique key makes it exactly once."""

    __tablename__ = "handoff_briefing"
    __table_args__ = (
        UniqueConstraint("rotation", "layer", "handoff_at", name="uq_handoff_briefing"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=100)
    layer: str = Field(max_length=100)
    handoff_at: datetime = utc_column()
    outgoing: str | None = text_column(nullable=True)
    incoming: str | None = text_column(nullable=True)
    sent_at: datetime = utc_column()
    late: bool = False
