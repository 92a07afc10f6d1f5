"""The pages' rows: each person's password hash (for `web.auth: password`).

The schema is owned by the Alembic migrations in `receiver/store/migrations/`; this class
must describe the same table (a test compares them).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from receiver.store.columns import text_column, utc_column


class PasswordRecord(SQLModel, table=True):
    """One person's password, as a salted hash from werkzeug.security (never the password)."""

    __tablename__ = "web_password"

    person: str = Field(max_length=100, primary_key=True)
    password_hash: str = text_column()
    set_at: datetime = utc_column()
