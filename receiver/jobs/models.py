"""The jobs' rows: the scheduler lease, and APScheduler's job store table.

The schema is owned by the Alembic migrations in `receiver/store/migrations/`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import Field, SQLModel

from receiver.store.columns import utc_column


class SchedulerLease(SQLModel, table=True):
    """Which process runs the time-driven jobs: one holder, renewed before it expires."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200)
    expires_at: datetime = utc_column()


# APScheduler's persistent job store lives in the same database; the table is created by
# the migrations (with exactly the columns APScheduler 3 defines) so that the schema has one
# owner, and is declared here so the migrations and the models are compared whole.
APSCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
