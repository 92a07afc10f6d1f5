"""The notification dispatcher: delivers due notification messages, retries, never drops one.

The twin of the paging dispatcher (`receiver.paging.dispatcher`) for messages to people: status
updates, reminders, all-clears, in the same outbox loop (`receiver.delivery.outbox`). Due
messages are read in one short read; each is sent with no transaction open (a target may take
seconds); a chunk's outcomes are written in one short transaction: sent, retried later with
the pagers' back-off (or the target's Retry-After), or failed when the target refuses it for
good or its deadline has passed. A failure is logged at error level and, for an incident's
message, written to the incident's timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from receiver.delivery.outbox import FAILED, PENDING, SENT, OutboxLoop, Report
from receiver.delivery.outcome import Delivery, shorten
from receiver.delivery.retries import next_attempt
from receiver.incidents.models import TimelineEntry
from receiver.logevents import log_after_commit
from receiver.notify.models import NotificationMessage
from receiver.notify.notifiers import Notice, Notifier
from receiver.store.database import Store

log = logging.getLogger(__name__)

RETRY = "retry"  # the third outcome reported through on_outcome, besides SENT and FAILED
FAILED_KIND = "notification_failed"  # the timeline entry of a message that was not delivered


@dataclass(frozen=True)
class _Due:
    """A message as read before sending: what to send, and what to find when recording."""

    id: int
    target: str
    attempts: int  # as read: a different count when recording means someone else handled it
    notice: Notice


class NotificationDispatcher(OutboxLoop[NotificationMessage, _Due, Delivery]):
    """Delivers due notification messages through each target's notifier."""

    def __init__(
        self,
        *,
        store: Store,
        notifiers: Mapping[str, Notifier],
        clock: Callable[[], datetime],
        on_outcome: Callable[[str, str], None] | None = None,
        batch: int = 100,
        still_leading: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(
            rows=NotificationMessage,
            store=store,
            clock=clock,
            on_outcome=on_outcome,
            batch=batch,
            still_leading=still_leading,
        )
        self.notifiers = notifiers

    def prepare(self, chunk: Sequence[NotificationMessage], now: datetime) -> list[_Due]:
        """Nothing to read (a notification is stored rendered): each message as it was when
        due, what to send and the attempts that recording compares."""
        return [_due(message) for message in chunk]

    def send(self, items: Sequence[_Due]) -> list[Delivery]:
        """One after another, in order."""
        return [self._send(item) for item in items]

    def _send(self, item: _Due) -> Delivery:
        notifier = self.notifiers.get(item.target)
        if notifier is None:
            return Delivery(
                ok=False, detail=f'no notification target "{item.target}" is configured any more'
            )
        try:
            return notifier.send(item.notice)
        except Exception as exc:  # a notifier's bug: fail this message, not the whole round
            log.exception(
                "%s notifier for target %s raised for notification message %s",
                notifier.kind,
                item.target,
                item.id,
            )
            detail = shorten(f"the {notifier.kind} notifier raised {exc!r}")
            return Delivery(ok=False, detail=detail)

    def record(self, session: Session, deliveries: Sequence[tuple[_Due, Delivery]]) -> list[Report]:
        """Each outcome by its target; none for a message handled meanwhile."""
        now = self.clock()
        ids = [item.id for item, _ in deliveries]
        # FOR UPDATE: on PostgreSQL a second dispatcher's write waits here, then sees ours.
        rows = {
            message.id: message
            for message in session.exec(
                select(NotificationMessage)
                .where(col(NotificationMessage.id).in_(ids))
                .with_for_update()
            ).all()
        }
        outcomes = [
            (item.target, self._record(session, rows.get(item.id), item, d, now))
            for item, d in deliveries
        ]
        return [(target, outcome) for target, outcome in outcomes if outcome is not None]

    def _record(
        self,
        session: Session,
        message: NotificationMessage | None,
        item: _Due,
        delivery: Delivery,
        now: datetime,
    ) -> str | None:
        if message is None or message.status != PENDING or message.attempts != item.attempts:
            return None  # handled meanwhile (another dispatcher, an operator): leave it
        message.attempts += 1
        if delivery.ok:
            message.status, message.sent_at, message.last_error = SENT, now, ""
            session.add(message)
            log_after_commit(
                session,
                log,
                logging.INFO,
                "notification_sent",
                incident_id=message.incident_id,
                message_id=message.id,
                topic=message.topic,
                target=message.target,
            )
            return SENT
        message.last_error = delivery.detail
        if delivery.retryable:
            later = next_attempt(now, message.attempts, delivery.retry_after, message.deadline_at)
            if later is not None:
                message.next_attempt_at = later
                session.add(message)
                log_after_commit(
                    session,
                    log,
                    logging.WARNING,
                    "notification_retry",
                    incident_id=message.incident_id,
                    message_id=message.id,
                    topic=message.topic,
                    target=message.target,
                    attempt=message.attempts,
                    next_in_s=max(0, round((later - now).total_seconds())),
                    reason=delivery.detail,
                )
                return RETRY
        self._fail(session, message, delivery, now)
        return FAILED

    def _fail(
        self, session: Session, message: NotificationMessage, delivery: Delivery, now: datetime
    ) -> None:
        reason = "gave up at its deadline" if delivery.retryable else "refused for good"
        message.status = FAILED
        session.add(message)
        summary = (
            f"{message.topic} to {message.target} FAILED after {message.attempts} "
            f"attempt{'s' if message.attempts != 1 else ''} ({reason}): {delivery.detail}"
        )
        if message.incident_id is not None:
            session.add(
                TimelineEntry(
                    incident_id=message.incident_id,
                    at=now,
                    kind=FAILED_KIND,
                    message=summary,
                    data={
                        "message_id": message.id,
                        "topic": message.topic,
                        "target": message.target,
                        "audience": message.audience,
                        "attempts": message.attempts,
                        "error": delivery.detail,
                    },
                )
            )
        log_after_commit(
            session,
            log,
            logging.ERROR,
            FAILED_KIND,
            incident_id=message.incident_id,
            message_id=message.id,
            topic=message.topic,
            target=message.target,
            attempts=message.attempts,
            why=reason,
            reason=delivery.detail,
        )


def _due(message: NotificationMessage) -> _Due:
    assert message.id is not None
    return _Due(
        id=message.id,
        target=message.target,
        attempts=message.attempts,
        notice=Notice(
            topic=message.topic,
            subject=message.subject,
            text=message.text,
            payload=dict(message.payload or {}),
            dedup_key=message.dedup_key,
            incident_id=message.incident_id,
            audience=message.audience,
        ),
    )
