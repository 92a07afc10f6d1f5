"""Handoff briefings, pure: which handoff is due, who hands over, the load, what is coming."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduler.briefing import (
    HandoffFacts,
    LastUpdate,
    Note,
    OpenIncident,
    Paged,
    briefing_payload,
    briefing_subject,
    briefing_text,
    compose_briefing,
    due_handoff,
    next_handoff,
    shift_load,
    shifts_around,
)
from scheduler.overrides import Override
from scheduler.roster import ShiftLength, ShiftUnit
from scheduler.rota import Rota
from tests.support.rota_builders import DAILY, LONDON, NEW_YORK, person, rotation

# ops: weekly, Monday 09:00 London from Mon 2026-11-02; primary a b c d, secondary c d a b;
# c is away on Nov 12-13 (in b's week, when c is not on call).
MONDAY = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def ops_rota() -> Rota:
    ops = rotation(layers={"primary": ("a", "b", "c", "d"), "secondary": ("c", "d", "a", "b")})
    people = {name: person(name) for name in "abcd"}
    people["c"] = person("c", LONDON, (date(2026, 11, 12), date(2026, 11, 13)))
    return Rota([ops], people)


def override(
    number: int, person_name: str, start: datetime, end: datetime, layer: str = "primary"
) -> Override:
    return Override(number, "ops", layer, person_name, start, end, utc(2026, 11, 1), reason="")


# --------------------------------------------------------------------------------------
# Which handoff


def test_due_handoff_is_the_newest_at_or_before_now() -> None:
    ops = ops_rota().rotation("ops")

    assert due_handoff(ops, MONDAY) == MONDAY
    assert due_handoff(ops, MONDAY + timedelta(days=6, hours=23)) == MONDAY
    assert due_handoff(ops, MONDAY - timedelta(seconds=1)) == MONDAY - timedelta(weeks=1)
    assert due_handoff(ops, utc(2026, 11, 2, 8, 59)) is None  # not started


def test_due_handoff_is_none_past_seven_days() -> None:
    fortnightly = rotation(length=ShiftLength(2, ShiftUnit.WEEKS))

    assert due_handoff(fortnightly, utc(2026, 11, 9, 9)) == utc(2026, 11, 2, 9)
    assert due_handoff(fortnightly, utc(2026, 11, 9, 9, 1)) is None


@pytest.mark.parametrize(
    ("zone", "start", "now", "expected"),
    [
        # London falls back on 2026-10-25: 09:00 BST is 08:00 UTC, 09:00 GMT is 09:00 UTC.
        (LONDON, date(2026, 10, 20), utc(2026, 10, 25, 8, 30), utc(2026, 10, 24, 8)),
        (LONDON, date(2026, 10, 20), utc(2026, 10, 25, 9, 0), utc(2026, 10, 25, 9)),
        # New York springs forward on 2027-03-14: 09:00 EST is 14:00 UTC, EDT 13:00 UTC.
        (NEW_YORK, date(2027, 3, 10), utc(2027, 3, 14, 13, 30), utc(2027, 3, 14, 13)),
    ],
)
def test_due_handoff_across_dst(zone, start: date, now: datetime, expected: datetime) -> None:
    daily = rotation(zone=zone, length=DAILY, weekday=None, start=start)

    assert due_handoff(daily, now) == expected


def test_next_handoff_and_the_shifts_around_one() -> None:
    daily = rotation(length=DAILY, weekday=None, start=date(2026, 10, 20), handoff=time(9))

    at = next_handoff(daily, utc(2026, 10, 24, 12))

    assert at == utc(2026, 10, 25, 9)
    outgoing, incoming = shifts_around(daily, at)
    assert outgoing == (utc(2026, 10, 24, 8), at)  # 25 hours: the clocks went back
    assert incoming == (at, utc(2026, 10, 26, 9))
    assert next_handoff(daily, utc(2026, 1, 1)) == utc(2026, 10, 20, 8)  # not started yet


# --------------------------------------------------------------------------------------
# The load


def test_load_counts_interruptions_night_pages_and_the_line() -> None:
    rota = ops_rota()
    pages = [
        Paged("a", utc(2026, 11, 3, 23, 0, 0)),
        Paged("a", utc(2026, 11, 3, 23, 0, 59)),  # one interruption with the first
        Paged("a", utc(2026, 11, 3, 23, 2, 0)),
        Paged("a", utc(2026, 11, 4, 12, 0)),  # daytime
        Paged("c", utc(2026, 11, 4, 1, 0)),  # secondary: not a's load
        Paged("a", utc(2026, 11, 9, 9, 30)),  # after the shift
    ]

    [load] = shift_load(rota, "ops", "primary", (utc(2026, 11, 2, 9), MONDAY), pages)

    assert (load.person, load.pages, load.interruptions) == ("a", 4, 3)
    assert (load.night.night_pages, load.night.nights, load.night.over_limit) == (3, 7, False)


def test_load_over_the_line_after_two_heavy_nights() -> None:
    rota = ops_rota()
    nights = [utc(2026, 11, 2, 23, minute) for minute in (0, 5, 10)]
    nights += [utc(2026, 11, 4, 2, minute) for minute in (0, 5, 10, 15)]

    [load] = shift_load(
        rota,
        "ops",
        "primary",
        (utc(2026, 11, 2, 9), utc(2026, 11, 4, 9)),
        map(Paged, "a" * 7, nights),
    )

    assert (load.night.night_pages, load.night.nights) == (7, 2)
    assert load.night.over_limit  # 3.5 a night


def test_load_is_split_between_the_people_who_held_the_layer() -> None:
    rota = ops_rota()
    cover = override(1, "c", utc(2026, 11, 5, 9), utc(2026, 11, 6, 9))
    pages = [Paged("a", utc(2026, 11, 4, 23)), Paged("c", utc(2026, 11, 5, 23))]

    loads = shift_load(rota, "ops", "primary", (utc(2026, 11, 2, 9), MONDAY), pages, [cover])

    assert [(x.person, x.pages, x.night.nights) for x in loads] == [("a", 1, 6), ("c", 1, 1)]


# --------------------------------------------------------------------------------------
# The briefing


def test_briefing_names_the_people_on_either_side_overrides_included() -> None:
    rota = ops_rota()
    facts = HandoffFacts(
        overrides=(
            override(1, "c", MONDAY - timedelta(hours=2), MONDAY),  # covers a's last hours
            override(2, "d", utc(2026, 11, 10, 9), utc(2026, 11, 11, 9)),  # in b's week
            override(3, "a", utc(2026, 11, 20, 9), utc(2026, 11, 21, 9)),  # after it
        )
    )

    briefing = compose_briefing(rota, "ops", "primary", MONDAY, MONDAY, facts)

    assert (briefing.outgoing.name, briefing.incoming.name) == ("c", "b")  # type: ignore[union-attr]
    assert [o.id for o in briefing.overrides] == [2]
    assert [(a.person, a.first_day) for a in briefing.absences] == [("c", date(2026, 11, 12))]


def test_briefing_is_late_only_past_five_minutes() -> None:
    rota = ops_rota()

    on_time = compose_briefing(
        rota, "ops", "primary", MONDAY, MONDAY + timedelta(minutes=5), HandoffFacts()
    )
    late = compose_briefing(
        rota, "ops", "primary", MONDAY, MONDAY + timedelta(minutes=5, seconds=1), HandoffFacts()
    )

    assert not on_time.late and late.late
    assert briefing_subject(late) == "LATE Handoff ops primary: a -> b at Mon 2026-11-09 09:00 GMT"
    assert late.composed_at == MONDAY + timedelta(minutes=5, seconds=1)
    assert briefing_text(late).splitlines()[0] == (
        "LATE: handoff at Mon 2026-11-09 09:00 GMT briefed late: onwatch was down "
        "(briefed Mon 2026-11-09 09:05 GMT)."
    )
    assert not briefing_text(on_time).startswith("LATE")


def test_preview_counts_the_outgoing_shift_up_to_now() -> None:
    rota = ops_rota()
    now = utc(2026, 11, 7, 12)
    pages = (Paged("a", utc(2026, 11, 6, 23)),)

    briefing = compose_briefing(rota, "ops", "primary", MONDAY, now, HandoffFacts(pages=pages))

    [load] = briefing.load
    assert (load.pages, load.night.nights) == (1, 5)  # nights of Nov 2..6 have begun
    assert not briefing.late


def test_open_incidents_sorted_by_severity_then_age_with_status() -> None:
    rota = ops_rota()
    older = OpenIncident(7, "Disk", "checkout", "SEV3", "#c", utc(2026, 11, 8), "a")
    worse = OpenIncident(
        9,
        "Down",
        "checkout",
        "SEV1",
        "#d",
        utc(2026, 11, 9, 8),
        "a",
        "a",
        LastUpdate(utc(2026, 11, 9, 8, 30), "a", "monitoring", ""),
    )
    fresh = OpenIncident(8, "Slow", "checkout", "SEV3", "#s", utc(2026, 11, 9, 7))
    facts = HandoffFacts(open_incidents=(fresh, older, worse))

    briefing = compose_briefing(rota, "ops", "primary", MONDAY, MONDAY, facts)

    assert [(i.id, i.status) for i in briefing.open_incidents] == [
        (9, "monitoring"),
        (7, "acknowledged"),
        (8, "triggered"),
    ]
    payload = briefing_payload(briefing)
    assert payload["open_incidents"][0]["age_seconds"] == 3600
    assert payload["open_incidents"][0]["last_update"]["status"] == "monitoring"


def test_text_lists_notes_with_their_lines_indented() -> None:
    rota = ops_rota()
    facts = HandoffFacts(notes=(Note(1, utc(2026, 11, 8, 17), "a", "line one\nline two"),))

    text = briefing_text(compose_briefing(rota, "ops", "primary", MONDAY, MONDAY, facts))

    assert "- Sun 2026-11-08 17:00 GMT, a: line one\n  line two\n" in text
    assert text.endswith("\n")
