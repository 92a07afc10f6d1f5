"""The rest rules (`scheduler.rest`): wording in the rule's unit, never a negative rest, and
the longest stretch on call (`max_consecutive`) kept by generation and by the check alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.check import POLICY_MIN_REST, Rule, check, policy_warnings
from scheduler.rota import Rota
from tests.support.rota_builders import DAILY, people, rotation

START = datetime(2026, 11, 2, tzinfo=UTC)


def test_rest_is_said_in_hours_when_the_rule_is_in_hours() -> None:
    pair = rotation(members=("a", "b"), length=DAILY, weekday=None, rest=timedelta(hours=36))
    rota = Rota([pair], people("a", "b"))

    [first, *_] = [v for v in check(rota, START, START + timedelta(days=4)) if v.person == "a"]

    assert first.rule == Rule.REST_GAP
    assert first.message == (
        "a would have 24 hours of rest before ops primary (starts 2026-11-04 09:00 UTC), after "
        "ops primary (ends 2026-11-03 09:00 UTC); the rotation ops requires 36 hours"
    )


def test_one_person_with_no_rest_is_stopped_after_one_shift_by_default() -> None:
    alone = rotation(members=("a",), length=DAILY, weekday=None, rest=timedelta(0))
    rota = Rota([alone], people("a"))

    shifts = rota.layer_shifts("ops", "primary", START, START + timedelta(days=4))
    violations = check(rota, START + timedelta(days=1), START + timedelta(days=4))

    assert [s.person for s in shifts] == ["a"] * 4
    assert [s.rest_broken for s in shifts] == [False, True, True, True]
    assert "a would be on call for 2 days without a break" in shifts[1].note
    assert {v.rule for v in violations} == {Rule.MAX_CONSECUTIVE}
    assert violations[0].message == (
        "a would be on call for 2 days without a break (2026-11-02 09:00 .. 2026-11-04 09:00 "
        "UTC); the rotation ops allows at most 1 day"
    )


def test_max_consecutive_allows_back_to_back_shifts_up_to_its_length() -> None:
    alone = rotation(members=("a",), length=DAILY, weekday=None, rest=timedelta(0))
    rota = Rota([_longest(alone, timedelta(days=3))], people("a"))

    shifts = rota.layer_shifts("ops", "primary", START, START + timedelta(days=4))

    assert [s.rest_broken for s in shifts] == [False, False, False, True]


def test_two_people_with_no_rest_take_turns_without_a_violation() -> None:
    pair = rotation(members=("a", "b"), length=DAILY, weekday=None, rest=timedelta(0))
    rota = Rota([pair], people("a", "b"))

    shifts = rota.layer_shifts("ops", "primary", START, START + timedelta(days=4))

    assert [s.person for s in shifts] == ["a", "b", "a", "b"]
    assert check(rota, START, START + timedelta(days=4)) == []


def test_policy_warns_of_a_rest_below_a_week_only() -> None:
    daily = rotation("daily", length=DAILY, weekday=None, rest=timedelta(days=2))
    weekly = rotation("weekly", rest=POLICY_MIN_REST)
    rota = Rota([daily, weekly], people("a", "b", "c", "d"))

    assert [(w.rotation, w.message) for w in policy_warnings(rota)] == [
        (
            "daily",
            "daily: min_rest 2 days is below the process's 7 days between shifts "
            "(docs/incident-process.md, rules the rota keeps)",
        )
    ]


def _longest(rot, span: timedelta):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(rot, max_consecutive=span)
