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
- a night on call is one of their nights that overlaps one of their shifts (within the month;
  of the current month, within what has passed of it at `as_of`: `Month.until`);
- out of business hours: outside the person's business days and hours on their own clock;
- acknowledgement: for each incident a person was paged for, from their first page for it to
  the incident's `acknowledged_at` (an incident acknowledged before their page counts as on
  time; one never acknowledged, as late);
- an alert's pages are the pages of the incidents it fired in (a page counts once per alert
  name); its noise share is, of those incidents that someone classified (actionable or
  noise), the percentage marked noise; the rest are counted as unclassified.

Modules, each importing only from those listed before it:
- `values`: the constants, the records read (`Page`, `Incident`), what the month is measured
  against (`Policy`, `BusinessHours`, `Month`) and the frozen figures returned;
- `stats`: interruptions as PagerDuty counts them, median, nearest-rank p90, percentages;
- `nights`: which night an instant is in, merged shift intervals, a person's nights on call;
- `clock`: the DST clock optimiser that gives each page its night, business-hours verdict
  and local hour by stretch of UTC time rather than one conversion per page;
- `noise`: the noisiest alerts of a rotation and their incidents' classification;
- `people`: each person's figures, including rests between shifts and their flags;
- `aggregation`: `burden_report` and `month_totals`, the month sorted out and per rotation.

Import from `scheduler.burden` itself: every name its importers use is re-exported here.
"""

from __future__ import annotations

from scheduler.burden.aggregation import burden_report, month_totals
from scheduler.burden.nights import night_of, nights_on_call
from scheduler.burden.noise import describe_noise, noise_summary
from scheduler.burden.stats import interruptions, median, p90
from scheduler.burden.values import (
    ACTIONABLE,
    CHANGE_FIGURES,
    NOISE,
    RECOMMENDATION,
    TOP_ALERTS,
    AlertNoise,
    BurdenReport,
    BusinessHours,
    Flag,
    Incident,
    Month,
    MonthTotals,
    Page,
    PersonBurden,
    Policy,
    RotationBurden,
    SeverityResponse,
)

# Defined in scheduler.night_pages; scheduler.briefing imports it from here.
from scheduler.night_pages import night_window

__all__ = [
    "ACTIONABLE",
    "CHANGE_FIGURES",
    "NOISE",
    "RECOMMENDATION",
    "TOP_ALERTS",
    "AlertNoise",
    "BurdenReport",
    "BusinessHours",
    "Flag",
    "Incident",
    "Month",
    "MonthTotals",
    "Page",
    "PersonBurden",
    "Policy",
    "RotationBurden",
    "SeverityResponse",
    "burden_report",
    "describe_noise",
    "interruptions",
    "median",
    "month_totals",
    "night_of",
    "night_window",
    "nights_on_call",
    "noise_summary",
    "p90",
]
