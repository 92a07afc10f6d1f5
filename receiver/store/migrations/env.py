"""Alembic environment: onwatch always hands in an open connection (see store.Store.upgrade)."""

from __future__ import annotations

from alembic import context

import receiver.paging.models  # noqa: F401  # its tables belong to the metadata too
import receiver.response.models  # noqa: F401
from receiver.incidents.models import SQLModel

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `onwatch db upgrade`, which supplies the database")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
