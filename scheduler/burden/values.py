"""The burden report's values: its constants, the records it reads and the figures it returns.

Pages and incidents in (named tuples: a month holds 100,000 pages), the policy the month is
measured against and the calendar month itself, and the frozen dataclasses of figures out, per
person, per rotation and for the month (`BurdenReport`; `MonthTotals`, what the next month's
change is against). Also `_Seen`, the report's own record of a page with what it derives from
it once, and its item getters. No logic beyond a month's calendar arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from response.targets import ResponseTargets

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

    def until(self, as_of: datetime | None = None) -> datetime:
        """The end of what has passed of the month at `as_of`: the month's end for a past
        month (or no `as_of`), `as_of` in the current month, its start for a future one."""
        if as_of is None:
            return self.end
        return min(self.end, max(self.start, as_of))

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


class _Seen(NamedTuple):
    """A page with what the report derives from it once."""

    page: Page
    night: date | None
    out_of_hours: bool
    hour: int


_page, _night, _out_of_hours, _hour = (itemgetter(n) for n in range(4))  # of a _Seen
_at, _incident_id = itemgetter(0), itemgetter(3)  # of a Page
