"""Properties of the rota that must hold for any configuration hypothesis can think of.

- one person per layer at every instant, or an explicit gap: a layer's final shifts
  (overrides applied) tile time without holes or overlaps;
- no two shifts of one person closer than the rest gap unless the schedule flagged it
  (`rest_broken`) or an override caused it;
- who is on call at an instant is the final shift containing it;
- regenerating a feed keeps the UID of every shift.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.check import Rule, check
from scheduler.feeds import rotation_events
from scheduler.generation import generate
from scheduler.overrides import Override
from scheduler.roster import ShiftLength, ShiftUnit
from scheduler.rota import Rota
from tests.support.rota_builders import LONDON, NEW_YORK, SYDNEY, person, rotation

START = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=70)
NAMES = "abcdefg"


@st.composite
def rotas(draw: st.DrawFn) -> tuple[Rota, list[Override]]:
    crew = {}
    for name in NAMES:
        away = draw(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 10)), max_size=2))
        periods = [
            (date(2026, 11, 1) + timedelta(days=d), date(2026, 11, 1) + timedelta(days=d + n))
            for d, n in away
        ]
        crew[name] = person(name, LONDON, *periods)
    rotations = []
    for number in range(draw(st.integers(1, 2))):
        members = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
        second = draw(st.permutations(members))
        layers = {"primary": tuple(members)}
        if draw(st.booleans()):
            layers["secondary"] = tuple(second)
        length = draw(
            st.sampled_from(
                [
                    ShiftLength(12, ShiftUnit.HOURS),
                    ShiftLength(1, ShiftUnit.DAYS),
                    ShiftLength(1, ShiftUnit.WEEKS),
                ]
            )
        )
        rotations.append(
            rotation(
                f"r{number}",
                tuple(members),
                layers=layers,
                zone=draw(st.sampled_from([LONDON, NEW_YORK, SYDNEY])),
                length=length,
                handoff=time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
                weekday=draw(st.sampled_from([None, 0, 4])),
                start=date(2026, 11, 1) + timedelta(days=draw(st.integers(0, 10))),
                rest=timedelta(hours=draw(st.sampled_from([0, 12, 48, 168]))),
            )
        )
    rota = Rota(rotations, crew, lookahead=timedelta(days=7))  # generate no more than asked
    overrides = []
    for number in range(draw(st.integers(0, 4))):
        target = draw(st.sampled_from(rotations))
        begin = START + timedelta(hours=draw(st.integers(0, 24 * 60)))
        overrides.append(
            Override(
                id=number + 1,
                rotation=target.name,
                layer=draw(st.sampled_from([layer.name for layer in target.layers])),
                person=draw(st.sampled_from(NAMES)),
                start=begin,
                end=begin + timedelta(hours=draw(st.integers(1, 24 * 5))),
                created_at=START,
            )
        )
    return rota, overrides


@settings(max_examples=60, deadline=None)
@given(rotas())
def test_rota_one_person_per_layer_at_every_instant(case: tuple[Rota, list[Override]]) -> None:
    rota, overrides = case
    for name, rot in rota.rotations.items():
        for layer in rot.layers:
            shifts = rota.layer_shifts(name, layer.name, START, START + SPAN, overrides)
            assert shifts, "a started rotation always has shifts"
            for earlier, later in zip(shifts, shifts[1:], strict=False):
                assert earlier.end == later.start
                assert earlier.start < earlier.end
            probe = shifts[len(shifts) // 2].start + timedelta(minutes=1)
            assert rota.on_call(name, probe, overrides)[layer.name] == shifts[len(shifts) // 2]


@settings(max_examples=60, deadline=None)
@given(rotas())
def test_rota_rest_gap_broken_only_when_flagged(case: tuple[Rota, list[Override]]) -> None:
    rota, _ = case
    shifts = {
        (s.person, s.end): s
        for name in rota.rotations
        for s in rota.rotation_shifts(name, START, START + SPAN)
    }
    for violation in check(rota, START, START + SPAN):
        if violation.rule == Rule.REST_GAP:
            # The later shift of the pair was given knowingly, and says why.
            later = [
                s
                for s in shifts.values()
                if s.person == violation.person and s.start == violation.end
            ]
            assert later and later[0].rest_broken, violation.message
            assert "no member could keep" in later[0].note
        assert violation.rule != Rule.TWO_LAYERS_AT_ONCE


@settings(max_examples=40, deadline=None)
@given(rotas(), st.integers(1, 20))
def test_rota_feed_regeneration_keeps_every_uid(
    case: tuple[Rota, list[Override]], days_later: int
) -> None:
    rota, overrides = case
    name = next(iter(rota.rotations))
    later = timedelta(days=days_later)

    first = {e.uid: e for e in rotation_events(rota, name, START, START + SPAN, overrides)}
    rebuilt = Rota(list(rota.rotations.values()), rota.people, lookahead=timedelta(days=7))
    second = {
        e.uid: e
        for e in rotation_events(rebuilt, name, START + later, START + SPAN + later, overrides)
    }

    for uid in first.keys() & second.keys():
        assert (first[uid].start, first[uid].end, first[uid].summary) == (
            second[uid].start,
            second[uid].end,
            second[uid].summary,
        )
    # Every shift wholly inside both windows is in both feeds under the same UID.
    both = [e for e in first.values() if e.start >= START + later and e.end <= START + SPAN]
    assert all(e.uid in second for e in both)


@settings(max_examples=60, deadline=None)
@given(rotas(), st.integers(0, 40))
def test_rota_check_reports_every_shift_generation_flagged(
    case: tuple[Rota, list[Override]], offset_days: int
) -> None:
    # The check starts later than generation did: rests and stretches on call that began
    # before its range still count (a weekly rotation's rest across a daily shift between).
    rota, _ = case
    start = START + timedelta(days=offset_days)
    violations = check(rota, start, START + SPAN)
    flagged = [
        shift
        for name in rota.rotations
        for shift in rota.rotation_shifts(name, start, START + SPAN)
        if shift.rest_broken
    ]
    for shift in flagged:
        reported = [
            v
            for v in violations
            if v.person == shift.person
            and (
                (v.rule == Rule.REST_GAP and v.end == shift.start and v.message in shift.note)
                or (
                    v.rule == Rule.MAX_CONSECUTIVE
                    and v.start is not None
                    and v.end is not None
                    and v.start <= shift.start
                    and shift.end <= v.end
                )
            )
        ]
        assert reported, (shift, [v.message for v in violations if v.person == shift.person])


def test_rota_check_reports_a_rest_carried_across_a_shift_between() -> None:
    # Issue 18: a's daily shifts of 01-23 and 01-26 come within the weekly rotation's 8 days
    # after a's weekly shift; a check starting 01-12 must report them as generation flagged them.
    weekly = rotation("weekly", ("a", "d"), start=date(2026, 1, 5), rest=timedelta(days=8))
    daily = rotation(
        "daily",
        ("a", "b", "c"),
        length=ShiftLength(1, ShiftUnit.DAYS),
        weekday=None,
        start=date(2026, 1, 5),
        rest=timedelta(days=2),
    )
    rota = Rota([weekly, daily], {name: person(name) for name in "abcd"})
    start, end = datetime(2026, 1, 12, tzinfo=UTC), datetime(2026, 1, 30, tzinfo=UTC)

    flagged = [
        s for s in rota.rotation_shifts("daily", start, end) if s.rest_broken and s.person == "a"
    ]
    reported = {v.end: v.message for v in check(rota, start, end) if v.person == "a"}

    assert [s.start.day for s in flagged] == [20, 23, 26]
    for shift in flagged:
        assert reported[shift.start] in shift.note
    assert reported[flagged[1].start] == (
        "a would have 4 days of rest before daily primary (starts 2026-01-23 09:00 UTC), after "
        "weekly primary (ends 2026-01-19 09:00 UTC); the rotation weekly requires 8 days"
    )


@settings(max_examples=60, deadline=None)
@given(rotas(), st.data())
def test_rota_shifts_keep_their_whole_bounds_and_uid_wherever_the_window_cuts(
    case: tuple[Rota, list[Override]], data: st.DataObject
) -> None:
    # Issue 18: an override was clipped to the window, so its UID and start changed daily.
    rota, overrides = case
    target = data.draw(st.sampled_from(overrides)) if overrides else None
    name = target.rotation if target else next(iter(rota.rotations))
    if target is not None:  # a window starting inside an override: where clipping showed
        later = target.start + (target.end - target.start) * data.draw(st.floats(0.01, 0.99))
    else:
        later = START + timedelta(days=data.draw(st.integers(1, 20)))
    later = later.replace(microsecond=0)

    first = {
        (e.uid, e.start, e.end) for e in rotation_events(rota, name, START, START + SPAN, overrides)
    }
    second = rotation_events(rota, name, later, later + SPAN, overrides)
    shared = {(e.uid, e.start, e.end) for e in second if e.start < START + SPAN}
    assert shared <= first

    whole = rota.rotation_shifts(name, START, START + SPAN, overrides)
    cut = rota.rotation_shifts(name, later, later + SPAN, overrides)
    assert {s for s in cut if s.start < START + SPAN} <= set(whole)


@settings(max_examples=40, deadline=None)
@given(
    rotas(),
    st.integers(1, 90),
    st.lists(st.integers(0, 24 * 90 - 1), min_size=1, max_size=6),
)
def test_rota_warmed_up_answers_as_generation_from_the_start(
    case: tuple[Rota, list[Override]], days: int, hours: list[int]
) -> None:
    rota, overrides = case
    until = START + timedelta(days=days)
    rota.on_call(next(iter(rota.rotations)), START)  # generated a little, as a worker would

    rota.warm_up(until)

    generated = rota.generated_until
    assert generated is not None and generated >= until
    whole = generate(list(rota.rotations.values()), rota.people, until)
    for (name, layer), shifts in whole.items():
        # Nothing more is generated to answer: the warm-up's shifts are the ones asked.
        assert rota.schedule(name, layer, until)[: len(shifts)] == shifts
    fresh = Rota(list(rota.rotations.values()), rota.people, lookahead=timedelta(days=7))
    for hour in hours:
        at = START + timedelta(hours=hour)
        for name in rota.rotations:
            assert rota.on_call(name, at, overrides) == fresh.on_call(name, at, overrides)
