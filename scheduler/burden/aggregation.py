"""The month's burden report: its pages sorted out once, then figures per person and rotation.

`burden_report` sorts the month's pages by person and by rotation in one pass, each with its
night, business-hours verdict and local hour (from `clock`), works out each person's figures
(`people`), then each rotation's: incidents and response times per severity, pages by hour,
the noisiest alerts (`noise`), the recommendation and the change from the month before.
`month_totals` works out only the figures that change is against, for less work.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from rules.severity import SEVERITIES
from scheduler.burden.clock import _UNSET, _Clock
from scheduler.burden.nights import _merge, nights_on_call
from scheduler.burden.noise import _classification, _mostly_noise, _noisiest, describe_noise
from scheduler.burden.people import _person
from scheduler.burden.stats import _pct, interruptions, median, p90
from scheduler.burden.values import (
    ACTIONABLE,
    CHANGE_FIGURES,
    NOISE,
    RECOMMENDATION,
    AlertNoise,
    BurdenReport,
    Incident,
    Month,
    MonthTotals,
    Page,
    Policy,
    RotationBurden,
    SeverityResponse,
    _at,
    _hour,
    _night,
    _out_of_hours,
    _page,
    _Seen,
)
from scheduler.night_pages import per_night
from scheduler.roster import Person, Rotation
from scheduler.shifts import Shift


def _response(severity: str, incidents: Sequence[Incident], policy: Policy) -> SeverityResponse:
    acks = [
        (i.acknowledged_at - i.opened_at).total_seconds()
        for i in incidents
        if i.acknowledged_at is not None
    ]
    fixes = [
        (i.resolved_at - i.opened_at).total_seconds()
        for i in incidents
        if i.resolved_at is not None
    ]
    ack_target = policy.ack_target.total_seconds()
    # Every severity has one: the seed's, or the configuration's merged into them.
    resolve_target = policy.resolve_targets[severity].total_seconds()
    return SeverityResponse(
        severity=severity,
        incidents=len(incidents),
        acknowledged=len(acks),
        ack_median_s=median(acks),
        ack_p90_s=p90(acks),
        ack_target_s=ack_target,
        # Out of every incident: one never acknowledged missed the target too.
        ack_within_target_pct=_pct(sum(s <= ack_target for s in acks), len(incidents)),
        resolved=len(fixes),
        resolve_median_s=median(fixes),
        resolve_p90_s=p90(fixes),
        resolve_target_s=resolve_target,
        resolve_within_target_pct=_pct(sum(s <= resolve_target for s in fixes), len(incidents)),
    )


def _change(
    now: RotationBurden, before: Mapping[str, float | None] | None
) -> dict[str, float | None]:
    """This month's figures minus last month's (a rotation absent last month had none)."""

    def value(figures: Mapping[str, float | None] | None, name: str) -> float | None:
        if figures is None:
            return 0.0
        found = figures[name]
        return None if found is None else float(found)

    mine = {name: getattr(now, name) for name in CHANGE_FIGURES}
    change: dict[str, float | None] = {}
    for name in CHANGE_FIGURES:
        this, last = value(mine, name), value(before, name)
        change[name] = None if this is None or last is None else round(this - last, 2)
    return change


@dataclass
class _Sorted:
    """A month's pages sorted out once: by person and by rotation; and who was on call."""

    by_person: dict[str, list[_Seen]]
    by_rotation: dict[str, list[_Seen]]
    by_pair: dict[str, dict[str, list[_Seen]]]  # rotation -> person -> their pages in it
    shifts_of: dict[str, list[Shift]]  # every final shift of each person, all rotations
    rotation_people: dict[str, set[str]]  # on call in the month, or paged, per rotation


def _sort_out(
    month: Month,
    pages: Iterable[Page],
    shifts: Iterable[Shift],
    people: Mapping[str, Person],
    wanted: set[str],
    policy: Policy,
    passed: datetime,
) -> _Sorted:
    shifts_of: dict[str, list[Shift]] = defaultdict(list)
    for shift in shifts:
        if shift.person is not None:
            shifts_of[shift.person].append(shift)
    # Compared in UTC: aware instants in two different zones compare ten times slower.
    start, end = month.start.astimezone(UTC), month.end.astimezone(UTC)
    mine: dict[str, list[Page]] = defaultdict(list)
    for page in sorted(pages, key=attrgetter("at")):
        if start <= page.at < end and page.rotation in wanted:
            mine[page.person].append(page)
    by_person: dict[str, list[_Seen]] = {}
    by_pair: dict[str, dict[str, list[_Seen]]] = defaultdict(dict)
    business = policy.business_hours
    # The hot loop of the report (a month's pages): each page's night, business hours and
    # hour come from the stretch of time it falls in (see _Clock), and tuple.__new__ rather
    # than _Seen's Python-level __new__ (half the time).
    new = tuple.__new__
    clocks: dict[tuple[ZoneInfo, time | None, time | None], _Clock] = {}
    for name, paged in mine.items():
        person = people.get(name)
        # Someone no longer in the configuration: counted on UTC, with no night.
        if person is None:
            key: tuple[ZoneInfo, time | None, time | None] = (ZoneInfo("UTC"), None, None)
        else:
            key = (person.zone, person.night_start, person.night_end)
        clock = clocks.get(key)
        if clock is None:
            clock = clocks[key] = _Clock(*key, business, start, end)
        bounds, values, exact, stretch = clock.bounds, clock.values, clock.exact, clock.stretch
        seen = by_person[name] = []
        buckets: dict[str, list[_Seen]] = {}  # by rotation
        until = bounds[0]  # pages are in time order: the stretch moves forwards only
        value: Any = None
        for page in paged:
            at = page.at
            if at >= until:
                index = bisect_right(bounds, at) - 1
                until, value = bounds[index + 1], values[index]
                if value is _UNSET:
                    value = stretch(index)
            night, out_of_hours, hour = value or exact(at)
            item = new(_Seen, (page, night, out_of_hours, hour))
            seen.append(item)
            bucket = buckets.get(page.rotation)
            if bucket is None:
                bucket = buckets[page.rotation] = by_pair[page.rotation][name] = []
            bucket.append(item)
    by_rotation = {
        rotation: [item for bucket in mine.values() for item in bucket]
        for rotation, mine in by_pair.items()
    }
    rotation_people: dict[str, set[str]] = defaultdict(set)
    for name, held in shifts_of.items():
        for shift in held:
            # On call in what has passed of the month (`passed`: `Month.until`).
            if shift.rotation in wanted and shift.start < passed and month.start < shift.end:
                rotation_people[shift.rotation].add(name)
    for rotation, paged_in in by_pair.items():
        rotation_people[rotation] |= paged_in.keys()
    return _Sorted(by_person, by_rotation, by_pair, shifts_of, rotation_people)


def _opened(incidents: Iterable[Incident], month: Month) -> dict[str | None, list[Incident]]:
    """The incidents opened in the month, by rotation."""
    start, end = month.start.astimezone(UTC), month.end.astimezone(UTC)
    opened: dict[str | None, list[Incident]] = defaultdict(list)
    for incident in incidents:
        if start <= incident.opened_at < end:
            opened[incident.rotation].append(incident)
    return opened


@dataclass(frozen=True)
class _Headline:
    """A rotation's `CHANGE_FIGURES`, and the nights on call its average is over."""

    incidents: int
    ack_within_target_pct: float | None
    pages: int
    interruptions: int
    night_pages: int
    nights_on_call: int
    night_pages_per_night: float
    out_of_hours_pages: int

    @property
    def average(self) -> float:
        """Night pages per night on call, unrounded (all of them when no night on call)."""
        return per_night(self.night_pages, self.nights_on_call)


def _headline(
    name: str,
    month: Month,
    found: _Sorted,
    opened: Sequence[Incident],
    people: Mapping[str, Person],
    policy: Policy,
    until: datetime,
) -> _Headline:
    """Rotation `name`'s headline figures, from the sorted-out pages and its opened incidents;
    nights on call up to `until` (`Month.until`)."""
    seen = found.by_rotation.get(name, [])
    night_total = len(seen) - list(map(_night, seen)).count(None)
    nights = 0
    for person_name in found.rotation_people.get(name, ()):
        person = people.get(person_name)
        if person is None:
            continue
        mine = [
            s
            for s in found.shifts_of.get(person_name, [])
            if s.rotation == name and s.start < until and month.start < s.end
        ]
        clipped = _merge((max(s.start, month.start), min(s.end, until)) for s in mine)
        nights += len(nights_on_call(person, clipped, month))
    window = policy.interruption_window
    runs = sum(
        interruptions(list(map(_at, map(_page, mine))), window)
        for mine in found.by_pair.get(name, {}).values()
    )
    average = per_night(night_total, nights)
    on_time = sum(
        1
        for i in opened
        if i.acknowledged_at is not None and i.acknowledged_at - i.opened_at <= policy.ack_target
    )
    return _Headline(
        incidents=len(opened),
        ack_within_target_pct=_pct(on_time, len(opened)),
        pages=len(seen),
        interruptions=runs,
        night_pages=night_total,
        nights_on_call=nights,
        night_pages_per_night=round(average, 2),
        out_of_hours_pages=sum(map(_out_of_hours, seen)),
    )


def _recommendation(
    headline: _Headline,
    heavy: Sequence[str],
    by_nights: Sequence[AlertNoise],
    mostly_noise: Sequence[AlertNoise],
    policy: Policy,
) -> str | None:
    """The seed's "fix the alerts or staff up", when the rotation's nights call for it."""
    average = headline.average
    if not (average > policy.night_page_limit or heavy):
        return None
    worst = ", ".join(a.alertname for a in by_nights[:3]) or "none recorded"
    who = f"; over the limit: {', '.join(heavy)}" if heavy else ""
    noise = ""
    if mostly_noise:
        noise = "; mostly noise: " + ", ".join(describe_noise(a) for a in mostly_noise)
    return (
        f"{RECOMMENDATION}: {headline.night_pages} night pages over "
        f"{headline.nights_on_call} nights on call "
        f"({average:.2f} a night, limit {policy.night_page_limit:g}){who}; "
        f"noisiest at night: {worst}{noise}"
    )


def month_totals(
    month: Month,
    *,
    pages: Iterable[Page],
    incidents: Iterable[Incident],
    shifts: Iterable[Shift],
    people: Mapping[str, Person],
    rotations: Sequence[Rotation],
    policy: Policy = Policy(),  # noqa: B008 (Policy is frozen; ruff sees it only in values.py)
    rotation: str | None = None,
    as_of: datetime | None = None,
) -> MonthTotals:
    """Only what next month's change needs: `burden_report(...).totals()`, for less work."""
    names = [r.name for r in rotations if rotation is None or r.name == rotation]
    until = month.until(as_of)
    found = _sort_out(month, pages, shifts, people, set(names), policy, until)
    opened = _opened(incidents, month)
    figures = {}
    for name in names:
        headline = _headline(name, month, found, opened.get(name, []), people, policy, until)
        figures[name] = {key: getattr(headline, key) for key in CHANGE_FIGURES}
    return MonthTotals(month, figures)


def burden_report(
    month: Month,
    *,
    pages: Iterable[Page],
    incidents: Iterable[Incident],
    shifts: Iterable[Shift],
    people: Mapping[str, Person],
    rotations: Sequence[Rotation],
    policy: Policy = Policy(),  # noqa: B008 (Policy is frozen; ruff sees it only in values.py)
    rotation: str | None = None,
    previous: BurdenReport | MonthTotals | None = None,
    as_of: datetime | None = None,
) -> BurdenReport:
    """The month's burden per person and per rotation (of one rotation, if named).

    `pages` may reach outside the month (they are filtered); `shifts` are the final shifts
    (overrides applied) of every rotation, from far enough before the month to see the rest
    before its first shift. `previous` is last month's report or `month_totals`, for the
    change. `as_of` is the time the report is made at: of the current month, only the
    shifts, hours and nights on call before it count (a night page average over nights still
    to come would be too low); None (or a time after the month) counts the whole month.
    """
    min_rest = {r.name: r.min_rest for r in rotations}
    names = [r.name for r in rotations if rotation is None or r.name == rotation]
    wanted = set(names)
    until = month.until(as_of)
    incident_by_id = {i.id: i for i in incidents}
    found = _sort_out(month, pages, shifts, people, wanted, policy, until)
    # acknowledged_at - paged_at <= target, as paged_at >= acknowledged_at - target: one
    # subtraction per incident rather than one per person paged for it.
    ack_by = {
        i.id: i.acknowledged_at - policy.ack_target
        for i in incident_by_id.values()
        if i.acknowledged_at is not None
    }

    people_figures = []
    involved = set().union(*found.rotation_people.values())
    for name in sorted(involved):
        person = people.get(name) or Person(name, "", ZoneInfo("UTC"))
        everything = found.shifts_of.get(name, [])
        counted = [s for s in everything if s.rotation in wanted]
        people_figures.append(
            _person(
                person,
                found.by_person.get(name, []),
                counted,
                everything,
                ack_by,
                month,
                min_rest,
                policy,
                until,
            )
        )
    over_limit = {p.name for p in people_figures if any(f.rule == "night_pages" for f in p.flags)}
    rest_breaches = Counter(
        f.rotation for p in people_figures for f in p.flags if f.rule == "min_rest"
    )

    if isinstance(previous, BurdenReport):
        previous = previous.totals()
    opened_by_rotation = _opened(incident_by_id.values(), month)
    rotation_figures = []
    for name in names:
        seen = found.by_rotation.get(name, [])
        opened = opened_by_rotation.get(name, [])
        by_severity = {sev: [i for i in opened if i.severity == sev] for sev in SEVERITIES}
        headline = _headline(name, month, found, opened, people, policy, until)
        hours = [0] * 24
        for hour in map(_hour, seen):
            hours[hour] += 1
        by_pages, by_nights = _noisiest(seen, incident_by_id)
        mostly_noise = _mostly_noise(by_pages, by_nights, policy)
        heavy = tuple(sorted(found.rotation_people.get(name, set()) & over_limit))
        marks = Counter(_classification(i) for i in opened)
        figure = RotationBurden(
            name=name,
            incidents=headline.incidents,
            incidents_by_severity={sev: len(listed) for sev, listed in by_severity.items()},
            ack_within_target_pct=headline.ack_within_target_pct,
            response=tuple(_response(sev, listed, policy) for sev, listed in by_severity.items()),
            pages=headline.pages,
            interruptions=headline.interruptions,
            night_pages=headline.night_pages,
            nights_on_call=headline.nights_on_call,
            night_pages_per_night=headline.night_pages_per_night,
            out_of_hours_pages=headline.out_of_hours_pages,
            pages_by_hour=tuple(hours),
            noisiest_by_pages=by_pages,
            noisiest_by_night_pages=by_nights,
            people_over_night_limit=heavy,
            recommendation=_recommendation(headline, heavy, by_nights, mostly_noise, policy),
            change=None,
            noise_incidents=marks[NOISE],
            actionable_incidents=marks[ACTIONABLE],
            unclassified_incidents=marks[None],
            noise_pct=_pct(marks[NOISE], marks[NOISE] + marks[ACTIONABLE]),
            mostly_noise=mostly_noise,
            rest_breaches=rest_breaches[name],
        )
        if previous is not None:
            figure = replace(figure, change=_change(figure, previous.rotations.get(name)))
        rotation_figures.append(figure)

    return BurdenReport(
        month=month,
        rotation=rotation,
        people=tuple(people_figures),
        rotations=tuple(rotation_figures),
        pages=sum(len(v) for v in found.by_rotation.values()),
        night_pages=sum(p.night_pages for p in people_figures),
        # Every page counted is in exactly one of the rotations (no rotation: 24 zeros).
        pages_by_hour=tuple(
            sum(r.pages_by_hour[hour] for r in rotation_figures) for hour in range(24)
        ),
        policy=policy,
    )
