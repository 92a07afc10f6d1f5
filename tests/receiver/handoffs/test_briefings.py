"""Handoff briefings from the store: content, exactly once per handoff, late, DST, golden.

The weekly `ops` rotation of tests/rota_config.py (Europe/London, Monday 09:00 from
2026-11-02; primary a b c d e, secondary d e a b c, escalation person f) notifies two
webhook targets and one target without a URL (configured, disabled). A daily `db` rotation
(p q r, handing off at 09:00 Europe/London) is added to cross DST changes. The helpers here
are shared with tests/receiver/handoffs/test_views.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.handoffs import briefings as briefings_module
from receiver.handoffs.briefings import brief_due_handoffs
from receiver.handoffs.models import HandoffBriefing, HandoffNote
from receiver.notify.models import NotificationMessage
from receiver.postmortems.models import ActionItemRecord, PostmortemRecord
from receiver.response.models import RoleRecord, StatusUpdateRecord
from receiver.rota.models import OverrideRecord
from receiver.store.database import Store
from scheduler.rota import Rota
from tests.support.golden_files import assert_golden
from tests.support.handoffs import handoff_config, incident, page, settings_for, utc
from tests.support.paths import GOLDEN as GOLDEN_DIR

LONDON = ZoneInfo("Europe/London")
GOLDEN = GOLDEN_DIR / "handoff"
HANDOFF = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)  # ops: a -> b (primary), d -> e (secondary)


# a's week (Nov 2-9): six pages in four interruptions, five of them at night (22:00-07:00).
A_PAGES = [
    utc(2026, 11, 3, 23, 0, 0),
    utc(2026, 11, 3, 23, 0, 40),  # within 60 s of the first: the same interruption
    utc(2026, 11, 4, 2, 0),
    utc(2026, 11, 4, 10, 0),  # daytime
    utc(2026, 11, 8, 22, 0, 0),
    utc(2026, 11, 8, 22, 0, 30),
]


def seed_week(session: Session) -> None:
    """a's week on ops primary, as the briefing at HANDOFF (Mon Nov 9 09:00) sees it."""
    session.add_all(
        [
            incident(
                1,
                "checkout",
                "SEV2",
                utc(2026, 11, 8, 22, 0),
                title="Checkout 5xx above 5%",
                acknowledged_at=utc(2026, 11, 8, 22, 3),
                acknowledged_by="a",
            ),
            incident(2, "checkout", "SEV3", utc(2026, 11, 9, 8, 40), title="Checkout p99 slow"),
            incident(3, "search", "SEV1", utc(2026, 11, 9, 8, 0)),  # not ops's service
            incident(
                4,
                "checkout",
                "SEV1",
                utc(2026, 11, 4, 1, 55),
                title="Checkout down",
                resolved_at=utc(2026, 11, 4, 4, 0),
            ),
            incident(  # resolved in the shift, nothing left to do: not listed
                5, "checkout", "SEV2", utc(2026, 11, 5, 1), resolved_at=utc(2026, 11, 5, 2)
            ),
            incident(  # resolved before the shift: not listed
                6, "checkout", "SEV2", utc(2026, 10, 30, 1), resolved_at=utc(2026, 10, 30, 2)
            ),
        ]
    )
    session.flush()
    session.add_all(
        [
            RoleRecord(
                id=1,
                incident_id=1,
                role="commander",
                person="a",
                assigned_at=utc(2026, 11, 8, 22, 3),
                assigned_by="a",
            ),
            RoleRecord(
                id=2,
                incident_id=1,
                role="scribe",
                person="d",
                assigned_at=utc(2026, 11, 8, 22, 5),
                assigned_by="a",
            ),
            *[
                StatusUpdateRecord(
                    id=n,
                    incident_id=1,
                    at=at,
                    by="a",
                    status=status,
                    severity="SEV2",
                    impact="1 in 20 payments fail",
                    current_action=action,
                    eta="",
                )
                for n, at, status, action in [
                    (1, utc(2026, 11, 8, 22, 30), "investigating", "checking the deploy"),
                    (2, utc(2026, 11, 9, 8, 30), "identified", "rolling back release 412"),
                ]
            ],
            PostmortemRecord(
                incident_id=4, scheduled_at=utc(2026, 11, 4, 4, 0), scheduled_by="a", exception=""
            ),
            PostmortemRecord(
                incident_id=5,
                scheduled_at=utc(2026, 11, 5, 2),
                scheduled_by="a",
                drafted_at=utc(2026, 11, 6),
                reviewed_at=utc(2026, 11, 8),
                exception="",
            ),
            PostmortemRecord(
                incident_id=6, scheduled_at=utc(2026, 10, 30, 2), scheduled_by="a", exception=""
            ),
            ActionItemRecord(
                id=1,
                incident_id=4,
                title="Alert on payment provider latency",
                owner="c",
                due_at=utc(2026, 11, 18, 17),
                status="open",
                created_at=utc(2026, 11, 4, 5),
                created_by="a",
            ),
            ActionItemRecord(
                id=2,
                incident_id=4,
                title="Roll back automatically",
                owner="a",
                status="closed",
                created_at=utc(2026, 11, 4, 5),
                created_by="a",
                closed_at=utc(2026, 11, 6),
                closed_by="a",
            ),
            OverrideRecord(  # in b's coming week
                id=1,
                rotation="ops",
                layer="primary",
                person="e",
                start_at=utc(2026, 11, 11, 9),
                end_at=utc(2026, 11, 12, 9),
                reason="b at the dentist",
                requested_by="b",
                created_at=utc(2026, 11, 1),
            ),
            OverrideRecord(  # after b's week: not listed
                id=2,
                rotation="ops",
                layer="secondary",
                person="c",
                start_at=utc(2026, 11, 20, 9),
                end_at=utc(2026, 11, 21, 9),
                reason="",
                requested_by="a",
                created_at=utc(2026, 11, 1),
            ),
        ]
    )
    rows: list[Any] = []
    for number, at in enumerate(A_PAGES, start=1):
        rows += page(number, 1, "a", at)
    rows += page(7, 4, "d", utc(2026, 11, 4, 2, 5))  # secondary
    rows += page(8, 2, "b", utc(2026, 11, 9, 9, 0, 10))  # after the handoff: b's week
    session.add_all(rows[0::2])
    session.flush()
    session.add_all(rows[1::2])


def note(session: Session, at: datetime, by: str, text: str) -> None:
    """A note left at `at`."""
    session.add(HandoffNote(rotation="ops", at=at, by=by, text=text))


def as_json(value: Any) -> str:
    """JSON as the golden files keep it."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


ONE_MINUTE = timedelta(minutes=1)


# --------------------------------------------------------------------------------------
# Tests


@pytest.fixture
def settings(store: Store) -> Settings:
    return settings_for(store)


@pytest.fixture
def seeded(store: Store, settings: Settings) -> Settings:
    """The week's rows and notes, on the settings under test."""

    def work(session: Session) -> None:
        seed_week(session)
        note(session, utc(2026, 10, 30, 12), "e", "Old note no briefing carried yet.")
        note(session, utc(2026, 11, 8, 17), "a", "Payments DB failover is flaky:\nwatch lag.")
        note(session, HANDOFF + timedelta(seconds=10), "b", "Left after the handoff.")

    store.write(work)
    return settings


def brief(settings: Settings, store: Store, now: datetime, rota: Rota | None = None) -> int:
    return brief_due_handoffs(
        settings=settings, store=store, rota=rota or build_rota(settings), now=now
    )


def briefings(store: Store) -> list[HandoffBriefing]:
    with store.read() as session:
        return list(
            session.exec(
                select(HandoffBriefing).order_by(
                    col(HandoffBriefing.handoff_at),
                    col(HandoffBriefing.rotation),
                    col(HandoffBriefing.layer),
                )
            )
        )


def messages(store: Store) -> list[NotificationMessage]:
    with store.read() as session:
        return list(session.exec(select(NotificationMessage).order_by(col(NotificationMessage.id))))


def test_briefing_reports_the_week_to_both_people(store: Store, seeded: Settings) -> None:
    assert brief(seeded, store, HANDOFF + timedelta(seconds=30)) == 2

    rows = briefings(store)
    assert [(r.layer, r.outgoing, r.incoming, r.late) for r in rows] == [
        ("primary", "a", "b", False),
        ("secondary", "d", "e", False),
    ]
    sent = messages(store)
    # Two enabled targets per layer; the target without a URL gets nothing.
    assert [(m.target, m.topic, m.dedup_key) for m in sent] == [
        ("ops-hook", "handoff_briefing", "handoff-ops-primary-20261109T0900Z"),
        ("ops-slack", "handoff_briefing", "handoff-ops-primary-20261109T0900Z"),
        ("ops-hook", "handoff_briefing", "handoff-ops-secondary-20261109T0900Z"),
        ("ops-slack", "handoff_briefing", "handoff-ops-secondary-20261109T0900Z"),
    ]
    primary = sent[0].payload
    assert primary["outgoing"] == {
        "name": "a",
        "email": "a@example.com",
        "time_zone": "Europe/London",
    }
    assert primary["incoming"]["email"] == "b@example.com"
    assert [(i["id"], i["status"], i["commander"]) for i in primary["open_incidents"]] == [
        (1, "identified", "a"),
        (2, "triggered", None),
    ]
    assert primary["open_incidents"][0]["last_update"]["current_action"] == (
        "rolling back release 412"
    )
    [follow_up] = primary["follow_ups"]
    assert (follow_up["id"], follow_up["postmortem_pending"]) == (4, "draft")
    assert [a["id"] for a in follow_up["open_action_items"]] == [1]
    assert primary["load"] == [
        {
            "person": "a",
            "pages": 6,
            "interruptions": 4,
            "night_pages": 5,
            "nights": 7,
            "night_pages_per_night": 0.71,
            "over_night_limit": False,
        }
    ]
    assert [o["id"] for o in primary["coming_up"]["overrides"]] == [1]
    assert primary["coming_up"]["unavailable"] == [
        {"person": "c", "first_day": "2026-11-13", "last_day": "2026-11-14", "reason": "KubeCon"}
    ]
    assert [n["by"] for n in primary["notes"]] == ["e", "a"]
    secondary = sent[2].payload
    assert [(load["person"], load["pages"]) for load in secondary["load"]] == [("d", 1)]
    assert secondary["notes"] == primary["notes"]  # every layer hears the rotation's notes
    assert sent[0].subject == "Handoff ops primary: a -> b at Mon 2026-11-09 09:00 GMT"


def test_briefing_matches_golden_files(store: Store, seeded: Settings) -> None:
    brief(seeded, store, HANDOFF + timedelta(seconds=30))

    primary = messages(store)[0]
    assert_golden(GOLDEN / "briefing.txt", primary.text)
    assert_golden(GOLDEN / "briefing.json", as_json(primary.payload))


def test_notes_are_carried_once_by_the_handoff_after_them(store: Store, seeded: Settings) -> None:
    brief(seeded, store, HANDOFF + timedelta(seconds=30))

    with store.read() as session:
        notes = {n.by: n.briefed_at for n in session.exec(select(HandoffNote))}
    assert notes == {"e": HANDOFF, "a": HANDOFF, "b": None}

    brief(seeded, store, HANDOFF + timedelta(days=7, minutes=1))
    later = [m.payload for m in messages(store) if m.dedup_key.endswith("20261116T0900Z")]
    assert [[n["text"] for n in p["notes"]] for p in later] == [["Left after the handoff."]] * 4


def test_each_handoff_is_briefed_once_however_often_the_job_runs(
    store: Store, seeded: Settings
) -> None:
    rota = build_rota(seeded)
    other = Store(store.settings)  # a second scheduler process on the same database
    try:
        counts = []
        for minutes in (0.5, 1, 2, 5, 60, 6 * 60, 3 * 24 * 60):
            now = HANDOFF + timedelta(minutes=minutes)
            counts += [brief(seeded, store, now, rota), brief(seeded, other, now, rota)]
    finally:
        other.dispose()

    assert counts == [2] + [0] * 13
    assert len(briefings(store)) == 2
    assert len(messages(store)) == 4


def test_the_unique_key_stops_a_second_scheduler_that_raced_past_the_check(
    store: Store, seeded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief(seeded, store, HANDOFF + timedelta(seconds=30))
    real = briefings_module._already_briefed
    raced = [False, False]  # the other scheduler's checks ran before this one committed
    checks: list[bool] = []

    def already_briefed(*args: Any) -> bool:
        checks.append(raced.pop() if raced else real(*args))
        return checks[-1]

    monkeypatch.setattr(briefings_module, "_already_briefed", already_briefed)

    assert brief(seeded, store, HANDOFF + timedelta(seconds=31)) == 0

    # primary: raced past both checks, refused by the key, retried, skipped; then secondary.
    assert checks == [False, False, True, True]
    assert len(briefings(store)) == 2
    assert len(messages(store)) == 4


def test_several_weekly_handoffs_each_briefed_with_their_own_people(
    store: Store, settings: Settings
) -> None:
    rota = build_rota(settings)
    for week in range(4):
        handoff_at = HANDOFF + timedelta(weeks=week)
        for hours in (0.02, 1, 30, 100):
            brief(settings, store, handoff_at + timedelta(hours=hours), rota)

    assert [
        (r.handoff_at.day, r.layer, r.outgoing, r.incoming, r.late) for r in briefings(store)
    ] == [
        (9, "primary", "a", "b", False),
        (9, "secondary", "d", "e", False),
        (16, "primary", "b", "c", False),
        (16, "secondary", "e", "a", False),
        (23, "primary", "c", "d", False),
        (23, "secondary", "a", "b", False),
        (30, "primary", "d", "e", False),
        (30, "secondary", "b", "c", False),
    ]
    assert len(messages(store)) == 16


def test_a_handoff_missed_while_down_is_briefed_late_and_older_ones_never(
    store: Store, seeded: Settings
) -> None:
    # Down from before Monday Nov 9's handoff until Monday Nov 16 at noon.
    assert brief(seeded, store, utc(2026, 11, 16, 12, 0)) == 2

    rows = briefings(store)
    assert {(r.handoff_at, r.late) for r in rows} == {(utc(2026, 11, 16, 9), True)}
    primary = messages(store)[0]
    assert primary.subject.startswith("LATE Handoff ops primary: b -> c")
    assert primary.text.startswith(
        "LATE: handoff at Mon 2026-11-16 09:00 GMT briefed late: onwatch was down"
    )
    assert primary.payload["late"] is True
    assert_golden(GOLDEN / "late.txt", primary.text)


def test_five_minutes_after_the_handoff_is_on_time_and_later_is_late(
    store: Store, settings: Settings
) -> None:
    brief(settings, store, HANDOFF + timedelta(minutes=5))
    brief(settings, store, HANDOFF + timedelta(weeks=1, minutes=5, seconds=1))

    assert [(r.handoff_at.day, r.late) for r in briefings(store)] == [
        (9, False),
        (9, False),
        (16, True),
        (16, True),
    ]


def test_first_deployment_briefs_only_the_current_shift(store: Store, settings: Settings) -> None:
    # ops started on Nov 2; onwatch first runs on Saturday Nov 28 (conftest's START).
    assert brief(settings, store, utc(2026, 11, 28, 6, 45)) == 2

    assert {r.handoff_at for r in briefings(store)} == {utc(2026, 11, 23, 9)}


def test_a_rotation_not_started_yet_is_not_briefed(store: Store, settings: Settings) -> None:
    assert brief(settings, store, utc(2026, 11, 2, 8, 59)) == 0
    assert brief(settings, store, utc(2026, 11, 2, 9, 1)) == 2  # the first handoff

    rows = briefings(store)
    assert [(r.outgoing, r.incoming) for r in rows] == [(None, "a"), (None, "d")]
    assert "Outgoing: nobody (a gap in the rota)" in messages(store)[0].text


def test_a_layer_handing_off_to_the_same_person_is_briefed_anyway(
    store: Store, settings: Settings
) -> None:
    def cover(session: Session) -> None:
        session.add(
            OverrideRecord(
                rotation="ops",
                layer="primary",
                person="a",
                start_at=HANDOFF,
                end_at=HANDOFF + timedelta(days=1),
                reason="b travels",
                requested_by="b",
                created_at=utc(2026, 11, 1),
            )
        )

    store.write(cover)

    brief(settings, store, HANDOFF + timedelta(minutes=1))

    primary = next(r for r in briefings(store) if r.layer == "primary")
    assert (primary.outgoing, primary.incoming) == ("a", "a")


def test_a_rotation_without_targets_records_the_handoff_and_sends_nothing(store: Store) -> None:
    config = handoff_config()
    config["rotations"][0]["notify"] = []
    settings = settings_for(store, config)

    assert brief(settings, store, HANDOFF + timedelta(minutes=1)) == 2

    assert len(briefings(store)) == 2
    assert messages(store) == []


@pytest.mark.parametrize(
    ("db_start", "first", "last", "expected_utc_hours", "span_hours"),
    [
        # Europe/London falls back on Sunday 2026-10-25: 09:00 is 08:00 UTC, then 09:00 UTC.
        (
            "2026-10-22",
            utc(2026, 10, 23, 7, 1),
            utc(2026, 10, 27, 10, 1),
            [8, 8, 8, 9, 9, 9],
            [24, 24, 25, 24, 24],
        ),
        # ... and springs forward on Sunday 2027-03-28: 09:00 UTC, then 08:00 UTC.
        (
            "2027-03-25",
            utc(2027, 3, 26, 7, 1),
            utc(2027, 3, 30, 10, 1),
            [9, 9, 9, 8, 8, 8],
            [24, 24, 23, 24, 24],
        ),
    ],
)
def test_daily_handoffs_across_dst_stay_at_nine_and_are_briefed_once(
    store: Store,
    db_start: str,
    first: datetime,
    last: datetime,
    expected_utc_hours: list[int],
    span_hours: list[int],
) -> None:
    settings = settings_for(store, handoff_config(db_start=db_start))
    rota = build_rota(settings)
    other = Store(store.settings)
    try:
        now = first
        while now <= last:  # hourly, at one minute past: two schedulers each time
            brief(settings, store, now, rota)
            brief(settings, other, now, rota)
            now += timedelta(hours=1)
    finally:
        other.dispose()

    rows = [r for r in briefings(store) if r.rotation == "db"]
    assert [r.handoff_at.hour for r in rows] == expected_utc_hours
    assert all(r.handoff_at.astimezone(LONDON).hour == 9 for r in rows)
    # The first is the shift in progress when this scheduler first ran: late; the rest on time.
    assert [r.late for r in rows] == [True] + [False] * 5
    assert [(r.outgoing, r.incoming) for r in rows[1:]] == [
        (rows[i].incoming, rows[i + 1].incoming) for i in range(5)
    ]
    sent = [m for m in messages(store) if m.dedup_key.startswith("handoff-db-")]
    assert len(sent) == len({m.dedup_key for m in sent}) == 6
    spans = [m.payload["outgoing_shift"] for m in sent[1:]]
    hours = [
        (datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"])) / timedelta(hours=1)
        for s in spans
    ]
    assert hours == span_hours
