"""The rota's rows: stored overrides (who covers a layer of a rotation, and when).

The schema is owned by the Alembic migrations in `receiver/store/migrations/`; these classes
must describe the same tables (a test compares them).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


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
    start_at: datetime = utc_column()
    end_at: datetime = utc_column()
    forced: bool = False
    reason: str = text_column()
    requested_by: str = text_column()
    created_at: datetime = utc_column()
    deleted_at: datetime | None = utc_column(nullable=True)
