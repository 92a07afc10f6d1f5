"""Fairness: how evenly a layer's shifts fall on its members, and `rota check` saying so.

The rotations of issue 18 (found by a random search): r0 daily in New York, r1 weekly in
Tehran, five people, four of them in both. With a week's rest before and after each r1 week,
one r0 person must do r1 every other week for r0 to keep its own 48-hour rest, so the rules
themselves leave r0 and r1 uneven; the check must say so rather than "OK". No rule for
choosing among the members who keep the rules can help: after the first three, every r0 and
r1 shift of the year has exactly one such member, and an exhaustive search of the first 13
weeks finds 432 rule-keeping schedules, each leaving one r0 member at most 2 r0 shifts (the
member who alternates r1 weeks with p1 can never hand that role on without someone's rest
being cut short).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.check import Rule, check
from scheduler.roster import ShiftLength, ShiftUnit
from scheduler.rota import Rota
from tests.support.rota_builders import LONDON, NEW_YORK, SYDNEY, people, rotation

FROM, TO = datetime(2026, 3, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)


def _shared_rotations() -> list:  # type: ignore[type-arg]
    r0 = rotation(
        "r0",
        ("p4", "p2", "p3", "p0"),
        zone=ZoneInfo("America/New_York"),
        length=ShiftLength(1, ShiftUnit.DAYS),
        handoff=time(1, 30),
        weekday=None,
        start=date(2026, 3, 1),
        rest=timedelta(hours=48),
    )
    r1 = rotation(
        "r1",
        ("p4", "p3", "p2", "p1", "p0"),
        zone=ZoneInfo("Asia/Tehran"),
        handoff=time(2, 30),
        weekday=1,
        start=date(2026, 3, 1),
        rest=timedelta(hours=168),
    )
    return [r0, r1]


def test_check_reports_a_layer_whose_load_is_uneven_across_rotations() -> None:
    rota = Rota(_shared_rotations(), people("p0", "p1", "p2", "p3", "p4"))

    uneven = [v for v in check(rota, FROM, TO) if v.rule == Rule.UNEVEN_LOAD]

    assert [v.rotation for v in uneven] == ["r0", "r1"]
    assert uneven[0].message.startswith("r0 primary: uneven load from 2026-03-01 to 2027-03-01: ")
    assert uneven[0].message.endswith("the rotation allows at most 2 apart (max_spread)")


def test_the_spread_bound_is_the_rotations() -> None:
    loose = [replace(r, max_spread=200) for r in _shared_rotations()]
    rota = Rota(loose, people("p0", "p1", "p2", "p3", "p4"))

    assert not [v for v in check(rota, FROM, TO) if v.rule == Rule.UNEVEN_LOAD]


@st.composite
def single_rotations(draw: st.DrawFn) -> Rota:
    members = tuple(draw(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=6, unique=True)))
    layers = {"primary": members}
    if draw(st.booleans()):
        layers["secondary"] = tuple(draw(st.permutations(members)))
    one = rotation(
        "r",
        members,
        layers=layers,
        zone=draw(st.sampled_from([LONDON, NEW_YORK, SYDNEY])),
        length=draw(
            st.sampled_from(
                [
                    ShiftLength(12, ShiftUnit.HOURS),
                    ShiftLength(1, ShiftUnit.DAYS),
                    ShiftLength(1, ShiftUnit.WEEKS),
                ]
            )
        ),
        handoff=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
        weekday=draw(st.sampled_from([None, 0, 4])),
        start=date(2026, 3, 1),
        rest=timedelta(hours=draw(st.sampled_from([0, 12, 48, 168]))),
    )
    return Rota([one], people(*members), lookahead=timedelta(days=7))


@settings(max_examples=80, deadline=None)
@given(single_rotations())
def test_one_rotation_keeps_each_layer_within_the_default_bound(rota: Rota) -> None:
    # Within one shift is not always so, before this change too: six people on two 12-hour
    # layers with a 12-hour rest (New York, Friday 20:00) reach 37..39 shifts in 120 days,
    # as a person coming off one layer is skipped by the other. Within two (the check's
    # default bound) it is, so one rotation alone never reads as uneven.
    start, end = FROM, FROM + timedelta(days=120)
    for layer in rota.rotation("r").layers:
        shifts = rota.layer_shifts("r", layer.name, start, end)
        counts = Counter(s.person for s in shifts)
        load = [counts.get(name, 0) for name in layer.order]
        assert max(load) - min(load) <= 2, (layer.name, counts)
    assert not [v for v in check(rota, start, end) if v.rule == Rule.UNEVEN_LOAD]
