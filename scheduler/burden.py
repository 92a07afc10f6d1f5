"""On-call burden: who carried the load in a month, at what hours, and which alerts to fix.

The seed's "On-Call Health" rules, measured: at least a week between shifts, time off or pay
for after-hours pages, "if averaging >2 pages/night, fix the alerts or staff up", reviewed
monthly. Pure: plain values in (pages, incidents, final shifts, people, rotations), figures
out; no I/O and no clock (the month and every instant are arguments).

Definitions (the report repeats them for its readers):
- a page belongs to the month when it was sent in [month start, month end);
- an interruption is a run of a person's pages: a page more than the interruption window
  (60 s) after the page that opened the current run opens a new one (PagerDuty's counting);
- a night is the person's own night window (default 22:00-07:00) on their own clock, named
  by the local date it begins on; a night page is a page inside one;
- a night on call is one of their nights that overlaps one of their shifts (within the month);
- out of business hours: outside the person's business days and hours on their own clock;
- acknowledgement: for each incident a person was paged for, from their first page for it to
  the incident's `acknowledged_at` (an incident acknowledged before their page counts as on
  time; one never acknowledged, as late);
- an alert's pages are the pages of the incidents it fired in (a page counts once per alert
  name); its noise share is, of those incidents that someone classified (actionable or
  noise), the percentage marked noise; the rest are counted as unclassified.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import compress, repeat
from operator import attrgetter, ge, itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from response.targets import ResponseTargets
from rules.severity import SEVERITIES
from scheduler.night_pages import night_of_local, night_window, per_night
from scheduler.roster import Person, Rotation
from scheduler.shifts import Shift, ShiftSource

TOP_ALERTS = 10
RECOMMENDATION = "fix the alerts or staff up"
NOISE, ACTIONABLE = "noise", "actionable"  # an incident's classification, set when resolved
# The rotation figures each report compares with the month before's.
CHANGE_FIGURES = (
    "incidents",
    "pages",
    "interruptions",
    "night_pages",
    "night_pages_per_night",
    "out_of_hours_pages",
    "ack_within_target_pct",
)


# Pages and incidents are named tuples rather than frozen dataclasses: a month holds 100,000
# pages, and a tuple is built in a third of the time.
class Page(NamedTuple):
    """One page from the ledger."""

    at: datetime
    person: str
    rotation: str
    incident_id: int


class Incident(NamedTuple):
    """An incident as the report needs it; `alerts` holds its distinct (alert name, rule)."""

    id: int
    rotation: str | None
    severity: str
    opened_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    alerts: tuple[tuple[str, str], ...] = ()
    classification: str | None = None  # NOISE | ACTIONABLE | None (nobody said)


@dataclass(frozen=True)
class BusinessHours:
    """Working days (0 = Monday) and hours, on each person's own clock."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time = time(17, 0)

    def contains(self, local: datetime) -> bool:
        """True when the local wall-clock instant is inside business hours."""
        clock = local.time()
        return local.weekday() in self.days and self.start <= clock < self.end


@dataclass(frozen=True)
class Policy:
    """The seed's numbers the report measures against (every one configurable)."""

    ack_target: timedelta = timedelta(minutes=5)
    # Time to resolve per severity: the response process's MTTR targets (one definition).
    resolve_targets: Mapping[str, timedelta] = field(default_factory=lambda: ResponseTargets().mttr)
    night_page_limit: float = 2.0
    interruption_window: timedelta = timedelta(seconds=60)
    business_hours: BusinessHours = BusinessHours()
    # An alert whose classified incidents are at least this share noise (%) is named in the
    # recommendation: fixing it is the cheaper half of "fix the alerts or staff up".
    noisy_alert_pct: float = 50.0


@dataclass(frozen=True)
class Month:
    """A calendar month in one time zone: [start, end) as aware instants."""

    year: int
    month: int
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> Month:
        """`2026-11` as a month; ValueError naming the expected form otherwise."""
        try:
            year, month = (int(part) for part in text.split("-"))
        except ValueError:
            raise ValueError(f'expected a month such as "2026-11", got "{text}"') from None
        if not (1 <= month <= 12 and 1970 <= year <= 9999) or len(text) != 7:
            raise ValueError(f'expected a month such as "2026-11", got "{text}"')
        return cls(year, month, zone)

    @classmethod
    def containing(cls, at: datetime, zone: ZoneInfo) -> Month:
        """The month `at` falls in, on `zone`'s calendar."""
        local = at.astimezone(zone)
        return cls(local.year, local.month, zone)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Month:
        """The month after this one."""
        if self.month == 12:
            return Month(self.year + 1, 1, self.zone)
        return Month(self.year, self.month + 1, self.zone)

    def previous(self) -> Month:
        """The month before this one."""
        if self.month == 1:
            return Month(self.year - 1, 12, self.zone)
        return Month(self.year, self.month - 1, self.zone)


@dataclass(frozen=True)
class Flag:
    """One breach of the seed's rules."""

    rule: str  # "night_pages" | "min_rest"
    message: str
    rotation: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class PersonBurden:
    name: str
    time_zone: str
    shifts: int
    on_call_hours: float
    pages: int
    interruptions: int
    night_pages: int
    nights_on_call: int
    nights_over_limit: int
    night_pages_per_night: float
    out_of_hours_pages: int
    paged_incidents: int
    acked_within_target: int
    ack_within_target_pct: float | None
    shortest_rest_hours: float | None
    flags: tuple[Flag, ...]
    night_pages_by_night: Mapping[date, int]


@dataclass(frozen=True)
class SeverityResponse:
    """Time to acknowledge and to resolve, for one severity of one rotation."""

    severity: str
    incidents: int
    acknowledged: int
    ack_median_s: float | None
    ack_p90_s: float | None
    ack_target_s: float
    ack_within_target_pct: float | None
    resolved: int
    resolve_median_s: float | None
    resolve_p90_s: float | None
    resolve_target_s: float
    resolve_within_target_pct: float | None


@dataclass(frozen=True)
class AlertNoise:
    """One alert name's pages in a rotation, and how its incidents were classified."""

    alertname: str
    rule: str  # the rule that graded most of its pages
    pages: int
    night_pages: int
    incidents: int = 0  # the incidents it fired in that paged the rotation in the month
    noise_incidents: int = 0
    actionable_incidents: int = 0
    unclassified_incidents: int = 0
    noise_pct: float | None = None  # noise / (noise + actionable); None when none classified

    @property
    def classified_incidents(self) -> int:
        """Its incidents marked noise or actionable (the share's denominator)."""
        return self.noise_incidents + self.actionable_incidents


@dataclass(frozen=True)
class RotationBurden:
    name: str
    incidents: int
    incidents_by_severity: Mapping[str, int]
    ack_within_target_pct: float | None
    response: tuple[SeverityResponse, ...]
    pages: int
    interruptions: int
    night_pages: int
    nights_on_call: int
    night_pages_per_night: float
    out_of_hours_pages: int
    pages_by_hour: tuple[int, ...]
    noisiest_by_pages: tuple[AlertNoise, ...]
    noisiest_by_night_pages: tuple[AlertNoise, ...]
    people_over_night_limit: tuple[str, ...]
    recommendation: str | None
    change: Mapping[str, float | None] | None
    # Of the incidents opened in the month (`incidents`), how they were classified.
    noise_incidents: int = 0
    actionable_incidents: int = 0
    unclassified_incidents: int = 0
    noise_pct: float | None = None
    # The noisiest alerts (either list) at or above the policy's noise share, noisiest first.
    mostly_noise: tuple[AlertNoise, ...] = ()
    # Rests between two shifts (of anyone) shorter than this rotation asks for, when it is
    # the stricter of the two shifts' rotations.
    rest_breaches: int = 0


@dataclass(frozen=True)
class BurdenReport:
    month: Month
    rotation: str | None
    people: tuple[PersonBurden, ...]
    rotations: tuple[RotationBurden, ...]
    pages: int
    night_pages: int
    pages_by_hour: tuple[int, ...]
    policy: Policy

    def totals(self) -> MonthTotals:
        """The figures of this report the next month's report compares with."""
        return MonthTotals(
            self.month,
            {r.name: {name: getattr(r, name) for name in CHANGE_FIGURES} for r in self.rotations},
        )


@dataclass(frozen=True)
class MonthTotals:
    """A month's per-rotation `CHANGE_FIGURES`: what the next month's change is against."""

    month: Month
    rotations: Mapping[str, Mapping[str, float | None]]


# --------------------------------------------------------------------------------------
# Small pure helpers


def night_of(person: Person, at: datetime) -> date | None:
    """The local date the person's night containing `at` began on, if `at` is in one."""
    return night_of_local(at.astimezone(person.zone), person.night_start, person.night_end)


def interruptions(times: Sequence[datetime], window: timedelta) -> int:
    """Sorted pages counted as PagerDuty does: those within `window` of a run's first count once."""
    count = 0
    until: datetime | None = None  # the end of the current run's window
    for at in times:
        if until is None or at > until:  # at - opened > window, without a timedelta a page
            count += 1
            until = at + window
    return count


def median(values: Sequence[float]) -> float | None:
    """The median (mean of the two middle values for an even count), None when empty."""
    return statistics.median(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank (a value that occurred), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def nights_on_call(
    person: Person, intervals: Sequence[tuple[datetime, datetime]], month: Month
) -> list[date]:
    """The person's nights that overlap one of `intervals` (already clipped to the month)."""
    if not intervals:
        return []
    zone, one = person.zone, timedelta(days=1)
    first = month.start.astimezone(zone).date() - one
    last = month.end.astimezone(zone).date()
    # A night (at most a day long, beginning on its local date) can only overlap an interval
    # if it begins between the day before the interval's first day and its last day.
    candidates: set[date] = set()
    for s, e in intervals:
        day, until = (
            max(s.astimezone(zone).date() - one, first),
            min(e.astimezone(zone).date(), last),
        )
        while day <= until:
            candidates.add(day)
            day += one
    nights = []
    for day in sorted(candidates):
        start, end = night_window(person, day)
        if any(s < end and start < e for s, e in intervals):
            nights.append(day)
    return nights


# --------------------------------------------------------------------------------------
# The report


class _Seen(NamedTuple):
    """A page with what the report derives from it once."""

    page: Page
    night: date | None
    out_of_hours: bool
    hour: int


_page, _night, _out_of_hours, _hour = (itemgetter(n) for n in range(4))  # of a _Seen
_at, _incident_id = itemgetter(0), itemgetter(3)  # of a Page
_NEVER = datetime.max.replace(tzinfo=UTC)


def _rests(
    shifts: Sequence[Shift], month: Month, min_rest: Mapping[str, timedelta]
) -> tuple[float | None, list[Flag]]:
    """Shortest rest ending in the month between two of one person's shifts, and breaches."""
    # A scheduled shift cut in two by someone else's override is still one shift: no rest.
    spans: dict[tuple[str, str, int], tuple[datetime, datetime]] = {}
    pieces: list[tuple[datetime, datetime, str]] = []
    for shift in shifts:
        if shift.source == ShiftSource.SCHEDULE:
            key = (shift.rotation, shift.layer, shift.index)
            first, last = spans.get(key, (shift.start, shift.end))
            spans[key] = (min(first, shift.start), max(last, shift.end))
        else:
            pieces.append((shift.start, shift.end, shift.rotation))
    pieces += [(start, end, key[0]) for key, (start, end) in spans.items()]
    blocks: list[tuple[datetime, datetime, set[str]]] = []
    for start, end, rotation in sorted(pieces):
        if blocks and start <= blocks[-1][1]:
            began, ended, names = blocks[-1]
            blocks[-1] = (began, max(ended, end), names | {rotation})
        else:
            blocks.append((start, end, {rotation}))
    shortest: timedelta | None = None
    flags: list[Flag] = []
    for (_, ended, before), (began, _, after) in zip(blocks, blocks[1:], strict=False):
        if not month.start <= began < month.end:
            continue
        rest = began - ended
        shortest = rest if shortest is None else min(shortest, rest)
        # Sorted first: of two rotations asking for the same rest, always the same one.
        strictest = max(sorted(before | after), key=lambda name: min_rest.get(name, timedelta(0)))
        required = min_rest.get(strictest, timedelta(0))
        if rest < required:
            flags.append(
                Flag(
                    rule="min_rest",
                    message=f"{_hours(rest):g} h between shifts ({ended:%Y-%m-%d %H:%M} UTC to "
                    f"{began:%Y-%m-%d %H:%M} UTC), {strictest} asks for {_hours(required):g} h",
                    rotation=strictest,
                    start=ended,
                    end=began,
                )
            )
    return (None if shortest is None else _hours(shortest)), flags


def _hours(span: timedelta) -> float:
    return round(span.total_seconds() / 3600, 2)


def _person(
    person: Person,
    seen: Sequence[_Seen],
    shifts: Sequence[Shift],
    all_shifts: Sequence[Shift],
    ack_by: Mapping[int, datetime],
    month: Month,
    min_rest: Mapping[str, timedelta],
    policy: Policy,
) -> PersonBurden:
    in_month = [s for s in shifts if s.start < month.end and month.start < s.end]
    clipped = _merge((max(s.start, month.start), min(s.end, month.end)) for s in in_month)
    hours = sum((end - start for start, end in clipped), timedelta(0))
    nights = nights_on_call(person, clipped, month)
    # map / itemgetter rather than generator expressions: these run over a month's pages.
    by_night = Counter(filter(None, map(_night, seen)))  # a date is never false
    night_pages = sum(by_night.values())
    # Backwards, so that each incident keeps its first page.
    pages = list(map(_page, seen))
    first_page = dict(
        zip(map(_incident_id, reversed(pages)), map(_at, reversed(pages)), strict=True)
    )
    # On time: paged at or after the incident's acknowledgement less the target (`ack_by`;
    # an incident never acknowledged, or unknown, never is).
    on_time = sum(map(ge, first_page.values(), map(ack_by.get, first_page, repeat(_NEVER))))
    average = per_night(night_pages, len(nights))
    shortest, flags = _rests(all_shifts, month, min_rest)
    if average > policy.night_page_limit:
        flags.insert(
            0,
            Flag(
                rule="night_pages",
                message=f"{average:.2f} night pages a night on call ({night_pages} over "
                f"{len(nights)} nights), more than {policy.night_page_limit:g}: {RECOMMENDATION}",
            ),
        )
    return PersonBurden(
        name=person.name,
        time_zone=person.zone.key,
        shifts=len(in_month),
        on_call_hours=_hours(hours),
        pages=len(seen),
        interruptions=interruptions(list(map(_at, pages)), policy.interruption_window),
        night_pages=night_pages,
        nights_on_call=len(nights),
        nights_over_limit=sum(1 for n in by_night.values() if n > policy.night_page_limit),
        night_pages_per_night=round(average, 2),
        out_of_hours_pages=sum(map(_out_of_hours, seen)),
        paged_incidents=len(first_page),
        acked_within_target=on_time,
        ack_within_target_pct=_pct(on_time, len(first_page)),
        shortest_rest_hours=shortest,
        flags=tuple(flags),
        night_pages_by_night=dict(sorted(by_night.items())),
    )


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


def _noisiest(
    seen: Sequence[_Seen], incidents: Mapping[int, Incident]
) -> tuple[tuple[AlertNoise, ...], tuple[AlertNoise, ...]]:
    """The top alert names by pages and by night pages, with their incidents' classification."""
    # Pages per incident first: an incident's alerts then count all its pages at once.
    paged = Counter(map(_incident_id, map(_page, seen)))
    at_night = Counter(compress(map(_incident_id, map(_page, seen)), map(_night, seen)))
    # defaultdict(int) rather than Counter here: Counter's missing keys cost a Python call.
    pages: defaultdict[str, int] = defaultdict(int)
    nights: defaultdict[str, int] = defaultdict(int)
    rules: defaultdict[tuple[str, str], int] = defaultdict(int)
    marks: defaultdict[tuple[str, str | None], int] = defaultdict(int)
    for incident_id, count in paged.items():
        incident = incidents.get(incident_id)
        if incident is None:
            continue
        night = at_night.get(incident_id, 0)
        mark = incident.classification
        if mark is not None and mark != NOISE and mark != ACTIONABLE:
            mark = None  # as _classification
        alerts = incident.alerts
        if len(alerts) == 1:  # most incidents: one alert name, no set needed
            alert = alerts[0]
            alertname = alert[0]
            rules[alert] += count
            pages[alertname] += count
            nights[alertname] += night
            marks[alertname, mark] += 1
            continue
        names = set()
        for alertname, rule in alerts:
            rules[alertname, rule] += count
            names.add(alertname)
        for alertname in names:
            pages[alertname] += count
            nights[alertname] += night
            marks[alertname, mark] += 1

    def noise(name: str) -> AlertNoise:
        rule = max((count, rule) for (alert, rule), count in rules.items() if alert == name)[1]
        noisy, actionable = marks.get((name, NOISE), 0), marks.get((name, ACTIONABLE), 0)
        unclassified = marks.get((name, None), 0)
        return AlertNoise(
            name,
            rule,
            pages[name],
            nights[name],
            incidents=noisy + actionable + unclassified,
            noise_incidents=noisy,
            actionable_incidents=actionable,
            unclassified_incidents=unclassified,
            noise_pct=_pct(noisy, noisy + actionable),
        )

    def top(counts: Mapping[str, int]) -> tuple[AlertNoise, ...]:
        ranked = sorted((n for n in counts if counts[n]), key=lambda n: (-counts[n], n))
        return tuple(noise(name) for name in ranked[:TOP_ALERTS])

    return top(pages), top(nights)


def _classification(incident: Incident) -> str | None:
    return incident.classification if incident.classification in (NOISE, ACTIONABLE) else None


def _mostly_noise(
    by_pages: Sequence[AlertNoise], by_nights: Sequence[AlertNoise], policy: Policy
) -> tuple[AlertNoise, ...]:
    """The alerts of either top list whose classified incidents are mostly noise."""
    found: dict[str, AlertNoise] = {}
    for alert in (*by_nights, *by_pages):
        if alert.noise_pct is not None and alert.noise_pct >= policy.noisy_alert_pct:
            found.setdefault(alert.alertname, alert)
    return tuple(sorted(found.values(), key=lambda a: (-(a.noise_pct or 0), -a.pages, a.alertname)))


def noise_summary(alert: AlertNoise) -> str:
    """`75 % of 4 classified incidents marked noise, 1 unclassified`."""
    unclassified = (
        f", {alert.unclassified_incidents} unclassified" if alert.unclassified_incidents else ""
    )
    if alert.noise_pct is None:
        return f"none of {alert.incidents} incidents classified"
    return (
        f"{alert.noise_pct:g} % of {alert.classified_incidents} classified incidents marked "
        f"noise{unclassified}"
    )


def describe_noise(alert: AlertNoise) -> str:
    """`DiskFull (75 % of 4 classified incidents marked noise, 1 unclassified)`."""
    return f"{alert.alertname} ({noise_summary(alert)})"


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


def _local_figures(
    local: datetime,
    night_start: time | None,
    night_end: time | None,
    business: BusinessHours,
) -> tuple[date | None, bool, int]:
    """A local instant's night (night_of), whether out of business hours, and its hour."""
    night: date | None = None
    if night_start is not None and night_end is not None:
        night = night_of_local(local, night_start, night_end)
    return night, not business.contains(local), local.hour


_UNSET = object()


class _Clock:
    """One zone's (and night window's) month cut into stretches of UTC time in which every
    page has the same night, business-hours verdict and local hour.

    The stretches are cut at every instant one of the zone's offsets in the month (sampled
    hourly) puts one of the marks on the local clock: each hour, the night's start and end,
    business hours' start and end. So within a stretch whose offset is the same at both
    ends, the local clock crosses none of them and every page has the figures of its start.
    A stretch whose offset differs at its two ends (a transition inside it) has no value:
    its pages are worked out one by one. Stretches are worked out when first paged in.
    """

    def __init__(
        self,
        zone: ZoneInfo,
        night_start: time | None,
        night_end: time | None,
        business: BusinessHours,
        start: datetime,
        end: datetime,
    ) -> None:
        self.zone, self.night_start, self.night_end = zone, night_start, night_end
        self.business = business
        margin, hour = timedelta(days=2), timedelta(hours=1)
        offsets = set()
        at = start - margin
        while at <= end + margin:
            offsets.add(at.astimezone(zone).utcoffset())
            at += hour
        marks = {time(hour) for hour in range(24)} | {business.start, business.end}
        marks |= {t for t in (night_start, night_end) if t is not None}
        one = timedelta(days=1)
        day, last = (start - margin).date(), (end + margin).date()
        cuts = {start, end}
        while day <= last:
            for mark in marks:
                local = datetime.combine(day, mark, UTC)
                cuts.update(local - offset for offset in offsets if offset is not None)
            day += one
        bounds = sorted(cut for cut in cuts if start <= cut <= end)
        # After the last stretch: pages at or past `end` (none are) are worked out alone.
        bounds.append(datetime.max.replace(tzinfo=UTC))
        self.bounds: list[datetime] = bounds
        self.values: list[object] = [_UNSET] * (len(bounds) - 1) + [None]

    def stretch(self, index: int) -> tuple[date | None, bool, int] | None:
        """The figures of every instant of stretch `index`, or None if they may differ."""
        zone, tick = self.zone, timedelta(microseconds=1)
        head = self.bounds[index].astimezone(zone)
        tail = (self.bounds[index + 1] - tick).astimezone(zone)
        value = self._figures(head) if head.utcoffset() == tail.utcoffset() else None
        self.values[index] = value
        return value

    def _figures(self, local: datetime) -> tuple[date | None, bool, int]:
        return _local_figures(local, self.night_start, self.night_end, self.business)

    def exact(self, at: datetime) -> tuple[date | None, bool, int]:
        """The figures of one instant, on the zone's clock."""
        return self._figures(at.astimezone(self.zone))


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
            key = (ZoneInfo("UTC"), None, None)
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
            if shift.rotation in wanted and shift.start < month.end and month.start < shift.end:
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
) -> _Headline:
    """Rotation `name`'s headline figures, from the sorted-out pages and its opened incidents."""
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
            if s.rotation == name and s.start < month.end and month.start < s.end
        ]
        clipped = _merge((max(s.start, month.start), min(s.end, month.end)) for s in mine)
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
    policy: Policy = Policy(),
    rotation: str | None = None,
) -> MonthTotals:
    """Only what next month's change needs: `burden_report(...).totals()`, for less work."""
    names = [r.name for r in rotations if rotation is None or r.name == rotation]
    found = _sort_out(month, pages, shifts, people, set(names), policy)
    opened = _opened(incidents, month)
    figures = {}
    for name in names:
        headline = _headline(name, month, found, opened.get(name, []), people, policy)
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
    policy: Policy = Policy(),
    rotation: str | None = None,
    previous: BurdenReport | MonthTotals | None = None,
) -> BurdenReport:
    """The month's burden per person and per rotation (of one rotation, if named).

    `pages` may reach outside the month (they are filtered); `shifts` are the final shifts
    (overrides applied) of every rotation, from far enough before the month to see the rest
    before its first shift. `previous` is last month's report or `month_totals`, for the
    change.
    """
    min_rest = {r.name: r.min_rest for r in rotations}
    names = [r.name for r in rotations if rotation is None or r.name == rotation]
    wanted = set(names)
    incident_by_id = {i.id: i for i in incidents}
    found = _sort_out(month, pages, shifts, people, wanted, policy)
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
        headline = _headline(name, month, found, opened, people, policy)
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
