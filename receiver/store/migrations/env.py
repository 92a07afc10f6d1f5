"""Alembic environment: onwatch always hands in an open connection (see store.Store.upgrade)."""

from __future__ import annotations

from alembic import context

from receiver.store.tables import METADATA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `onwatch db upgrade`, which supplies the database")

context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
