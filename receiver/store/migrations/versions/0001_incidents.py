"""Incidents, their alerts and the append-only incident timeline.

Revision ID: 0001_incidents
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0001_incidents"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY_SQLITE = """
CREATE TRIGGER timeline_entry_no_{verb} BEFORE {verb} ON timeline_entry
BEGIN SELECT RAISE(ABORT, 'the incident timeline is append-only'); END
"""
_APPEND_ONLY_POSTGRESQL_FUNCTION = """
CREATE FUNCTION timeline_entry_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the incident timeline is append-only'; END
$$ LANGUAGE plpgsql
"""
_APPEND_ONLY_POSTGRESQL_TRIGGER = """
CREATE TRIGGER timeline_entry_append_only BEFORE UPDATE OR DELETE ON timeline_entry
FOR EACH ROW EXECUTE FUNCTION timeline_entry_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("group_identity", sa.String(64), nullable=False),
        sa.Column("receiver", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("group_labels", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(80), nullable=False, unique=True),
        sa.Column("external_url", sa.Text(), nullable=False),
        sa.Column("truncated_alerts", sa.Integer(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_incident_one_open_per_group",
        "incident",
        ["group_identity"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_incident_group_identity", "incident", ["group_identity"])
    op.create_index("ix_incident_status_severity", "incident", ["status", "severity"])

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("alertname", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("generator_url", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("incident_id", "fingerprint", name="uq_alert_fingerprint"),
    )
    op.create_index("ix_alert_incident_id", "alert", ["incident_id"])

    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_timeline_entry_incident_id", "timeline_entry", ["incident_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_POSTGRESQL_FUNCTION)
        op.execute(_APPEND_ONLY_POSTGRESQL_TRIGGER)
    else:
        op.execute(_APPEND_ONLY_SQLITE.format(verb="UPDATE"))
        op.execute(_APPEND_ONLY_SQLITE.format(verb="DELETE"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER timeline_entry_append_only ON timeline_entry")
        op.execute("DROP FUNCTION timeline_entry_append_only()")
    op.drop_table("timeline_entry")
    op.drop_table("alert")
    op.drop_table("incident")
