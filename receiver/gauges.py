"""What the store gauges count at scrape time: open incidents by severity, outbox messages
by status. Read from the database, so the figures are right however many processes write.
"""

from __future__ import annotations

from sqlmodel import func, select

from receiver.incidents.models import IncidentRecord, IncidentStatus
from receiver.paging.models import OutboxMessage
from receiver.store.database import Store


def count_open_incidents(store: Store) -> dict[str, int]:
    """Open incidents by severity, for the `onwatch_incidents_open` gauge."""
    statement = (
        select(IncidentRecord.severity, func.count())
        .where(IncidentRecord.status == IncidentStatus.OPEN)
        .group_by(IncidentRecord.severity)
    )
    with store.read() as session:
        return {severity: count for severity, count in session.exec(statement)}


def count_outbox(store: Store) -> dict[str, int]:
    """Outbox messages by status, for the `onwatch_outbox_messages` gauge."""
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    with store.read() as session:
        return {status: count for status, count in session.exec(statement)}
