"""Counting and summary statistics for the burden report, over plain numbers and instants.

Interruptions as PagerDuty counts them (pages within the window of a run's first count once),
the median, the 90th percentile by nearest rank (a value that occurred) and percentages
rounded to one decimal, None when there is nothing to take a share of.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta


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
