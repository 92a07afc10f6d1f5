"""The outbox loop on its own, on SQLite and PostgreSQL: its steps, their order, its fence.

A minimal dispatcher over the notification outbox writes down each step the loop takes; the
paging and notification dispatchers' own tests cover what their steps do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from receiver.delivery.outbox import CHUNK, PENDING, SENT, OutboxLoop, Report
from receiver.notify.models import NotificationMessage
from receiver.notify.outbox import enqueue
from receiver.store.database import Store
from tests.support.clock import Clock


class Journal(OutboxLoop[NotificationMessage, int, bool]):
    """Sends nothing; marks each message sent and writes down every step it is asked for."""

    def __init__(self, store: Store, clock: Clock, **options: Any) -> None:
        self.steps: list[tuple[str, Any]] = []
        self.fail_recording = False
        super().__init__(
            rows=NotificationMessage,
            store=store,
            clock=clock,
            on_outcome=lambda key, outcome: self.steps.append(("report", (key, outcome))),
            batch=options.pop("batch", 100),
            still_leading=options.pop("still_leading", None),
            **options,
        )

    def prepare(self, chunk: Sequence[NotificationMessage], now: datetime) -> list[int]:
        ids = [message.id or 0 for message in chunk]
        self.steps.append(("prepare", ids))
        return ids

    def send(self, items: Sequence[int]) -> list[bool]:
        self.steps.append(("send", list(items)))
        return [True for _ in items]

    def record(self, session: Session, deliveries: Sequence[tuple[int, bool]]) -> list[Report]:
        ids = [item for item, _ in deliveries]
        self.steps.append(("record", ids))
        rows = session.exec(
            select(NotificationMessage).where(col(NotificationMessage.id).in_(ids))
        ).all()
        for row in rows:
            row.status = SENT
            session.add(row)
        session.flush()
        if self.fail_recording:
            raise RuntimeError("the write fails")
        return [(f"target-{item}", SENT) for item in ids]

    def lost_lease(self, left: int) -> None:
        self.steps.append(("lost lease", left))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.steps if kind != "report"]


def queue(store: Store, clock: Clock, count: int, *, after: timedelta = timedelta(0)) -> list[int]:
    """`count` messages due `after` from now; their ids, in order."""

    def work(session: Session) -> list[int]:
        ids = []
        for _ in range(count):
            key = f"key-{len(session.exec(select(NotificationMessage.id)).all())}"
            assert enqueue(
                session,
                target="team",
                topic="status_update",
                subject="subject",
                text="text",
                dedup_key=key,
                now=clock() + after,
                deadline=timedelta(hours=1),
            )
            session.flush()
            found = session.exec(
                select(NotificationMessage.id).where(NotificationMessage.dedup_key == key)
            ).one()
            assert found is not None
            ids.append(found)
        return ids

    return store.write(work)


def statuses(store: Store) -> dict[int, str]:
    with store.read() as session:
        return {m.id or 0: m.status for m in session.exec(select(NotificationMessage)).all()}


def test_each_chunk_is_prepared_sent_recorded_then_reported(store: Store, clock: Clock) -> None:
    later = queue(store, clock, 1, after=timedelta(minutes=1))  # not due yet
    due = queue(store, clock, CHUNK + 5)
    loop = Journal(store, clock)

    assert loop.run_once() == CHUNK + 5

    first, rest = due[:CHUNK], due[CHUNK:]
    assert loop.kinds() == ["prepare", "send", "record"] * 2
    assert loop.steps[:3] == [("prepare", first), ("send", first), ("record", first)]
    reports = [(f"target-{id_}", SENT) for id_ in first]
    assert loop.steps[3 : 3 + CHUNK] == [("report", report) for report in reports]
    assert loop.steps[3 + CHUNK] == ("prepare", rest)
    assert statuses(store) == {**{id_: SENT for id_ in due}, later[0]: PENDING}
    assert loop.run_once() == 0  # nothing pending is due


def test_the_oldest_due_come_first_up_to_the_batch(store: Store, clock: Clock) -> None:
    newer = queue(store, clock, 2)
    older = queue(store, clock, 2, after=timedelta(seconds=-30))
    loop = Journal(store, clock, batch=3)

    assert loop.run_once() == 3
    assert loop.steps[0] == ("prepare", [*older, newer[0]])


def test_a_lost_lease_stops_after_preparing_before_sending(store: Store, clock: Clock) -> None:
    due = queue(store, clock, CHUNK + 5)
    answers = iter([True, False])
    loop = Journal(store, clock, still_leading=lambda: next(answers))

    assert loop.run_once() == CHUNK

    assert loop.kinds() == ["prepare", "send", "record", "prepare", "lost lease"]
    assert loop.steps[-1] == ("lost lease", 5)
    assert [s for s, status in statuses(store).items() if status == PENDING] == due[CHUNK:]


def test_a_failed_recording_reports_nothing_and_leaves_the_chunk_pending(
    store: Store, clock: Clock
) -> None:
    due = queue(store, clock, 2)
    loop = Journal(store, clock)
    loop.fail_recording = True

    with pytest.raises(RuntimeError):
        loop.run_once()

    assert loop.kinds() == ["prepare", "send", "record"]  # and no report
    assert statuses(store) == {id_: PENDING for id_ in due}  # sent again next time


def test_a_dispatcher_chooses_its_chunk(store: Store, clock: Clock) -> None:
    due = queue(store, clock, 7)
    loop = Journal(store, clock, chunk=3)

    assert loop.run_once() == 7

    assert [ids for kind, ids in loop.steps if kind == "send"] == [due[:3], due[3:6], due[6:]]


def test_rounds_follow_at_once_while_messages_are_due(store: Store, clock: Clock) -> None:
    due = queue(store, clock, 7)
    loop = Journal(store, clock, batch=3)

    assert loop.run_until_idle(60) == 7  # rounds of 3, 3, 1, then one that finds nothing

    assert [ids for kind, ids in loop.steps if kind == "prepare"] == [due[:3], due[3:6], due[6:]]
    assert statuses(store) == {id_: SENT for id_ in due}


def test_rounds_stop_at_a_lost_lease(store: Store, clock: Clock) -> None:
    due = queue(store, clock, 7)
    answers = iter([True, False, False])
    loop = Journal(store, clock, batch=3, still_leading=lambda: next(answers))

    assert loop.run_until_idle(60) == 3  # the second round stopped at the fence: no third

    assert loop.kinds() == ["prepare", "send", "record", "prepare", "lost lease"]
    assert [s for s, status in statuses(store).items() if status == PENDING] == due[3:]


def test_what_is_still_due_after_the_time_waits_for_the_next_job_run(
    store: Store, clock: Clock
) -> None:
    due = queue(store, clock, 7)
    loop = Journal(store, clock, batch=3)

    assert loop.run_until_idle(0) == 3  # one round, whatever is left

    assert [s for s, status in statuses(store).items() if status == PENDING] == due[3:]
