"""The burden figures of a generated month, each checked against a count written differently.

October 2026 in Europe/London: Sydney starts summer time on the 4th and London ends it on the
25th, inside the month. Two rotations (weekly in London, daily in New York), people in
London, New York and Sydney, an override, page storms, pages outside the month.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.burden import (
    Incident,
    Month,
    MonthTotals,
    Page,
    Policy,
    burden_report,
    interruptions,
    month_totals,
    night_of,
    p90,
)
from scheduler.overrides import Override
from scheduler.roster import Layer, Member, Person, Rotation, ShiftLength, ShiftUnit
from scheduler.rota import Rota
from scheduler.shifts import Shift, ShiftSource

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
MONTH = Month(2026, 10, LONDON)
HOUR = timedelta(hours=1)


def _people() -> dict[str, Person]:
    zones = {"ann": LONDON, "bob": LONDON, "cat": NEW_YORK, "dan": SYDNEY, "eve": NEW_YORK}
    zones |= {"fay": SYDNEY, "gus": LONDON, "hal": NEW_YORK}
    people = {n: Person(n, f"{n}@example.com", z) for n, z in zones.items()}
    people["hal"] = Person(
        "hal", "hal@example.com", NEW_YORK, night_start=time(0), night_end=time(6)
    )
    return people


def _rotations() -> list[Rotation]:
    weekly = ("ann", "bob", "cat", "dan")
    daily = ("eve", "fay", "gus", "hal")
    return [
        Rotation(
            name="ops",
            zone=LONDON,
            members=tuple(Member(p) for p in weekly),
            layers=(Layer("primary", weekly), Layer("secondary", weekly[2:] + weekly[:2])),
            shift=ShiftLength(1, ShiftUnit.WEEKS),
            handoff_time=time(9),
            handoff_weekday=0,
            start=date(2026, 8, 3),
        ),
        Rotation(
            name="db",
            zone=NEW_YORK,
            members=tuple(Member(p) for p in daily),
            layers=(Layer("primary", daily),),
            shift=ShiftLength(1, ShiftUnit.DAYS),
            handoff_time=time(9),
            handoff_weekday=None,
            start=date(2026, 9, 1),
            min_rest=timedelta(days=2),
        ),
    ]


OVERRIDES = [
    # cat covers two nights of dan's week as primary (a partial shift, DST weekend in London):
    # five days after cat's own week, an hour before cat's next: two rest gaps broken.
    Override(
        1,
        "ops",
        "primary",
        "cat",
        datetime(2026, 10, 24, 18, tzinfo=UTC),
        datetime(2026, 10, 26, 8, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    ),
]


class Scenario:
    """A seeded month of pages and incidents, paged to whoever the rota says is on call."""

    def __init__(self, seed: int = 7) -> None:
        self.people = _people()
        self.rotations = _rotations()
        self.rota = Rota(self.rotations, self.people, lookahead=timedelta(days=1))
        rng = random.Random(seed)
        marks = random.Random(seed + 1)  # its own stream: the pages stay as they were
        self.pages: list[Page] = []
        self.incidents: list[Incident] = []
        alertnames = [("DiskFull", "disk"), ("HighLatency", "latency"), ("Down", "outage")]
        alertnames += [(f"Flappy{n}", "flap") for n in range(12)]
        start = MONTH.start - timedelta(days=2)
        span = int((MONTH.end - start + timedelta(days=2)).total_seconds())
        for number in range(1, 130):
            rotation = rng.choice(self.rotations)
            opened = (start + timedelta(seconds=rng.randrange(span))).astimezone(UTC)
            layer = rng.choice(rotation.layers).name
            shift = self.rota.on_call(rotation.name, opened, OVERRIDES)[layer]
            assert shift is not None and shift.person is not None
            storm = rng.choice([1, 1, 1, 2, 3, 5])
            at = opened
            for _ in range(storm):
                self.pages.append(Page(at, shift.person, rotation.name, number))
                at += timedelta(seconds=rng.choice([10, 30, 59, 60, 61, 90, 400]))
            severity = rng.choice(["SEV1", "SEV2", "SEV3", "SEV3", "SEV4"])
            acked = opened + timedelta(seconds=rng.randrange(900)) if rng.random() < 0.8 else None
            resolved = opened + timedelta(hours=rng.randrange(200)) if rng.random() < 0.9 else None
            alerts = tuple(sorted(set(rng.sample(alertnames, rng.choice([1, 1, 2])))))
            # Flappy alerts are mostly marked noise; some incidents are never classified.
            noisy = any(name.startswith("Flappy") for name, _ in alerts)
            weights = [1, 6, 1] if noisy else [1, 1, 4]
            classification = marks.choices([None, "noise", "actionable"], weights)[0]
            self.incidents.append(
                Incident(
                    number, rotation.name, severity, opened, acked, resolved, alerts, classification
                )
            )
        # An incident of a rotation that never paged (SEV4 pages nobody).
        self.incidents.append(
            Incident(999, "db", "SEV4", datetime(2026, 10, 10, tzinfo=UTC), None, None, ())
        )
        self.shifts = [
            shift
            for r in self.rotations
            for shift in self.rota.rotation_shifts(
                r.name, MONTH.start - timedelta(days=30), MONTH.end, OVERRIDES
            )
        ]

    def report(self, **kwargs):  # type: ignore[no-untyped-def]
        return burden_report(
            MONTH,
            pages=self.pages,
            incidents=self.incidents,
            shifts=self.shifts,
            people=self.people,
            rotations=self.rotations,
            **kwargs,
        )

    def month_pages(self, person: str | None = None, rotation: str | None = None) -> list[Page]:
        return sorted(
            (
                p
                for p in self.pages
                if MONTH.start <= p.at < MONTH.end
                and person in (None, p.person)
                and rotation in (None, p.rotation)
            ),
            key=lambda p: p.at,
        )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture(scope="module")
def report(scenario: Scenario):  # type: ignore[no-untyped-def]
    return scenario.report()


# --------------------------------------------------------------------------------------
# Independent counts


def count_interruptions(times: list[datetime], window: timedelta) -> int:
    """Jump from each run's first page past everything within the window of it."""
    count, i = 0, 0
    while i < len(times):
        count += 1
        i = bisect_right(times, times[i] + window)
    return count


def is_night(person: Person, at: datetime) -> bool:
    minutes = at.astimezone(person.zone).hour * 60 + at.astimezone(person.zone).minute
    start = person.night_start.hour * 60 + person.night_start.minute
    end = person.night_end.hour * 60 + person.night_end.minute
    return (minutes >= start or minutes < end) if start > end else start <= minutes < end


def night_key(person: Person, at: datetime) -> date:
    local = at.astimezone(person.zone)
    crosses = person.night_start > person.night_end
    return local.date() - timedelta(days=1) if crosses and local.hour < 12 else local.date()


def on_call_hours(scenario: Scenario) -> dict[str, list[tuple[datetime, str, str, Shift]]]:
    """Hour by hour (every boundary is on the hour), who the rota says is on call."""
    hours: dict[str, list[tuple[datetime, str, str, Shift]]] = defaultdict(list)
    at = (MONTH.start - timedelta(days=21)).astimezone(UTC)
    while at < MONTH.end:
        for r in scenario.rotations:
            for layer, shift in scenario.rota.on_call(r.name, at, OVERRIDES).items():
                if shift is not None and shift.person is not None:
                    hours[shift.person].append((at, r.name, layer, shift))
        at += HOUR
    return hours


@pytest.fixture(scope="module")
def hourly(scenario: Scenario) -> dict[str, list[tuple[datetime, str, str, Shift]]]:
    return on_call_hours(scenario)


def _person(report, name: str):  # type: ignore[no-untyped-def]
    return next(p for p in report.people if p.name == name)


# --------------------------------------------------------------------------------------
# Per person


def test_burden_covers_everyone_on_call_or_paged(report, scenario: Scenario, hourly) -> None:  # type: ignore[no-untyped-def]
    paged = {p.person for p in scenario.month_pages()}
    on_call = {n for n, hours in hourly.items() if any(h[0] >= MONTH.start for h in hours)}
    assert {p.name for p in report.people} == paged | on_call


def test_burden_on_call_hours_and_shifts(report, scenario: Scenario, hourly) -> None:  # type: ignore[no-untyped-def]
    for figure in report.people:
        mine = [h for h in hourly[figure.name] if h[0] >= MONTH.start]
        # An hour on call for two layers at once (the override below) is one hour on call.
        assert figure.on_call_hours == len({h[0] for h in mine}), figure.name
        pieces = set()
        for at, rotation, layer, _ in mine:
            shift = scenario.rota.on_call(rotation, at, OVERRIDES)[layer]
            pieces.add((rotation, layer, shift.start, shift.end))
        assert figure.shifts == len(pieces), figure.name
    # The month is 745 hours long (London falls back), and two rotations have three layers.
    assert sum(1 for hours in hourly.values() for h in hours if h[0] >= MONTH.start) == 3 * 745


def test_burden_pages_interruptions_nights(report, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    for figure in report.people:
        person = scenario.people[figure.name]
        mine = scenario.month_pages(figure.name)
        assert figure.pages == len(mine)
        times = [p.at for p in mine]
        assert figure.interruptions == count_interruptions(times, timedelta(seconds=60))
        nights = [p for p in mine if is_night(person, p.at)]
        assert figure.night_pages == len(nights)
        per_night = Counter(night_key(person, p.at) for p in nights)
        assert figure.nights_over_limit == sum(1 for n in per_night.values() if n > 2)
        assert dict(figure.night_pages_by_night) == dict(per_night)
        out = [
            p
            for p in mine
            if p.at.astimezone(person.zone).weekday() >= 5
            or not 9 <= p.at.astimezone(person.zone).hour < 17
        ]
        assert figure.out_of_hours_pages == len(out)
    assert report.pages == len(scenario.month_pages())
    assert sum(p.interruptions for p in report.people) < report.pages  # the storms merged


def test_burden_nights_on_call_and_average(report, scenario: Scenario, hourly) -> None:  # type: ignore[no-untyped-def]
    for figure in report.people:
        person = scenario.people[figure.name]
        nights = set()
        for at, *_ in hourly[figure.name]:
            for half in (at, at + timedelta(minutes=30)):
                if MONTH.start <= half < MONTH.end and is_night(person, half):
                    nights.add(night_key(person, half))
        assert figure.nights_on_call == len(nights), figure.name
        expected = figure.night_pages / len(nights) if nights else figure.night_pages
        assert figure.night_pages_per_night == round(expected, 2)
        flagged = any(f.rule == "night_pages" for f in figure.flags)
        assert flagged is (expected > 2)


def test_burden_acknowledgement_from_each_persons_first_page(report, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    acked = {i.id: i.acknowledged_at for i in scenario.incidents}
    for figure in report.people:
        first: dict[int, datetime] = {}
        for page in scenario.month_pages(figure.name):
            first[page.incident_id] = min(first.get(page.incident_id, page.at), page.at)
        hits = sum(
            1
            for incident, at in first.items()
            if acked[incident] is not None and (acked[incident] - at).total_seconds() <= 300
        )
        assert (figure.paged_incidents, figure.acked_within_target) == (len(first), hits)
        if first:
            assert figure.ack_within_target_pct == round(100 * hits / len(first), 1)


def test_burden_shortest_rest_and_breaches(report, scenario: Scenario, hourly) -> None:  # type: ignore[no-untyped-def]
    min_rest = {r.name: r.min_rest for r in scenario.rotations}
    assert len(set(min_rest.values())) == len(min_rest)  # no ties: one rotation per rule
    by_rotation: Counter[str] = Counter()
    for figure in report.people:
        hours = sorted({h[0]: (h[1], h[3]) for h in hourly[figure.name]}.items())
        rests = []
        for (before, (r1, s1)), (after, (r2, s2)) in zip(hours, hours[1:], strict=False):
            gap = after - before - HOUR
            # One scheduled shift, cut by someone else's override in between: not a rest.
            same = s1.source == s2.source == ShiftSource.SCHEDULE and (
                (s1.rotation, s1.layer, s1.index) == (s2.rotation, s2.layer, s2.index)
            )
            if gap > timedelta(0) and after >= MONTH.start and not same:
                rests.append((gap, max(min_rest[r1], min_rest[r2])))
        shortest = min((g for g, _ in rests), default=None)
        expected = None if shortest is None else round(shortest / HOUR, 2)
        assert figure.shortest_rest_hours == expected, figure.name
        breaches = [f for f in figure.flags if f.rule == "min_rest"]
        assert len(breaches) == sum(1 for gap, need in rests if gap < need), figure.name
        for gap, need in rests:
            if gap < need:  # the rotation whose rule it broke: the one asking for `need`
                by_rotation[next(r for r, rest in min_rest.items() if rest == need)] += 1
    assert {r.name: r.rest_breaches for r in report.rotations} == {
        r.name: by_rotation[r.name] for r in scenario.rotations
    }
    cat = _person(report, "cat")
    assert [f.rule for f in cat.flags].count("min_rest") == 2
    assert cat.shortest_rest_hours == 1.0
    assert not any(f.rule == "min_rest" for f in _person(report, "dan").flags)  # cut, not rested


# --------------------------------------------------------------------------------------
# Per rotation


def _nearest_rank_p90(values: list[float]) -> float:
    ordered = sorted(values)
    rank = (9 * len(ordered) + 9) // 10  # ceil(0.9 n)
    return ordered[rank - 1]


def _middle(values: list[float]) -> float:
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def test_burden_rotation_incidents_and_response(report, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    targets = {"SEV1": 4, "SEV2": 24, "SEV3": 72, "SEV4": 168}
    for figure in report.rotations:
        opened = [
            i
            for i in scenario.incidents
            if i.rotation == figure.name and MONTH.start <= i.opened_at < MONTH.end
        ]
        assert dict(figure.incidents_by_severity) == {
            s: sum(1 for i in opened if i.severity == s) for s in ("SEV1", "SEV2", "SEV3", "SEV4")
        }
        assert figure.incidents == len(opened)
        for response in figure.response:
            mine = [i for i in opened if i.severity == response.severity]
            acks = [
                (i.acknowledged_at - i.opened_at).total_seconds() for i in mine if i.acknowledged_at
            ]
            fixes = [(i.resolved_at - i.opened_at).total_seconds() for i in mine if i.resolved_at]
            if acks:
                assert response.ack_median_s == _middle(acks)
                assert response.ack_p90_s == _nearest_rank_p90(acks)
                on_time = sum(1 for a in acks if a <= 300)
                assert response.ack_within_target_pct == round(100 * on_time / len(mine), 1)
            if fixes:
                assert response.resolve_median_s == _middle(fixes)
                assert response.resolve_p90_s == _nearest_rank_p90(fixes)
                on_time = sum(1 for f in fixes if f <= targets[response.severity] * 3600)
                assert response.resolve_within_target_pct == round(100 * on_time / len(mine), 1)
    db = next(r for r in report.rotations if r.name == "db")
    assert db.incidents_by_severity["SEV4"] >= 1  # incident 999, never paged, still counted


def test_burden_rotation_pages_and_noisiest_alerts(report, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    alerts = {i.id: i.alerts for i in scenario.incidents}
    marked = {i.id: i.classification for i in scenario.incidents}
    for figure in report.rotations:
        mine = scenario.month_pages(rotation=figure.name)
        assert figure.pages == len(mine)
        assert figure.night_pages == sum(is_night(scenario.people[p.person], p.at) for p in mine)
        by_name: Counter[str] = Counter()
        at_night: Counter[str] = Counter()
        for page in mine:
            for name, _rule in alerts[page.incident_id]:
                by_name[name] += 1
                at_night[name] += is_night(scenario.people[page.person], page.at)
        expected = sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        assert [(a.alertname, a.pages) for a in figure.noisiest_by_pages] == expected
        expected_night = sorted(
            ((n, c) for n, c in at_night.items() if c), key=lambda kv: (-kv[1], kv[0])
        )[:10]
        assert [(a.alertname, a.night_pages) for a in figure.noisiest_by_night_pages] == (
            expected_night
        )
        # Of the incidents each alert fired in that paged this rotation this month.
        fired: dict[str, set[int]] = defaultdict(set)
        for page in mine:
            for name, _rule in alerts[page.incident_id]:
                fired[name].add(page.incident_id)
        for alert in (*figure.noisiest_by_pages, *figure.noisiest_by_night_pages):
            kinds = Counter(marked[i] for i in fired[alert.alertname])
            assert alert.incidents == len(fired[alert.alertname])
            assert (alert.noise_incidents, alert.actionable_incidents) == (
                kinds["noise"],
                kinds["actionable"],
            )
            assert alert.unclassified_incidents == kinds[None]
            classified = kinds["noise"] + kinds["actionable"]
            expected_pct = round(100 * kinds["noise"] / classified, 1) if classified else None
            assert alert.noise_pct == expected_pct
        mostly = {a.alertname for a in figure.mostly_noise}
        assert mostly == {
            a.alertname
            for a in (*figure.noisiest_by_pages, *figure.noisiest_by_night_pages)
            if a.noise_pct is not None and a.noise_pct >= 50
        }
        rules = {"DiskFull": "disk", "HighLatency": "latency", "Down": "outage"}
        assert all(rules.get(a.alertname, "flap") == a.rule for a in figure.noisiest_by_pages)
        assert sum(figure.pages_by_hour) == figure.pages


def test_burden_rotation_noise_of_its_incidents(report, scenario: Scenario) -> None:  # type: ignore[no-untyped-def]
    for figure in report.rotations:
        opened = [
            i
            for i in scenario.incidents
            if i.rotation == figure.name and MONTH.start <= i.opened_at < MONTH.end
        ]
        kinds = Counter(i.classification for i in opened)
        assert (figure.noise_incidents, figure.actionable_incidents) == (
            kinds["noise"],
            kinds["actionable"],
        )
        assert figure.unclassified_incidents == kinds[None]
        assert figure.noise_pct == round(
            100 * kinds["noise"] / (kinds["noise"] + kinds["actionable"]), 1
        )
    assert any(r.mostly_noise for r in report.rotations)  # the flappy alerts


def test_burden_rest_breach_between_equal_rules_goes_to_the_first_rotation() -> None:
    # Two rotations asking for the same rest: a breach between them is counted once, always
    # against the same one (the first by name), whatever the order of sets in this process.
    ann = Person("ann", "a@example.com", LONDON)
    weekly = [replace(r, min_rest=timedelta(days=2)) for r in _rotations()]
    day = datetime(2026, 10, 10, 9, tzinfo=UTC)
    shifts = [
        Shift("ops", "primary", 0, day, day + HOUR, "ann"),
        Shift("db", "primary", 0, day + 2 * HOUR, day + 3 * HOUR, "ann"),
    ]
    figures = burden_report(
        MONTH, pages=[], incidents=[], shifts=shifts, people={"ann": ann}, rotations=weekly
    )
    assert {r.name: r.rest_breaches for r in figures.rotations} == {"ops": 0, "db": 1}
    (flag,) = [f for f in figures.people[0].flags if f.rule == "min_rest"]
    assert flag.rotation == "db"


def test_burden_counts_a_page_once_per_alert_name() -> None:
    # One incident whose DiskFull alerts were graded by two rules: 2 pages, not 4.
    ann = Person("ann", "a@example.com", LONDON)
    at = datetime(2026, 10, 6, 12, tzinfo=UTC)
    incident = Incident(
        1,
        "ops",
        "SEV2",
        at,
        alerts=(("DiskFull", "disk"), ("DiskFull", "disk-critical"), ("Down", "outage")),
        classification="noise",
    )
    figures = burden_report(
        MONTH,
        pages=[Page(at, "ann", "ops", 1), Page(at + HOUR, "ann", "ops", 1)],
        incidents=[incident],
        shifts=[],
        people={"ann": ann},
        rotations=_rotations()[:1],
    )
    (ops,) = figures.rotations
    assert [(a.alertname, a.pages, a.incidents, a.noise_pct) for a in ops.noisiest_by_pages] == [
        ("DiskFull", 2, 1, 100.0),
        ("Down", 2, 1, 100.0),
    ]
    assert ops.noisiest_by_pages[0].rule == "disk-critical"  # tied on pages: the greater name


def test_burden_recommends_fixing_alerts_when_nights_are_heavy(scenario: Scenario) -> None:
    # Ten night pages on each of three nights of dan's (Sydney) ops shift.
    week = [s for s in scenario.shifts if s.person == "dan" and s.start >= MONTH.start][0]
    extra = []
    for night in range(3):
        at = datetime.combine(
            week.start.astimezone(SYDNEY).date() + timedelta(days=night + 1), time(2), SYDNEY
        )
        extra += [Page(at + timedelta(minutes=5 * n), "dan", "ops", 1) for n in range(10)]
    heavy = burden_report(
        MONTH,
        pages=[*scenario.pages, *extra],
        incidents=scenario.incidents,
        shifts=scenario.shifts,
        people=scenario.people,
        rotations=scenario.rotations,
        policy=Policy(),
    )
    dan = _person(heavy, "dan")
    assert dan.nights_over_limit >= 3
    ops = next(r for r in heavy.rotations if r.name == "ops")
    assert dan.night_pages_per_night > 2
    assert "dan" in ops.people_over_night_limit
    assert ops.recommendation is not None and "fix the alerts or staff up" in ops.recommendation
    # The alerts whose classified incidents are mostly noise are named in it.
    assert ops.mostly_noise
    for alert in ops.mostly_noise:
        assert alert.noise_pct is not None and alert.noise_pct >= 50
        assert f"{alert.alertname} ({alert.noise_pct:g} % of" in ops.recommendation
    assert "mostly noise: " in ops.recommendation


def test_burden_month_totals_are_the_full_reports_figures(scenario: Scenario) -> None:
    kwargs = {
        "pages": scenario.pages,
        "incidents": scenario.incidents,
        "shifts": scenario.shifts,
        "people": scenario.people,
        "rotations": scenario.rotations,
    }
    for month in (MONTH.previous(), MONTH):
        totals = month_totals(month, **kwargs)  # type: ignore[arg-type]
        assert totals == burden_report(month, **kwargs).totals()  # type: ignore[arg-type]
        assert set(totals.rotations) == {"ops", "db"}
    only = month_totals(MONTH, rotation="db", **kwargs)  # type: ignore[arg-type]
    assert only == MonthTotals(MONTH, {"db": month_totals(MONTH, **kwargs).rotations["db"]})  # type: ignore[arg-type]


def test_burden_change_against_previous_month(scenario: Scenario, report) -> None:  # type: ignore[no-untyped-def]
    previous = burden_report(
        MONTH.previous(),
        pages=scenario.pages,
        incidents=scenario.incidents,
        shifts=scenario.shifts,
        people=scenario.people,
        rotations=scenario.rotations,
    )
    with_change = scenario.report(previous=previous)
    for now, before in zip(with_change.rotations, previous.rotations, strict=True):
        assert now.change is not None
        assert now.change["pages"] == now.pages - before.pages
        assert now.change["night_pages"] == now.night_pages - before.night_pages
        assert now.change["incidents"] == now.incidents - before.incidents
        assert now.change["night_pages_per_night"] == round(
            now.night_pages_per_night - before.night_pages_per_night, 2
        )
    assert report.rotations[0].change is None
    # The cheaper totals give the same change as the whole report of the month before.
    totals = month_totals(
        MONTH.previous(),
        pages=scenario.pages,
        incidents=scenario.incidents,
        shifts=scenario.shifts,
        people=scenario.people,
        rotations=scenario.rotations,
    )
    assert [r.change for r in scenario.report(previous=totals).rotations] == [
        r.change for r in with_change.rotations
    ]


def test_burden_of_one_rotation_counts_only_its_pages(scenario: Scenario) -> None:
    only = scenario.report(rotation="db")
    assert [r.name for r in only.rotations] == ["db"]
    assert only.pages == len(scenario.month_pages(rotation="db"))
    for figure in only.people:
        assert figure.pages == len(scenario.month_pages(figure.name, "db"))


# --------------------------------------------------------------------------------------
# Definitions


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        ([], 0),
        ([0], 1),
        ([0, 60], 1),  # exactly 60 s after the first: same interruption
        ([0, 61], 2),
        ([0, 30, 59, 61], 2),  # a run is measured from its first page, not chained
        ([0, 50, 100, 150], 2),
    ],
)
def test_interruptions_count_runs_from_their_first_page(gaps: list[int], expected: int) -> None:
    base = datetime(2026, 10, 1, tzinfo=UTC)
    times = [base + timedelta(seconds=s) for s in gaps]
    assert interruptions(times, timedelta(seconds=60)) == expected


def test_night_of_names_the_evening_the_night_began() -> None:
    ann = Person("ann", "a@example.com", LONDON)
    assert night_of(ann, datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == date(2026, 10, 24)
    assert night_of(ann, datetime(2026, 10, 24, 21, 30, tzinfo=UTC)) == date(2026, 10, 24)  # BST
    assert night_of(ann, datetime(2026, 10, 25, 21, 30, tzinfo=UTC)) is None  # 21:30 GMT


def test_month_boundaries_follow_the_zone() -> None:
    assert MONTH.start == datetime(2026, 9, 30, 23, tzinfo=UTC)
    assert MONTH.end == datetime(2026, 11, 1, 0, tzinfo=UTC)
    assert Month.parse("2026-01", UTC).previous().label == "2025-12"
    with pytest.raises(ValueError, match="2026-11"):
        Month.parse("2026-13", UTC)


def test_p90_is_a_value_that_occurred() -> None:
    assert p90([float(n) for n in range(1, 11)]) == 9.0
    assert p90([5.0]) == 5.0
    assert p90([]) is None


def test_current_month_counts_only_the_nights_that_have_passed() -> None:
    """June so far (to the 5th, 12:00 UTC): 12 night pages over the 5 nights on call that have
    begun (31 May's, which ends on 1 June, to 4 June's), not over the month's 31 nights."""
    june = Month(2026, 6, LONDON)
    person = Person("ann", "ann@example.com", LONDON)
    rotation = replace(_rotations()[0], members=(Member("ann"),), layers=(Layer("p", ("ann",)),))
    shift = Shift("ops", "p", 0, june.start.astimezone(UTC), june.end.astimezone(UTC), "ann")
    # 02:00 London (01:00 UTC) on 1-4 June, three pages a night, a few minutes apart.
    pages = [
        Page(datetime(2026, 6, day, 1, minute, tzinfo=UTC), "ann", "ops", day)
        for day in range(1, 5)
        for minute in (0, 10, 20)
    ]
    now = datetime(2026, 6, 5, 12, tzinfo=UTC)
    kwargs = {
        "pages": pages,
        "incidents": [],
        "shifts": [shift],
        "people": {"ann": person},
        "rotations": [rotation],
    }
    so_far = burden_report(june, as_of=now, **kwargs)  # type: ignore[arg-type]
    (ann,) = so_far.people
    assert (ann.night_pages, ann.nights_on_call, ann.night_pages_per_night) == (12, 5, 2.4)
    assert ann.on_call_hours == round((now - june.start).total_seconds() / 3600, 2)
    assert [f.rule for f in ann.flags] == ["night_pages"]
    (ops,) = so_far.rotations
    assert (ops.nights_on_call, ops.night_pages_per_night) == (5, 2.4)
    assert ops.people_over_night_limit == ("ann",) and ops.recommendation is not None
    assert month_totals(june, as_of=now, **kwargs) == so_far.totals()  # type: ignore[arg-type]
    # No `as_of`, or one after the month: the whole month (31 nights begin in or before it).
    whole = burden_report(june, **kwargs)  # type: ignore[arg-type]
    assert whole.people[0].nights_on_call == 31 and whole.people[0].flags == ()
    later = burden_report(june, as_of=datetime(2026, 8, 1, tzinfo=UTC), **kwargs)  # type: ignore[arg-type]
    assert later == whole
