"""What the store gauges count at scrape time: open incidents by severity, outbox messages
by status, and how late the oldest due message is. Read from the database, so the figures
are right however many processes write.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, func, select

from receiver.delivery.outbox import PENDING
from receiver.incidents.models import IncidentRecord, IncidentStatus
from receiver.notify.models import NotificationMessage
from receiver.paging.models import OutboxMessage
from receiver.slack.models import SlackCall
from receiver.store.database import Store


class OutboxCounts(dict[str, int]):
    """Pager outbox messages by status, plus `oldest_overdue_s` (see `oldest_overdue_seconds`).

    One read for the scrape's outbox figures: the counts feed `onwatch_outbox_messages`,
    the age `onwatch_outbox_oldest_overdue_seconds`.
    """

    oldest_overdue_s: float = 0.0


def count_open_incidents(store: Store) -> dict[str, int]:
    """Open incidents by severity, for the `onwatch_incidents_open` gauge."""
    statement = (
        select(IncidentRecord.severity, func.count())
        .where(IncidentRecord.status == IncidentStatus.OPEN)
        .group_by(IncidentRecord.severity)
    )
    with store.read() as session:
        return {severity: count for severity, count in session.exec(statement)}


def count_outbox(store: Store, now: datetime | None = None) -> OutboxCounts:
    """Outbox messages by status, for the `onwatch_outbox_messages` gauge, with the age of
    the oldest overdue message for `onwatch_outbox_oldest_overdue_seconds`."""
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    with store.read() as session:
        counts = OutboxCounts({status: count for status, count in session.exec(statement)})
    counts.oldest_overdue_s = oldest_overdue_seconds(store, now or datetime.now(UTC))
    return counts


def oldest_overdue_seconds(store: Store, now: datetime) -> float:
    """How long the oldest pending page, notification or Slack call has been due (0 when
    none is).

    A pending message is due once its `next_attempt_at` has passed: the dispatcher should
    have tried it within a poll interval. A large age means no scheduler is delivering.
    Escalations and the business-day queue are pending too but due later, and a message
    being retried has its next attempt in the future: neither counts, so this tells a dead
    scheduler from a busy pager, which the count of pending messages cannot. Both queries
    are answered from the (status, next_attempt_at) indexes.
    """
    oldest: list[datetime] = []
    with store.read() as session:
        for table in (OutboxMessage, NotificationMessage, SlackCall):
            due = session.exec(
                select(func.min(col(table.next_attempt_at))).where(
                    col(table.status) == PENDING, col(table.next_attempt_at) <= now
                )
            ).one()
            if due is not None:
                oldest.append(due)
    return max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0.0
