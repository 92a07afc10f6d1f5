"""Shift generation: member order, skips, fairness, joins and leaves, impossible rest gaps."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from scheduler.check import Rule, check
from scheduler.generation import generate
from scheduler.rota import Rota
from tests.support.rota_builders import DAILY, NEW_YORK, people, person, rotation

START = datetime(2026, 11, 1, tzinfo=UTC)


def names(shifts) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [shift.person for shift in shifts]


def test_generation_follows_member_order() -> None:
    result = generate([rotation()], people("a", "b", "c", "d"), START + timedelta(weeks=8))

    shifts = result[("ops", "primary")]
    assert names(shifts) == list("abcdabcd")
    assert all(
        earlier.end == later.start for earlier, later in zip(shifts, shifts[1:], strict=False)
    )


def test_generation_skips_unavailable_member_who_catches_up_next() -> None:
    crew = people("a", "b", "c", "d")
    crew["b"] = person("b", crew["b"].zone, (date(2026, 11, 9), date(2026, 11, 15)))

    shifts = generate([rotation()], crew, START + timedelta(weeks=8))[("ops", "primary")]

    assert names(shifts) == ["a", "c", "b", "d", "a", "c", "b", "d"]
    assert "b: unavailable 2026-11-09..2026-11-15 (holiday)" in shifts[1].note
    assert Counter(names(shifts)) == {"a": 2, "b": 2, "c": 2, "d": 2}


def test_generation_keeps_rest_gap_across_rotations() -> None:
    weekly = rotation("weekly", ("a", "b", "c", "d"))
    daily = rotation(
        "daily",
        ("a", "e", "f"),
        zone=NEW_YORK,
        weekday=None,
        rest=timedelta(days=1),
        length=DAILY,
        start=date(2026, 11, 2),
    )
    rota = Rota([weekly, daily], people(*"abcdef"))

    shifts = rota.person_shifts("a", START, START + timedelta(weeks=4))

    assert shifts[0].rotation == "weekly"
    week_end = shifts[0].end
    daily_a = [s for s in shifts if s.rotation == "daily"]
    # a is not given a daily shift during the weekly one, nor in the 7 days after it.
    assert all(s.start >= week_end + timedelta(days=7) or s.end <= shifts[0].start for s in daily_a)
    assert not [v for v in check(rota, START, START + timedelta(weeks=4)) if v.person == "a"]


def test_generation_says_when_rest_gap_cannot_be_kept() -> None:
    pair = rotation(members=("a", "b"), rest=timedelta(days=14))
    rota = Rota([pair], people("a", "b"))

    shifts = rota.layer_shifts("ops", "primary", START, START + timedelta(weeks=4))
    violations = check(rota, START, START + timedelta(weeks=4))

    assert names(shifts) == ["a", "b", "a", "b"]
    assert [s.rest_broken for s in shifts] == [False, False, True, True]
    assert shifts[2].note.startswith(
        "no member could keep the rotation's rest rules (a would have 7 days of rest before "
        "ops primary (starts 2026-11-16 09:00 UTC), after ops primary (ends 2026-11-09 09:00 "
        "UTC); the rotation ops requires 14 days"
    )
    rules = Counter(v.rule for v in violations)
    assert rules == {Rule.LAYER_TOO_SMALL: 1, Rule.REST_GAP: 2}
    too_small = next(v for v in violations if v.rule == Rule.LAYER_TOO_SMALL)
    assert too_small.message == (
        "ops primary: 2 members with 1 week shifts cannot each rest 14 days between shifts; "
        "it needs at least 3"
    )


def test_generation_reports_gap_when_nobody_can_take_shift() -> None:
    crew = people("a", "b")
    crew["a"] = person("a", crew["a"].zone, (date(2026, 11, 10), date(2026, 11, 22)))
    crew["b"] = person("b", crew["b"].zone, (date(2026, 11, 1), date(2026, 11, 30)))
    rota = Rota([rotation(members=("a", "b"), rest=timedelta(0))], crew)

    shifts = rota.layer_shifts("ops", "primary", START, START + timedelta(weeks=3))
    gaps = [v for v in check(rota, START, START + timedelta(weeks=3)) if v.rule == "nobody-on-call"]

    assert names(shifts) == ["a", None, None]
    assert len(gaps) == 2
    assert gaps[0].message.startswith("nobody on call for ops primary: nobody can take this shift")
    assert "b: unavailable 2026-11-01..2026-11-30 (holiday)" in gaps[0].message


def test_generation_respects_joins_and_leaves() -> None:
    crew = rotation(
        members=("a", "b", "c", "d", "e"),
        joins={"e": date(2026, 11, 23)},
        leaves={"a": date(2026, 12, 1)},
    )
    shifts = generate([crew], people(*"abcde"), START + timedelta(weeks=8))[("ops", "primary")]

    assert names(shifts[:3]) == ["a", "b", "c"]
    assert "e" not in names(shifts[:3])
    assert "a" not in names(shifts[4:])  # a's next turn would end after they left
    assert "e" in names(shifts[3:5])


def test_generation_further_ahead_never_changes_earlier_shifts() -> None:
    crew = people(*"abcde")
    crew["c"] = person("c", crew["c"].zone, (date(2027, 1, 1), date(2027, 1, 20)))
    rotations = [
        rotation(
            members=tuple("abcde"), layers={"primary": tuple("abcde"), "secondary": tuple("cdeab")}
        )
    ]

    short = generate(rotations, crew, START + timedelta(weeks=10))
    long = generate(rotations, crew, START + timedelta(weeks=60))

    for key, shifts in short.items():
        assert long[key][: len(shifts)] == shifts


def test_generation_is_fair_over_a_year() -> None:
    crew = people(*"abcdef")
    crew["a"] = person("a", crew["a"].zone, (date(2027, 2, 1), date(2027, 2, 21)))
    crew["d"] = person("d", crew["d"].zone, (date(2027, 6, 1), date(2027, 6, 30)))
    rotations = [
        rotation(
            members=tuple("abcdef"),
            layers={"primary": tuple("abcdef"), "secondary": tuple("defabc")},
        )
    ]

    result = generate(rotations, crew, START + timedelta(weeks=52))
    load = Counter(s.person for shifts in result.values() for s in shifts)

    assert max(load.values()) - min(load.values()) <= 2


def test_rota_asked_further_generates_on_from_where_it_stopped() -> None:
    rota = Rota([rotation()], people("a", "b", "c", "d"), lookahead=timedelta(days=7))
    near = rota.schedule("ops", "primary", START + timedelta(weeks=4))
    first = near[0]

    far = rota.schedule("ops", "primary", START + timedelta(weeks=260))

    # The same shift objects, extended: nothing before was generated again.
    assert far[0] is first
    assert len(far) > 250
    assert names(far[:8]) == list("abcdabcd")
