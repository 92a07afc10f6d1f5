"""Column types every table shares: one UTC datetime on every backend, and its field helper."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


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


def utc_column(*, nullable: bool = False) -> Any:
    """A model field stored as `UTCDateTime` (not null unless `nullable`)."""
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable))


def text_column(*, nullable: bool = False) -> Any:
    """A model field stored as unbounded `TEXT` (not null unless `nullable`)."""
    return Field(sa_column=Column(Text, nullable=nullable))
