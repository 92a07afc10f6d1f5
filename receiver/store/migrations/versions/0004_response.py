"""The response process: roles, status updates, checklist ticks, reminders, postmortems,
action items, the notification outbox, handoff notes and briefings; who resolved and
classified an incident; and indexes on the page ledger's and incidents' times for the
monthly report.

Revision ID: 0004_response
Revises: 0003_paging
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from receiver.store.columns import UTCDateTime

revision = "0004_response"
down_revision = "0003_paging"
branch_labels = None
depends_on = None


def _incident_fk() -> sa.Column:
    return sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("incident") as incident:
        incident.add_column(sa.Column("resolved_by", sa.Text(), nullable=True))
        incident.add_column(sa.Column("severity_set_by", sa.Text(), nullable=True))
        incident.add_column(sa.Column("classification", sa.String(16), nullable=True))
        incident.add_column(
            sa.Column("classification_note", sa.Text(), nullable=False, server_default="")
        )
        incident.add_column(sa.Column("classified_by", sa.Text(), nullable=True))
    op.create_index("ix_page_at", "page", ["at", "person", "rotation", "incident_id"])
    op.create_index("ix_incident_opened_at", "incident", ["opened_at"])

    op.create_table(
        "incident_role",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident_fk(),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.Column("assigned_by", sa.Text(), nullable=False),
        sa.UniqueConstraint("incident_id", "role", name="uq_incident_role"),
    )
    op.create_index("ix_incident_role_incident_id", "incident_role", ["incident_id"])

    op.create_table(
        "status_update",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident_fk(),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("current_action", sa.Text(), nullable=False),
        sa.Column("eta", sa.Text(), nullable=False),
    )
    op.create_index("ix_status_update_incident_id", "status_update", ["incident_id"])

    op.create_table(
        "checklist_tick",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident_fk(),
        sa.Column("item", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.UniqueConstraint("incident_id", "item", name="uq_checklist_tick"),
    )
    op.create_index("ix_checklist_tick_incident_id", "checklist_tick", ["incident_id"])

    op.create_table(
        "response_reminder",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident_fk(),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("incident_id", "kind", "due_at", name="uq_response_reminder"),
    )
    op.create_index("ix_response_reminder_incident_id", "response_reminder", ["incident_id"])

    op.create_table(
        "postmortem",
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), primary_key=True),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("scheduled_by", sa.Text(), nullable=False),
        sa.Column("drafted_at", UTCDateTime(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("exception", sa.Text(), nullable=False),
        sa.Column("exception_at", UTCDateTime(), nullable=True),
    )

    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        _incident_fk(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
    )
    op.create_index("ix_action_item_incident_id", "action_item", ["incident_id"])
    op.create_index("ix_action_item_status_due", "action_item", ["status", "due_at"])

    op.create_table(
        "notification_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=True),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("audience", sa.String(40), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.UniqueConstraint("dedup_key", "target", name="uq_notification_dedup"),
    )
    op.create_index("ix_notification_due", "notification_message", ["status", "next_attempt_at"])
    op.create_index("ix_notification_message_incident_id", "notification_message", ["incident_id"])

    op.create_table(
        "handoff_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rotation", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("briefed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_handoff_note_rotation", "handoff_note", ["rotation"])
    op.create_table(
        "handoff_briefing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rotation", sa.String(100), nullable=False),
        sa.Column("layer", sa.String(100), nullable=False),
        sa.Column("handoff_at", UTCDateTime(), nullable=False),
        sa.Column("outgoing", sa.Text(), nullable=True),
        sa.Column("incoming", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("rotation", "layer", "handoff_at", name="uq_handoff_briefing"),
    )


def downgrade() -> None:
    for table in (
        "handoff_briefing",
        "handoff_note",
        "notification_message",
        "action_item",
        "postmortem",
        "response_reminder",
        "checklist_tick",
        "status_update",
        "incident_role",
    ):
        op.drop_table(table)
    op.drop_index("ix_incident_opened_at", "incident")
    op.drop_index("ix_page_at", "page")
    with op.batch_alter_table("incident") as incident:
        for column in (
            "classified_by",
            "classification_note",
            "classification",
            "severity_set_by",
            "resolved_by",
        ):
            incident.drop_column(column)
