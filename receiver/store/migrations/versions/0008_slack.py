"""The Slack outbox, incident channels and the Slack users found by e-mail.

Revision ID: 0008_slack
Revises: 0005_pagerduty_events
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0008_slack"
down_revision = "0005_pagerduty_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.UniqueConstraint("dedup_key", name="uq_slack_call_dedup"),
    )
    op.create_index("ix_slack_call_due", "slack_call", ["status", "next_attempt_at"])
    op.create_index("ix_slack_call_incident_id", "slack_call", ["incident_id"])
    op.create_table(
        "slack_channel",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=True),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
    )
    op.create_table(
        "slack_user",
        sa.Column("person", sa.String(100), primary_key=True),
        sa.Column("slack_user_id", sa.String(40), nullable=False),
        sa.Column("looked_up_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_slack_user_slack_user_id", "slack_user", ["slack_user_id"])


def downgrade() -> None:
    op.drop_index("ix_slack_user_slack_user_id", "slack_user")
    op.drop_table("slack_user")
    op.drop_table("slack_channel")
    op.drop_index("ix_slack_call_incident_id", "slack_call")
    op.drop_index("ix_slack_call_due", "slack_call")
    op.drop_table("slack_call")
