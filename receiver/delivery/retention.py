"""Retention: finished outbox and notification messages are deleted once they are old.

Both outboxes only grow: every page, acknowledgement, status update and reminder stays a row
after it is delivered. `prune_finished_messages` (the scheduler's daily job, with
`retention.outbox_days`) deletes the ones nothing needs any more, and keeps everything that
is history:

- Never a pending message (it is still to be delivered), and only messages whose incident is
  resolved, and was resolved before the cut-off (or, for notifications, that have no
  incident). An open incident's messages are what its paging reads: which levels were
  escalated to, whether a trigger was tried, the pager's reference to follow up on.
- "Old" is the latest time the row records: when it was created, due, sent, and its
  deadline. Failing and cancelling leave no time of their own; a message fails at its
  deadline at the latest (while a scheduler runs), and is cancelled while pending, before
  its due time or while it was being retried (so before its deadline).
- Outbox messages the page ledger references (`page.message_id`, a foreign key) are kept:
  the ledger, which the monthly burden report reads for 13 months, is history. They are
  the pages that reached a person; the acknowledgements, resolutions, cancelled escalations
  and failures around them are pruned.
- The earliest status update and all-clear notification of each incident are kept: the
  incident's response checklist reads their times ("first stakeholder notification",
  "all-clear sent"), so deleting them would reopen those items.
- Slack calls go like outbox messages (finished, incident resolved before the cut-off): what
  Slack confirmed (the channel, its archive) is kept on the `slack_channel` row and timeline.

Incidents, timelines (append-only), the page ledger and the response records are never
touched. Rows go in batches of `BATCH`, each its own short write transaction, so a first run
over a large backlog never holds the (SQLite) write lock for long; ingestion and the
dispatchers interleave between batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
)

from receiver.delivery.outbox import CANCELLED, FAILED, SENT
from receiver.incidents.models import IncidentRecord, IncidentStatus
from receiver.notify.models import NotificationMessage
from receiver.paging.models import OutboxMessage, PageRecord
from receiver.response.facts import ALL_CLEAR, STATUS_UPDATE
from receiver.slack.models import SlackCall
from receiver.store.database import Store

BATCH = 500  # rows per write transaction
FINISHED = (SENT, FAILED, CANCELLED)
# The checklist reads the first of these per incident (receiver/response/facts.py).
FIRST_KEPT_TOPICS = (STATUS_UPDATE, ALL_CLEAR)

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = NotificationMessage.__table__  # type: ignore[attr-defined]
PAGE: Table = PageRecord.__table__  # type: ignore[attr-defined]
INCIDENT: Table = IncidentRecord.__table__  # type: ignore[attr-defined]
SLACK_CALL: Table = SlackCall.__table__  # type: ignore[attr-defined]


def prune_finished_messages(store: Store, *, now: datetime, older_than: timedelta) -> int:
    """Delete the finished outbox and notification messages older than `now - older_than`
    that nothing reads any more (see the module docstring); how many rows were deleted.

    Safe to run at any time and from any process: a row is deleted only if it still matches
    when its batch's transaction deletes it. A ValueError for a negative `older_than` or a
    naive `now`, before anything is deleted.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if older_than < timedelta(0):
        raise ValueError(f"older_than must not be negative, got {older_than}")
    cutoff = now - older_than
    deleted = 0
    for table, prunable in (
        (OUTBOX, _prunable_outbox(cutoff)),
        (NOTIFICATION, _prunable_notifications(cutoff)),
        (  # Slack calls: what Slack confirmed is on the incident's channel row and timeline
            SLACK_CALL,
            and_(
                _finished_before(SLACK_CALL, cutoff),
                _resolved_before(SLACK_CALL.c.incident_id, cutoff),
            ),
        ),
    ):
        after = 0  # keyset: each batch starts past the last, not over the rows just deleted
        while True:
            batch = store.write_rows(partial(_delete_batch, table, prunable, after))
            deleted += batch.deleted
            if batch.last_id is None:
                break
            after = batch.last_id
    return deleted


@dataclass(frozen=True)
class _Batch:
    deleted: int
    last_id: int | None  # the last id looked at; None: nothing further to look at


def _delete_batch(
    table: Table, prunable: ColumnElement[bool], after: int, connection: Connection
) -> _Batch:
    # Pick a batch by primary key, then delete it with the condition repeated, in the same
    # transaction: a row that changed meanwhile (it cannot become pending again, but the
    # ledger may just have referenced it) is left alone.
    ids = list(
        connection.execute(
            select(table.c.id).where(table.c.id > after, prunable).order_by(table.c.id).limit(BATCH)
        ).scalars()
    )
    if not ids:
        return _Batch(0, None)
    result = connection.execute(delete(table).where(table.c.id.in_(ids)).where(prunable))
    return _Batch(int(result.rowcount or 0), ids[-1] if len(ids) == BATCH else None)


def _finished_before(table: Table, cutoff: datetime) -> ColumnElement[bool]:
    """Finished, and every time the row records is before the cut-off."""
    return and_(
        table.c.status.in_(FINISHED),
        table.c.created_at < cutoff,
        table.c.next_attempt_at < cutoff,
        table.c.deadline_at < cutoff,
        or_(table.c.sent_at.is_(None), table.c.sent_at < cutoff),
    )


def _resolved_before(incident_id: ColumnElement[int], cutoff: datetime) -> ColumnElement[bool]:
    return exists().where(
        INCIDENT.c.id == incident_id,
        INCIDENT.c.status == IncidentStatus.RESOLVED.value,
        INCIDENT.c.resolved_at < cutoff,
    )


def _prunable_outbox(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        _finished_before(OUTBOX, cutoff),
        _resolved_before(OUTBOX.c.incident_id, cutoff),
        ~exists().where(PAGE.c.message_id == OUTBOX.c.id),  # the ledger's pages stay
    )


def _prunable_notifications(cutoff: datetime) -> ColumnElement[bool]:
    earlier = NOTIFICATION.alias("earlier")
    is_first_of_its_topic = and_(
        NOTIFICATION.c.topic.in_(FIRST_KEPT_TOPICS),
        NOTIFICATION.c.created_at
        == select(func.min(earlier.c.created_at))
        .where(
            earlier.c.incident_id == NOTIFICATION.c.incident_id,
            earlier.c.topic == NOTIFICATION.c.topic,
        )
        .scalar_subquery(),
    )
    return and_(
        _finished_before(NOTIFICATION, cutoff),
        or_(
            NOTIFICATION.c.incident_id.is_(None),
            and_(
                _resolved_before(NOTIFICATION.c.incident_id, cutoff),
                ~is_first_of_its_topic,
            ),
        ),
    )
