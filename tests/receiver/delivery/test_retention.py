"""Retention of the outboxes, on SQLite and PostgreSQL: finished messages past the cut-off go,
in bounded batches; pending ones, open incidents' ones, the ledger's pages and the incidents'
history stay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from receiver.delivery import retention
from receiver.delivery.outbox import CANCELLED, FAILED, PENDING, SENT
from receiver.delivery.retention import prune_finished_messages
from receiver.incidents.models import IncidentRecord, TimelineEntry
from receiver.notify.models import NotificationMessage
from receiver.paging.models import OutboxMessage, PageRecord
from receiver.store.database import Store
from tests.support.paging import Paging, group

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
OLD = NOW - timedelta(days=40)  # well before the cut-off (NOW - 30 days)
RECENT = NOW - timedelta(days=10)  # after it


def _incident(session: Session, name: str, *, resolved_at: datetime | None) -> int:
    incident = IncidentRecord(
        group_identity=name.ljust(64, "x"),
        receiver="webhook",
        group_key=f"{{}}:{name}",
        group_labels={},
        status="resolved" if resolved_at else "open",
        severity="SEV2",
        service="checkout",
        title=name,
        channel=f"#inc-{name}",
        external_url="",
        opened_at=OLD - timedelta(days=1),
        updated_at=resolved_at or OLD,
        resolved_at=resolved_at,
    )
    session.add(incident)
    session.flush()
    assert incident.id is not None
    session.add(
        TimelineEntry(incident_id=incident.id, at=OLD, kind="opened", message=name, data={})
    )
    return incident.id


def _page(
    session: Session, incident_id: int, status: str, at: datetime, *, action: str = "trigger"
) -> int:
    message = OutboxMessage(
        incident_id=incident_id,
        rotation="ops",
        action=action,
        target="primary",
        severity="SEV2",
        status=status,
        attempts=1,
        next_attempt_at=at,
        deadline_at=at + timedelta(hours=1),
        created_at=at,
        sent_at=at if status == SENT else None,
        recipient="",
        reference="",
        last_error="",
        details={},
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    return message.id


def _ledger(session: Session, incident_id: int, message_id: int) -> None:
    session.add(
        PageRecord(
            incident_id=incident_id,
            message_id=message_id,
            rotation="ops",
            person="a",
            severity="SEV2",
            at=OLD,
        )
    )


def _notification(
    session: Session,
    incident_id: int | None,
    status: str,
    at: datetime,
    *,
    topic: str = "reminder",
) -> int:
    message = NotificationMessage(
        incident_id=incident_id,
        topic=topic,
        audience="team",
        target="chat",
        dedup_key=f"{topic}-{incident_id}-{at.isoformat()}-{status}",
        subject="s",
        text="t",
        status=status,
        attempts=1,
        next_attempt_at=at,
        deadline_at=at + timedelta(hours=1),
        created_at=at,
        sent_at=at if status == SENT else None,
        last_error="",
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    return message.id


def _ids(store: Store, model: Any) -> set[int]:
    with store.read() as session:
        return set(session.exec(select(model.id)).all())


def _count(store: Store, model: Any) -> int:
    with store.read() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_retention_deletes_only_old_finished_messages_of_resolved_incidents(store: Store) -> None:
    def seed(session: Session) -> dict[str, list[int]]:
        done = _incident(session, "done", resolved_at=OLD)
        still_open = _incident(session, "open", resolved_at=None)
        resolved_lately = _incident(session, "lately", resolved_at=RECENT)
        ledger_page = _page(session, done, SENT, OLD)  # a page that reached a person
        _ledger(session, done, ledger_page)
        # Failed after retries until a late deadline: the deadline is its latest time.
        late = _page(session, done, FAILED, OLD)
        session.get_one(OutboxMessage, late).deadline_at = RECENT
        return {
            "gone pages": [
                _page(session, done, SENT, OLD, action="acknowledge"),
                _page(session, done, FAILED, OLD),
                _page(session, done, CANCELLED, OLD, action="escalate"),
            ],
            "kept pages": [
                ledger_page,
                late,
                _page(session, done, PENDING, OLD),  # never a pending one
                _page(session, done, SENT, RECENT, action="resolve"),  # after the cut-off
                _page(session, still_open, SENT, OLD, action="acknowledge"),
                _page(session, still_open, CANCELLED, OLD, action="escalate"),
                _page(session, resolved_lately, FAILED, OLD),
            ],
            "gone notifications": [
                _notification(session, done, SENT, OLD),
                _notification(session, None, FAILED, OLD, topic="burden_report"),
                # Later ones than the first status update and all-clear (kept below).
                _notification(session, done, SENT, OLD + timedelta(hours=1), topic="all_clear"),
                _notification(session, done, SENT, OLD + timedelta(hours=1), topic="status_update"),
            ],
            "kept notifications": [
                _notification(session, done, PENDING, OLD),
                _notification(session, None, SENT, RECENT, topic="handoff_briefing"),
                _notification(session, done, SENT, OLD, topic="all_clear"),
                _notification(session, done, CANCELLED, OLD, topic="status_update"),
                _notification(session, still_open, SENT, OLD),
                _notification(session, resolved_lately, SENT, OLD),
            ],
        }

    ids = store.write(seed)
    history = [_count(store, model) for model in (IncidentRecord, TimelineEntry, PageRecord)]

    deleted = prune_finished_messages(store, now=NOW, older_than=KEEP)

    assert deleted == len(ids["gone pages"]) + len(ids["gone notifications"]) == 7
    assert _ids(store, OutboxMessage) == set(ids["kept pages"])
    assert _ids(store, NotificationMessage) == set(ids["kept notifications"])
    assert [_count(store, model) for model in (IncidentRecord, TimelineEntry, PageRecord)] == (
        history
    )
    assert history == [3, 3, 1]
    # Nothing left to prune: a second run deletes nothing.
    assert prune_finished_messages(store, now=NOW, older_than=KEEP) == 0


def test_retention_keeps_each_incidents_first_update_and_all_clear(store: Store) -> None:
    """The response checklist reads their times; pruning must not reopen its items."""

    def seed(session: Session) -> tuple[int, list[int]]:
        done = _incident(session, "done", resolved_at=OLD)
        first = [
            _notification(session, done, SENT, OLD, topic="status_update"),
            _notification(session, done, FAILED, OLD, topic="status_update"),  # same instant
            _notification(session, done, SENT, OLD + timedelta(hours=2), topic="all_clear"),
        ]
        _notification(session, done, SENT, OLD + timedelta(hours=1), topic="status_update")
        return done, first

    incident_id, first = store.write(seed)

    assert prune_finished_messages(store, now=NOW, older_than=KEEP) == 1

    with store.read() as session:
        left = session.exec(
            select(NotificationMessage.id).where(NotificationMessage.incident_id == incident_id)
        ).all()
    assert sorted(left) == sorted(first)


def test_retention_after_a_real_incident_keeps_the_ledger_and_the_timeline(
    paging: Paging,
) -> None:
    """A page, an escalation, an acknowledgement and a resolution, then 31 days."""
    incident = paging.post(group())
    paging.run()  # primary paged
    paging.clock.advance(minutes=5)
    paging.run()  # secondary paged
    assert (
        paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"}).status_code == 200
    )
    paging.run()  # the acknowledgement told to PagerDuty
    response = paging.client.post(f"/api/v1/incidents/{incident}/resolve", json={"by": "d"})
    assert response.status_code == 200
    paging.run()
    before = paging.incident(incident)
    ledger = paging.ledger()
    messages = paging.messages(incident)
    assert len(ledger) == 2 and len(messages) > len(ledger)
    assert not any(m.status == PENDING for m in messages)

    # Within the retention period nothing goes.
    now = paging.clock.advance(days=29)
    assert prune_finished_messages(paging.store, now=now, older_than=KEEP) == 0

    now = paging.clock.advance(days=2)
    deleted = prune_finished_messages(paging.store, now=now, older_than=KEEP)

    after = paging.incident(incident)
    assert deleted == len(messages) - len(ledger)
    assert [m.id for m in paging.messages(incident)] == [p.message_id for p in ledger]
    assert paging.ledger() == ledger
    assert after["timeline"] == before["timeline"]
    assert after["status"] == "resolved"


@pytest.mark.parametrize("table", ["outbox", "notification"])
def test_retention_deletes_in_bounded_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    """Each batch is its own short write transaction: a large backlog never holds the write
    lock for long."""
    monkeypatch.setattr(retention, "BATCH", 50)
    total = 50 * 4 + 7

    def seed(session: Session) -> None:
        done = _incident(session, "done", resolved_at=OLD)
        for n in range(total):
            at = OLD + timedelta(seconds=n)  # distinct notification dedup keys
            if table == "outbox":
                _page(session, done, SENT, at, action="acknowledge")
            else:
                _notification(session, None, SENT, at)

    store.write(seed)
    batches: list[int] = []
    write_rows = store.write_rows

    def counting(work: Any) -> Any:
        result = write_rows(work)
        batches.append(result.deleted)
        return result

    monkeypatch.setattr(store, "write_rows", counting)

    assert prune_finished_messages(store, now=NOW, older_than=KEEP) == total

    # 4 full batches and the rest of one table, and one (empty) look at each of the others
    # (the other outbox, the Slack calls).
    assert sorted(batches, reverse=True) == [50, 50, 50, 50, 7, 0, 0]


@pytest.mark.parametrize(
    ("now", "older_than", "message"),
    [
        (NOW, timedelta(days=-1), "older_than must not be negative"),
        (NOW.replace(tzinfo=None), KEEP, "now must be timezone-aware"),
    ],
)
def test_retention_refuses_bad_arguments_and_deletes_nothing(
    store: Store, now: datetime, older_than: timedelta, message: str
) -> None:
    store.write(
        lambda session: _page(
            session, _incident(session, "done", resolved_at=OLD), SENT, OLD, action="resolve"
        )
    )

    with pytest.raises(ValueError, match=message):
        prune_finished_messages(store, now=now, older_than=older_than)

    assert _count(store, OutboxMessage) == 1
