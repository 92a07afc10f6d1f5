"""How long an incident took against the seed's MTTR target, and how spans read to people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from response.facts import IncidentFacts
from response.targets import ResponseTargets

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_WEEK = 7 * _DAY


@dataclass(frozen=True)
class ResolutionView:
    """Time to acknowledge and to resolve, and whether the MTTR target is breached."""

    time_to_acknowledge: timedelta | None
    time_to_resolve: timedelta | None  # None while open
    elapsed: timedelta  # to resolution, or to now while open
    mttr_target: timedelta
    breached: bool


def resolution_view(
    facts: IncidentFacts, targets: ResponseTargets, now: datetime
) -> ResolutionView:
    """Measure the incident against its severity's MTTR target, as of `now`."""
    time_to_acknowledge = (
        facts.acknowledged_at - facts.opened_at if facts.acknowledged_at is not None else None
    )
    time_to_resolve = facts.resolved_at - facts.opened_at if facts.resolved_at is not None else None
    elapsed = (facts.resolved_at or now) - facts.opened_at
    mttr_target = targets.mttr_for(facts.severity)
    return ResolutionView(
        time_to_acknowledge=time_to_acknowledge,
        time_to_resolve=time_to_resolve,
        elapsed=elapsed,
        mttr_target=mttr_target,
        breached=elapsed > mttr_target,
    )


def format_span(span: timedelta) -> str:
    """A span as people read it, in its two largest units: "2d 03h", "4h 05m", "12m 30s", "45s".

    The one way onwatch writes a duration, in the timeline, updates, briefings and paths. A
    zero second unit is left out ("45m", "2d"); seconds show only under an hour, so a
    30-second timeout reads "30s", never "0m".
    """
    # Whole seconds, truncated: "4h 05m" must not claim a minute that has not passed yet.
    seconds = int(abs(span).total_seconds())
    sign = "-" if span < timedelta(0) and seconds else ""
    days, rest = divmod(seconds, _DAY)
    hours, rest = divmod(rest, _HOUR)
    minutes, seconds = divmod(rest, _MINUTE)
    if days:
        first, second = f"{days}d", f"{hours:02d}h" if hours else ""
    elif hours:
        first, second = f"{hours}h", f"{minutes:02d}m" if minutes else ""
    elif minutes:
        first, second = f"{minutes}m", f"{seconds:02d}s" if seconds else ""
    else:
        first, second = f"{seconds}s", ""
    return sign + " ".join(part for part in (first, second) if part)


def span_in_words(span: timedelta) -> str:
    """A configured target as the seed words it: "48 hours", "1 week", "30 days", "15 minutes"."""
    seconds = int(span.total_seconds())
    # Under three days the seed counts in hours ("48 hours"), above in days or weeks.
    if seconds and seconds % _WEEK == 0:
        return _plural(seconds // _WEEK, "week")
    if seconds >= 3 * _DAY and seconds % _DAY == 0:
        return _plural(seconds // _DAY, "day")
    if seconds and seconds % _HOUR == 0:
        return _plural(seconds // _HOUR, "hour")
    if seconds % _MINUTE == 0:
        return _plural(seconds // _MINUTE, "minute")
    return format_span(span)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
