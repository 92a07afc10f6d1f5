"""Rota overrides, kept after deletion so calendar feeds can cancel their events.

Revision ID: 0002_rota_overrides
Revises: 0001_incidents
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0002_rota_overrides"
down_revision = "0001_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rota_override",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rotation", sa.String(100), nullable=False),
        sa.Column("layer", sa.String(100), nullable=False),
        sa.Column("person", sa.String(100), nullable=False),
        sa.Column("start_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_rota_override_rotation", "rota_override", ["rotation"])


def downgrade() -> None:
    op.drop_table("rota_override")
