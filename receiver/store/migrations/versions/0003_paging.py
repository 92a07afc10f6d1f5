"""Paging: acknowledgements, the outbox, the page ledger, the scheduler lease and job store.

Revision ID: 0003_paging
Revises: 0002_rota_overrides
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0003_paging"
down_revision = "0002_rota_overrides"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as incident:
        incident.add_column(sa.Column("acknowledged_at", UTCDateTime(), nullable=True))
        incident.add_column(sa.Column("acknowledged_by", sa.Text(), nullable=True))

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("rotation", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("loop", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_outbox_due", "outbox_message", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_message_incident_id", "outbox_message", ["incident_id"])

    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey("outbox_message.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("rotation", sa.String(100), nullable=False),
        sa.Column("person", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("night", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_page_incident_id", "page", ["incident_id"])
    op.create_index("ix_page_rotation", "page", ["rotation"])
    op.create_index("ix_page_person", "page", ["person"])

    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_table("apscheduler_jobs")
    op.drop_table("scheduler_lease")
    op.drop_table("page")
    op.drop_table("outbox_message")
    with op.batch_alter_table("incident") as incident:
        incident.drop_column("acknowledged_by")
        incident.drop_column("acknowledged_at")
