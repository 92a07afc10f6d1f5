"""The DST clock optimiser behind the burden report's hot loop over a month's pages.

Every page needs its night, whether it is out of business hours and its local hour, on its
person's own clock; converting each of a month's pages to local time one by one is slow.
`_Clock` cuts one zone's month into stretches of UTC time in which those figures cannot
change, works each stretch out once (when first paged in), and falls back to working pages
out one by one only in a stretch with a change of UTC offset (a DST transition) inside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.burden.values import BusinessHours
from scheduler.night_pages import night_of_local


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
