"""PagerDuty webhook events already applied, so that a replayed event changes nothing.

Revision ID: 0005_pagerduty_events
Revises: 0004_response
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0005_pagerduty_events"
down_revision = "0004_response"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pagerduty_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(100), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_pagerduty_event_occurred_at", "pagerduty_event", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_pagerduty_event_occurred_at", "pagerduty_event")
    op.drop_table("pagerduty_event")
