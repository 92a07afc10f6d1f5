"""Alert noise: the alerts that paged a rotation most, and most at night, and how noisy.

An alert's pages are the pages of the incidents it fired in (a page counts once per alert
name); its noise share is, of those incidents someone classified (noise or actionable), the
percentage marked noise. The alerts mostly noise are named in the recommendation, as fixing
them is the cheaper half of "fix the alerts or staff up"; `noise_summary` and
`describe_noise` are the sentences the report and its announcement say it in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from itertools import compress

from scheduler.burden.stats import _pct
from scheduler.burden.values import (
    ACTIONABLE,
    NOISE,
    TOP_ALERTS,
    AlertNoise,
    Incident,
    Policy,
    _incident_id,
    _night,
    _page,
    _Seen,
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
