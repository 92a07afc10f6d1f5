"""Password hashes for signing in to the web pages (`onwatch user set-password NAME`).

Revision ID: 0009_web_passwords
Revises: 0008_slack
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0009_web_passwords"
down_revision = "0008_slack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_password",
        sa.Column("person", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_password")
