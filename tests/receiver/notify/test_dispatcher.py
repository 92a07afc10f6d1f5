"""The notification dispatcher on SQLite and PostgreSQL, with real notifiers on loopback.

Messages are queued the way the response process queues them (`notifications.enqueue`),
delivered through real Slack and webhook notifiers to a local endpoint (or an in-memory
double where a test needs a notifier to misbehave), and read back from the store.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from receiver.delivery.outbox import FAILED, PENDING, SENT
from receiver.delivery.outcome import Delivery
from receiver.incidents.models import IncidentRecord, TimelineEntry
from receiver.notify.dispatcher import FAILED_KIND, RETRY, NotificationDispatcher
from receiver.notify.models import NotificationMessage
from receiver.notify.notifiers import Notice, Notifier, SlackNotifier, WebhookNotifier
from receiver.notify.outbox import enqueue
from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.notify_server import NotifyServer

SLACK = "team-slack"
HOOK = "exec-hook"
_keys = itertools.count(1)


class ScriptedNotifier:
    """An in-memory notifier: records each notice, answers from a script (then ok)."""

    kind = "fake"

    def __init__(
        self, *answers: Delivery, during_send: Callable[[Notice], None] | None = None
    ) -> None:
        self.answers = list(answers)
        self.notices: list[Notice] = []
        self.during_send = during_send

    def send(self, notice: Notice) -> Delivery:
        self.notices.append(notice)
        if self.during_send is not None:
            self.during_send(notice)
        return self.answers.pop(0) if self.answers else Delivery(ok=True, detail="ok")


class RaisingNotifier:
    """A notifier with a bug."""

    kind = "buggy"

    def send(self, notice: Notice) -> Delivery:
        raise RuntimeError("boom")


@pytest.fixture
def server() -> Iterator[NotifyServer]:
    with NotifyServer() as running:
        yield running


@pytest.fixture
def outcomes() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def dispatch(
    store: Store, clock: Clock, outcomes: list[tuple[str, str]]
) -> Callable[..., NotificationDispatcher]:
    """A dispatcher on the store under test with the given notifiers."""

    def build(notifiers: dict[str, Notifier], **options: Any) -> NotificationDispatcher:
        return NotificationDispatcher(
            store=store,
            notifiers=notifiers,
            clock=clock,
            on_outcome=lambda target, outcome: outcomes.append((target, outcome)),
            **options,
        )

    return build


def add_incident(store: Store, clock: Clock, name: str = "checkout") -> int:
    """A minimal incident row for messages to belong to."""

    def work(session: Any) -> int:
        incident = IncidentRecord(
            group_identity=name.ljust(64, "0"),
            receiver="webhook",
            group_key="{}:{}",
            group_labels={},
            status="open",
            severity="SEV2",
            service=name,
            title=f"{name}: 5xx ratio above 5%",
            channel=f"#inc-20261128-{name}",
            external_url="",
            opened_at=clock(),
            updated_at=clock(),
        )
        session.add(incident)
        session.flush()
        assert incident.id is not None
        return incident.id

    return store.write(work)


def queue(
    store: Store,
    clock: Clock,
    *,
    target: str = SLACK,
    incident_id: int | None = None,
    topic: str = "status_update",
    dedup_key: str | None = None,
    deadline: timedelta = timedelta(hours=1),
    at_offset: timedelta = timedelta(0),
) -> int:
    """Queue one message as the response process does; its id."""
    key = dedup_key or f"onwatch-{incident_id}-{topic}-{next(_keys)}"

    def work(session: Any) -> int:
        assert enqueue(
            session,
            target=target,
            topic=topic,
            subject="[SEV2] checkout: 5xx ratio above 5%",
            text="*Status:* investigating",
            dedup_key=key,
            now=clock() + at_offset,
            deadline=deadline,
            payload={"status": "investigating"},
            incident_id=incident_id,
            audience="team",
        )
        session.flush()
        found = session.exec(
            select(NotificationMessage.id)
            .where(NotificationMessage.dedup_key == key)
            .where(NotificationMessage.target == target)
        ).one()
        assert found is not None
        return found

    return store.write(work)


def message(store: Store, message_id: int) -> NotificationMessage:
    with store.read() as session:
        row = session.get(NotificationMessage, message_id)
        assert row is not None
        return row


def timeline(store: Store, incident_id: int) -> list[TimelineEntry]:
    with store.read() as session:
        return list(
            session.exec(
                select(TimelineEntry)
                .where(TimelineEntry.incident_id == incident_id)
                .order_by(col(TimelineEntry.id))
            ).all()
        )


def all_timeline(store: Store) -> list[TimelineEntry]:
    with store.read() as session:
        return list(session.exec(select(TimelineEntry)).all())


def receiver_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("receiver")]


# ------------------------------------------------------------------------------------------
# Sent


def test_dispatcher_sends_a_due_message(store, clock, dispatch, outcomes, server):
    incident = add_incident(store, clock)
    queued = queue(store, clock, incident_id=incident)

    handled = dispatch({SLACK: SlackNotifier(server.slack_url)}).run_once()

    row = message(store, queued)
    assert handled == 1
    assert (row.status, row.sent_at, row.attempts, row.last_error) == (SENT, clock(), 1, "")
    assert outcomes == [(SLACK, SENT)]
    assert server.received[0].json["blocks"][0]["text"]["text"] == row.subject
    assert timeline(store, incident) == []


def test_dispatcher_gives_the_notifier_the_row_as_a_notice(store, clock, dispatch):
    incident = add_incident(store, clock)
    queued = queue(store, clock, incident_id=incident, dedup_key="onwatch-1-update-1")
    notifier = ScriptedNotifier()

    dispatch({SLACK: notifier}).run_once()

    row = message(store, queued)
    assert notifier.notices == [
        Notice(
            topic="status_update",
            subject=row.subject,
            text=row.text,
            payload={"status": "investigating"},
            dedup_key="onwatch-1-update-1",
            incident_id=incident,
            audience="team",
        )
    ]


def test_dispatcher_sends_only_due_pending_messages(store, clock, dispatch):
    later = queue(store, clock, at_offset=timedelta(minutes=10))
    now = queue(store, clock)
    notifier = ScriptedNotifier()
    dispatcher = dispatch({SLACK: notifier})

    assert dispatcher.run_once() == 1
    assert dispatcher.run_once() == 0  # the sent one is not sent again
    clock.advance(minutes=10)
    assert dispatcher.run_once() == 1

    assert message(store, now).status == message(store, later).status == SENT
    assert len(notifier.notices) == 2


def test_dispatcher_handles_a_batch_in_chunks_oldest_first(store, clock, dispatch, outcomes):
    ids = [queue(store, clock, dedup_key=f"k{i}") for i in range(25)]
    notifier = ScriptedNotifier()
    dispatcher = dispatch({SLACK: notifier}, batch=22)

    assert dispatcher.run_once() == 22
    assert dispatcher.run_once() == 3

    assert [n.dedup_key for n in notifier.notices] == [f"k{i}" for i in range(25)]
    assert all(message(store, i).status == SENT for i in ids)
    assert outcomes == [(SLACK, SENT)] * 25


# ------------------------------------------------------------------------------------------
# Retried


def test_dispatcher_retries_with_back_off_then_sends(store, clock, dispatch, outcomes, server):
    queued = queue(store, clock, target=HOOK)
    server.answer(500, '{"message": "try later"}', times=2)
    dispatcher = dispatch({HOOK: WebhookNotifier(server.hook_url)})
    start = clock()

    dispatcher.run_once()
    first = message(store, queued)
    assert dispatcher.run_once() == 0  # not due again yet
    clock.advance(seconds=2)
    dispatcher.run_once()
    second = message(store, queued)
    clock.advance(seconds=4)
    dispatcher.run_once()

    assert (first.status, first.attempts) == (PENDING, 1)
    assert first.next_attempt_at == start + timedelta(seconds=2)
    assert first.last_error == "the notification webhook answered 500: try later"
    assert second.next_attempt_at == start + timedelta(seconds=2 + 4)
    row = message(store, queued)
    assert (row.status, row.attempts, row.last_error) == (SENT, 3, "")
    assert row.sent_at == start + timedelta(seconds=6)
    assert outcomes == [(HOOK, RETRY), (HOOK, RETRY), (HOOK, SENT)]
    assert len(server.received) == 3


def test_dispatcher_waits_as_long_as_retry_after_says(store, clock, dispatch, server):
    queued = queue(store, clock)
    server.answer(429, "rate_limited", {"Retry-After": "30"})
    dispatcher = dispatch({SLACK: SlackNotifier(server.slack_url)})

    dispatcher.run_once()
    clock.advance(seconds=29)
    assert dispatcher.run_once() == 0
    clock.advance(seconds=1)
    dispatcher.run_once()

    row = message(store, queued)
    assert row.status == SENT and row.attempts == 2


def test_dispatcher_survives_a_restart(store, clock, outcomes, server):
    waiting = queue(store, clock, dedup_key="before")
    server.set_down(True)
    first = NotificationDispatcher(
        store=store, notifiers={SLACK: SlackNotifier(server.slack_url, timeout=1)}, clock=clock
    )
    first.run_once()
    assert message(store, waiting).last_error == "Slack unreachable: ConnectionError"
    del first  # the scheduler stops

    queued_meanwhile = queue(store, clock, dedup_key="meanwhile")
    server.set_down(False)
    clock.advance(seconds=2)
    restarted_store = Store(store.settings)  # a new process: nothing shared but the database
    try:
        handled = NotificationDispatcher(
            store=restarted_store,
            notifiers={SLACK: SlackNotifier(server.slack_url)},
            clock=clock,
            on_outcome=lambda target, outcome: outcomes.append((target, outcome)),
        ).run_once()
    finally:
        restarted_store.dispose()

    assert handled == 2
    assert message(store, waiting).status == message(store, queued_meanwhile).status == SENT
    assert outcomes == [(SLACK, SENT), (SLACK, SENT)]


# ------------------------------------------------------------------------------------------
# Failed


def test_dispatcher_permanent_failure_fails_with_a_timeline_entry(
    store, clock, dispatch, outcomes, server, caplog
):
    caplog.set_level(logging.DEBUG, logger="receiver")
    incident = add_incident(store, clock)
    queued = queue(store, clock, incident_id=incident)
    server.slack_error("no_service")

    dispatch({SLACK: SlackNotifier(server.slack_url)}).run_once()

    row = message(store, queued)
    assert (row.status, row.attempts) == (FAILED, 1)
    assert row.last_error == "Slack answered 404: no_service"
    assert outcomes == [(SLACK, FAILED)]
    [entry] = timeline(store, incident)
    assert entry.kind == FAILED_KIND and entry.at == clock()
    assert entry.message == (
        "status_update to team-slack FAILED after 1 attempt (refused for good): "
        "Slack answered 404: no_service"
    )
    assert entry.data == {
        "message_id": queued,
        "topic": "status_update",
        "target": SLACK,
        "audience": "team",
        "attempts": 1,
        "error": "Slack answered 404: no_service",
    }
    errors = [r for r in receiver_logs(caplog) if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "no_service" in errors[0].getMessage()
    secret = server.slack_url.rsplit("/", 1)[-1]
    assert all(secret not in r.getMessage() for r in receiver_logs(caplog))
    assert secret not in entry.message + str(entry.data) + row.last_error


def test_dispatcher_fails_a_message_without_incident_visibly(store, clock, dispatch, caplog):
    queued = queue(store, clock, incident_id=None, topic="handoff")
    refused = Delivery(ok=False, detail="the notification webhook answered 400: bad")

    dispatch({SLACK: ScriptedNotifier(refused)}).run_once()

    assert message(store, queued).status == FAILED
    assert all_timeline(store) == []  # no incident to write to: the log and the row say it
    [error] = [r for r in receiver_logs(caplog) if r.levelno == logging.ERROR]
    assert error.getMessage() == (
        "notification_failed incident_id=- message_id=1 topic=handoff target=team-slack "
        'attempts=1 why="refused for good" reason="the notification webhook answered 400: bad"'
    )


def test_dispatcher_gives_up_at_the_deadline(store, clock, dispatch, outcomes, server):
    incident = add_incident(store, clock)
    queued = queue(store, clock, target=HOOK, incident_id=incident, deadline=timedelta(seconds=5))
    server.answer(503, "", times=10)
    dispatcher = dispatch({HOOK: WebhookNotifier(server.hook_url)})

    dispatcher.run_once()  # retry at +2s, before the deadline at +5s
    clock.advance(seconds=2)
    dispatcher.run_once()  # a retry at +2s+4s would be past it

    row = message(store, queued)
    assert (row.status, row.attempts) == (FAILED, 2)
    assert outcomes == [(HOOK, RETRY), (HOOK, FAILED)]
    [entry] = timeline(store, incident)
    assert entry.message == (
        "status_update to exec-hook FAILED after 2 attempts (gave up at its deadline): "
        "the notification webhook answered 503"
    )


def test_dispatcher_honours_a_retry_after_past_the_deadline_once(store, clock, dispatch):
    queued = queue(store, clock, deadline=timedelta(minutes=10))
    limited = Delivery(ok=False, retryable=True, retry_after=3600, detail="Slack answered 429")
    dispatcher = dispatch({SLACK: ScriptedNotifier(limited, limited)})

    dispatcher.run_once()  # asked to wait an hour: it does, and tries once more
    assert message(store, queued).status == PENDING
    assert message(store, queued).next_attempt_at == clock.now + timedelta(hours=1)
    clock.advance(hours=1)
    dispatcher.run_once()

    assert message(store, queued).status == FAILED


def test_dispatcher_fails_a_message_for_a_target_no_longer_configured(
    store, clock, dispatch, outcomes
):
    incident = add_incident(store, clock)
    queued = queue(store, clock, target="old-channel", incident_id=incident)

    dispatch({SLACK: ScriptedNotifier()}).run_once()

    row = message(store, queued)
    assert row.status == FAILED
    assert row.last_error == 'no notification target "old-channel" is configured any more'
    assert outcomes == [("old-channel", FAILED)]
    assert "old-channel" in timeline(store, incident)[0].message


def test_dispatcher_raising_notifier_fails_only_its_message(store, clock, dispatch, outcomes):
    incident = add_incident(store, clock)
    broken = queue(store, clock, target="buggy", incident_id=incident)
    fine = queue(store, clock, target=SLACK, incident_id=incident)
    notifier = ScriptedNotifier()

    handled = dispatch({"buggy": RaisingNotifier(), SLACK: notifier}).run_once()

    assert handled == 2
    assert message(store, broken).status == FAILED
    assert message(store, broken).last_error == "the buggy notifier raised RuntimeError('boom')"
    assert message(store, fine).status == SENT and len(notifier.notices) == 1
    assert outcomes == [("buggy", FAILED), (SLACK, SENT)]


# ------------------------------------------------------------------------------------------
# Handled meanwhile


def test_dispatcher_leaves_a_message_another_dispatcher_sent(store, clock, dispatch, outcomes):
    queued = queue(store, clock)
    elsewhere = clock() + timedelta(seconds=1)

    def other_dispatcher_sends(_: Notice) -> None:
        # Runs while this dispatcher sends: it holds no transaction, so this write goes in.
        def work(session: Any) -> None:
            row = session.get(NotificationMessage, queued)
            row.status, row.sent_at, row.attempts = SENT, elsewhere, 1
            session.add(row)

        store.write(work)

    failing = Delivery(ok=False, detail="Slack answered 404: no_service")
    dispatch({SLACK: ScriptedNotifier(failing, during_send=other_dispatcher_sends)}).run_once()

    row = message(store, queued)
    assert (row.status, row.sent_at, row.attempts, row.last_error) == (SENT, elsewhere, 1, "")
    assert outcomes == []


def test_dispatcher_leaves_a_message_another_dispatcher_retried(store, clock, dispatch, outcomes):
    queued = queue(store, clock)
    retry_at = clock() + timedelta(seconds=2)

    def other_dispatcher_retries(_: Notice) -> None:
        def work(session: Any) -> None:
            row = session.get(NotificationMessage, queued)
            row.attempts, row.next_attempt_at, row.last_error = 1, retry_at, "Slack answered 500"
            session.add(row)

        store.write(work)

    dispatch({SLACK: ScriptedNotifier(during_send=other_dispatcher_retries)}).run_once()

    row = message(store, queued)
    assert (row.status, row.attempts, row.next_attempt_at) == (PENDING, 1, retry_at)
    assert row.sent_at is None and outcomes == []


def test_dispatcher_that_lost_the_lease_sends_nothing(store, clock, dispatch):
    queued = queue(store, clock)
    notifier = ScriptedNotifier()

    handled = dispatch({SLACK: notifier}, still_leading=lambda: False).run_once()

    assert (handled, notifier.notices) == (0, [])
    assert message(store, queued).status == PENDING  # the new leader sends it
