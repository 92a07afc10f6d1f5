"""The monthly on-call burden report: rows from the store in, md / html / csv / json out.

The figures come from `scheduler.burden` (pure); this module loads the month's pages,
incidents, alerts and overrides with a few Core queries, asks the rota for the final shifts,
and renders. Charts are drawn by matplotlib as inline SVG, so the HTML opens offline.
"""

from __future__ import annotations

import csv
import gc
import html
import io
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Text, and_, select, type_coerce

from receiver.config.settings import Settings
from receiver.incidents.models import AlertRecord, IncidentRecord
from receiver.paging.models import PageRecord
from receiver.report.announce import announce_report
from receiver.report.settings import Format
from receiver.rota.store import active_overrides
from receiver.store.database import Store
from rules.severity import SEVERITIES
from scheduler.burden import (
    AlertNoise,
    BurdenReport,
    Incident,
    Month,
    Page,
    burden_report,
    describe_noise,
    month_totals,
)
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.shifts import Shift

log = logging.getLogger(__name__)

MEDIA_TYPES: dict[Format, str] = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
NOISE_DEFINITION = (
    "of the incidents an alert fired in that paged in the month (for a rotation: of the "
    "incidents opened in the month), the share of those classified (actionable or noise, when "
    "resolved) that were marked noise; unclassified incidents are counted apart"
)
# The most people the per-night chart draws a row for (the busiest nights first).
CHART_PEOPLE = 40

_PAGE = PageRecord.__table__  # type: ignore[attr-defined]
_INCIDENT = IncidentRecord.__table__  # type: ignore[attr-defined]
_ALERT = AlertRecord.__table__  # type: ignore[attr-defined]


class UnknownRotation(ValueError):
    """The report was asked for a rotation the configuration does not have."""


@dataclass(frozen=True)
class MonthData:
    """What the pure report needs for one month, read from the store and the rota."""

    pages: list[Page]
    incidents: list[Incident]
    shifts: list[Shift]


def _report_rota(rota: Rota) -> Rota:
    # The service's rota generates 400 days ahead for "now" questions; a report needs none.
    return Rota(list(rota.rotations.values()), rota.people, lookahead=timedelta(days=1))


def _final_shifts(rota: Rota, month: Month, overrides: Sequence[Override]) -> list[Shift]:
    # Far enough back to see the rest before each person's first shift of the month.
    reach = max(
        (r.min_rest + r.shift.wall_clock() for r in rota.rotations.values()), default=timedelta(0)
    )
    start = month.start - reach - timedelta(days=1)
    return [
        shift
        for name in rota.rotations
        for shift in rota.rotation_shifts(name, start, month.end, overrides)
    ]


# Incident ids per `IN (...)` list: well under SQLite's bound-parameter limit, few round trips.
IDS_PER_QUERY = 5000


def _instant(column: Any, sqlite: bool) -> Any:
    # SQLite keeps a UTCDateTime as text, "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: selecting the
    # text and parsing it with fromisoformat is a fifth of the cost of SQLAlchemy's two result
    # processors, which is a third of the report's time for 100,000 pages.
    return type_coerce(column, Text) if sqlite else column


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for first in range(0, len(ordered), IDS_PER_QUERY):
        yield ordered[first : first + IDS_PER_QUERY]


def load_month(
    store: Store,
    rota: Rota,
    month: Month,
    overrides: Sequence[Override],
    *,
    detail: bool = True,
) -> MonthData:
    """The month's pages, the incidents they belong to or opened in it, and the final shifts.

    The shifts are `rota`'s as given (a report's rota: `_report_rota`) with the active
    `overrides`. Without `detail` (enough for `month_totals`): only the incidents opened in the
    month, and no alerts.
    """
    start, end = month.start, month.end
    opened_in_month = and_(_INCIDENT.c.opened_at >= start, _INCIDENT.c.opened_at < end)
    with store.read_rows() as connection:
        sqlite = connection.dialect.name == "sqlite"

        def incident_rows(where: Any) -> Sequence[Any]:
            return connection.execute(
                select(
                    _INCIDENT.c.id,
                    _INCIDENT.c.service,
                    _INCIDENT.c.severity,
                    _instant(_INCIDENT.c.opened_at, sqlite),
                    _instant(_INCIDENT.c.acknowledged_at, sqlite),
                    _instant(_INCIDENT.c.resolved_at, sqlite),
                    _INCIDENT.c.classification,
                ).where(where)
            ).all()

        def alert_rows(where: Any) -> Sequence[Any]:
            # Not DISTINCT (a temporary B-tree, half the query): duplicates go in a set below.
            return connection.execute(
                select(_ALERT.c.incident_id, _ALERT.c.alertname, _ALERT.c.rule).where(where)
            ).all()

        page_rows = connection.execute(
            select(
                _instant(_PAGE.c.at, sqlite),
                _PAGE.c.person,
                _PAGE.c.rotation,
                _PAGE.c.incident_id,
            )
            .where(and_(_PAGE.c.at >= start, _PAGE.c.at < end))
            .order_by(_PAGE.c.at)
        ).all()
        found = list(incident_rows(opened_in_month))
        alerts_found: list[Any] = []
        if detail:
            # Paged in the month but opened before it: few, fetched by id.
            opened_ids = {row[0] for row in found}
            earlier = {row[3] for row in page_rows} - opened_ids
            if opened_ids:
                # Ids follow opening times, near enough: the range of the month's ids, read
                # through the index on incident_id, then only the month's incidents kept (no
                # join with incident, a lookup per alert).
                alerts_found += (
                    row
                    for row in alert_rows(
                        _ALERT.c.incident_id.between(min(opened_ids), max(opened_ids))
                    )
                    if row[0] in opened_ids
                )
            for ids in _chunks(earlier):
                found += incident_rows(_INCIDENT.c.id.in_(ids))
                alerts_found += alert_rows(_ALERT.c.incident_id.in_(ids))
    # Once per page: the parsing inline, and tuple.__new__ rather than Page's Python __new__.
    new = tuple.__new__
    if sqlite:
        utc = datetime.fromisoformat
        pages = [
            new(Page, (utc(at + "+00:00"), person, rotation, incident_id))
            for at, person, rotation, incident_id in page_rows
        ]
    else:
        pages = [new(Page, row) for row in page_rows]
    del page_rows
    # An incident belongs to the rotation that paged for it first (backwards, so the first page
    # is the one kept), else to the one covering its service.
    rotation_of = dict(
        zip(map(itemgetter(3), reversed(pages)), map(itemgetter(2), reversed(pages)), strict=True)
    )
    alerts: dict[int, set[tuple[str, str]]] = {}
    for incident_id, alertname, rule in alerts_found:
        mine = alerts.get(incident_id)
        if mine is None:
            alerts[incident_id] = {(alertname, rule)}
        else:
            mine.add((alertname, rule))
    covering: dict[str, str | None] = {}
    incidents = []
    for row in found:
        incident_id, service, severity, opened_at, acked_at, resolved_at, classification = row
        rotation = rotation_of.get(incident_id)
        if rotation is None:
            if service not in covering:
                covers = rota.rotation_for_service(service)
                covering[service] = covers.name if covers else None
            rotation = covering[service]
        if sqlite:  # UTC text (see _instant), parsed inline
            opened_at = datetime.fromisoformat(opened_at + "+00:00")
            if acked_at is not None:
                acked_at = datetime.fromisoformat(acked_at + "+00:00")
            if resolved_at is not None:
                resolved_at = datetime.fromisoformat(resolved_at + "+00:00")
        mine = alerts.get(incident_id)
        if not mine:
            alerts_of: tuple[tuple[str, str], ...] = ()
        elif len(mine) == 1:
            alerts_of = tuple(mine)
        else:
            alerts_of = tuple(sorted(mine))
        values = (
            incident_id,
            rotation,
            severity,
            opened_at,
            acked_at,
            resolved_at,
            alerts_of,
            classification,
        )
        incidents.append(new(Incident, values))
    return MonthData(pages, incidents, _final_shifts(rota, month, overrides))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    # A report builds a few hundred thousand small tuples and no reference cycles; the cyclic
    # collector would walk the growing heap again and again (a third of the time). Reference
    # counting still frees everything; the collector resumes, as it was, at the end.
    # (A nested pause leaves the collector paused for the outer one to resume.)
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_report(
    settings: Settings,
    store: Store,
    month: Month,
    *,
    rota: Rota | None = None,
    rotation: str | None = None,
) -> BurdenReport:
    """The burden report of `month` (and its change against the month before)."""
    rota = rota or settings.rota()
    if rotation is not None and rotation not in rota.rotations:
        known = ", ".join(rota.rotations) or "none configured"
        raise UnknownRotation(f"no rotation {rotation!r} (rotations: {known})")
    report_rota = _report_rota(rota)
    with store.read() as session:
        overrides = active_overrides(session)  # for both months
    policy = settings.report.policy(settings.response.mttr)
    rotations = list(rota.rotations.values())
    with _cyclic_gc_paused():
        # Of the month before, only the figures the change is computed from.
        before = load_month(store, report_rota, month.previous(), overrides, detail=False)
        totals = month_totals(
            month.previous(),
            pages=before.pages,
            incidents=before.incidents,
            shifts=before.shifts,
            people=rota.people,
            rotations=rotations,
            policy=policy,
            rotation=rotation,
        )
        del before  # a month of pages: let it go before loading the next
        data = load_month(store, report_rota, month, overrides)
        return burden_report(
            month,
            pages=data.pages,
            incidents=data.incidents,
            shifts=data.shifts,
            people=rota.people,
            rotations=rotations,
            policy=policy,
            rotation=rotation,
            previous=totals,
        )


# --------------------------------------------------------------------------------------
# The figures as plain data (JSON), and the other formats from it


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def report_data(report: BurdenReport) -> dict[str, Any]:
    """Every figure of the report as JSON-ready data (the CSV carries the same numbers)."""
    policy = report.policy
    hours = policy.business_hours
    return {
        "month": report.month.label,
        "time_zone": report.month.zone.key,
        "start": report.month.start.isoformat(),
        "end": report.month.end.isoformat(),
        "rotation": report.rotation,
        "definitions": {
            "interruption_window_s": policy.interruption_window.total_seconds(),
            "night": "each person's own night window on their own clock",
            "business_hours": {
                "days": sorted(hours.days),
                "start": hours.start.isoformat(),
                "end": hours.end.isoformat(),
            },
            "ack_target_s": policy.ack_target.total_seconds(),
            "resolve_target_s": {k: v.total_seconds() for k, v in policy.resolve_targets.items()},
            "night_page_limit": policy.night_page_limit,
            "noise_pct": NOISE_DEFINITION,
            "noisy_alert_pct": policy.noisy_alert_pct,
        },
        "totals": {
            "pages": report.pages,
            "night_pages": report.night_pages,
            "pages_by_hour": list(report.pages_by_hour),
        },
        "people": _plain(list(report.people)),
        "rotations": _plain(list(report.rotations)),
    }


def render_json(report: BurdenReport) -> str:
    """The report as JSON (`report_data`)."""
    return json.dumps(report_data(report), indent=2) + "\n"


_PERSON_FIELDS = (
    "time_zone",
    "shifts",
    "on_call_hours",
    "pages",
    "interruptions",
    "night_pages",
    "nights_on_call",
    "nights_over_limit",
    "night_pages_per_night",
    "out_of_hours_pages",
    "paged_incidents",
    "acked_within_target",
    "ack_within_target_pct",
    "shortest_rest_hours",
)
_ROTATION_FIELDS = (
    "incidents",
    "ack_within_target_pct",
    "pages",
    "interruptions",
    "night_pages",
    "nights_on_call",
    "night_pages_per_night",
    "out_of_hours_pages",
    "noise_incidents",
    "actionable_incidents",
    "unclassified_incidents",
    "noise_pct",
    "rest_breaches",
    "recommendation",
)
_ALERT_FIELDS = (
    "rule",
    "pages",
    "night_pages",
    "incidents",
    "noise_incidents",
    "actionable_incidents",
    "unclassified_incidents",
    "noise_pct",
)


def render_csv(report: BurdenReport) -> str:
    """Every figure as one long table: section, rotation, person, key, metric, value."""
    data = report_data(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "rotation", "person", "key", "metric", "value"))

    def row(section: str, rotation: str, person: str, key: str, metric: str, value: Any) -> None:
        writer.writerow((section, rotation, person, key, metric, "" if value is None else value))

    for hour, count in enumerate(data["totals"]["pages_by_hour"]):
        row("hour", "", "", str(hour), "pages", count)
    row("total", "", "", "", "pages", data["totals"]["pages"])
    row("total", "", "", "", "night_pages", data["totals"]["night_pages"])
    for person in data["people"]:
        for name in _PERSON_FIELDS:
            row("person", "", person["name"], "", name, person[name])
        row("person", "", person["name"], "", "flags", len(person["flags"]))
        for flag in person["flags"]:
            row("person_flag", flag["rotation"] or "", person["name"], flag["rule"], "message",
                flag["message"])  # fmt: skip
        for night, count in person["night_pages_by_night"].items():
            row("person_night", "", person["name"], night, "night_pages", count)
    for rotation in data["rotations"]:
        name = rotation["name"]
        for field in _ROTATION_FIELDS:
            row("rotation", name, "", "", field, rotation[field])
        for severity, count in rotation["incidents_by_severity"].items():
            row("rotation_severity", name, "", severity, "incidents", count)
        for response in rotation["response"]:
            for metric, value in response.items():
                if metric != "severity":
                    row("rotation_response", name, "", response["severity"], metric, value)
        for hour, count in enumerate(rotation["pages_by_hour"]):
            row("rotation_hour", name, "", str(hour), "pages", count)
        for section in ("noisiest_by_pages", "noisiest_by_night_pages"):
            for alert in rotation[section]:
                for metric in _ALERT_FIELDS:
                    row(section, name, "", alert["alertname"], metric, alert[metric])
        for alert in rotation["mostly_noise"]:
            row("rotation_mostly_noise", name, "", alert["alertname"], "noise_pct",
                alert["noise_pct"])  # fmt: skip
        for metric, value in (rotation["change"] or {}).items():
            row("rotation_change", name, "", "", metric, value)
    return out.getvalue()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+g}"


def _noise(noise_pct: float | None, noise: int, classified: int) -> str:
    if noise_pct is None:
        return "– (none classified)"
    return f"{noise_pct:g} % ({noise} of {classified})"


def _alert_row(a: AlertNoise) -> list[str]:
    return [
        a.alertname,
        a.rule,
        _cell(a.pages),
        _cell(a.night_pages),
        _cell(a.incidents),
        _noise(a.noise_pct, a.noise_incidents, a.classified_incidents),
        _cell(a.unclassified_incidents),
    ]


def _tables(report: BurdenReport) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report as titled tables, shared by the Markdown and HTML renderings."""
    tables = []
    tables.append(
        (
            "People",
            [
                "person",
                "zone",
                "shifts",
                "on-call h",
                "pages",
                "interruptions",
                "night pages",
                "nights on call",
                "nights > limit",
                "night pages / night",
                "after-hours pages",
                "ack ≤ target",
                "shortest rest h",
                "flags",
            ],
            [
                [
                    p.name,
                    p.time_zone,
                    _cell(p.shifts),
                    _cell(p.on_call_hours),
                    _cell(p.pages),
                    _cell(p.interruptions),
                    _cell(p.night_pages),
                    _cell(p.nights_on_call),
                    _cell(p.nights_over_limit),
                    _cell(p.night_pages_per_night),
                    _cell(p.out_of_hours_pages),
                    "–"
                    if p.ack_within_target_pct is None
                    else f"{p.ack_within_target_pct:g} % ({p.acked_within_target}/"
                    f"{p.paged_incidents})",
                    _cell(p.shortest_rest_hours),
                    "; ".join(f.message for f in p.flags) or "",
                ]
                for p in report.people
            ],
        )
    )
    for r in report.rotations:
        tables.append(
            (
                f"Rotation {r.name}",
                ["figure", "value", "change vs previous month"],
                [
                    [label, _cell(getattr(r, name)), _signed((r.change or {}).get(name))]
                    for label, name in (
                        ("incidents", "incidents"),
                        ("acknowledged within target (%)", "ack_within_target_pct"),
                        ("pages", "pages"),
                        ("interruptions", "interruptions"),
                        ("night pages", "night_pages"),
                        ("nights on call", "nights_on_call"),
                        ("night pages per night on call", "night_pages_per_night"),
                        ("after-hours pages", "out_of_hours_pages"),
                        ("rest breaches (this rotation's rule)", "rest_breaches"),
                    )
                ]
                + [
                    [
                        "incidents marked noise (of those classified)",
                        _noise(
                            r.noise_pct,
                            r.noise_incidents,
                            r.noise_incidents + r.actionable_incidents,
                        ),
                        "",
                    ],
                    ["incidents not classified", _cell(r.unclassified_incidents), ""],
                ],
            )
        )
        tables.append(
            (
                f"Rotation {r.name}: response by severity",
                [
                    "severity",
                    "incidents",
                    "ack median",
                    "ack p90",
                    "ack ≤ target",
                    "resolve median",
                    "resolve p90",
                    "resolve target",
                    "resolved ≤ target",
                ],
                [
                    [
                        s.severity,
                        _cell(s.incidents),
                        _duration(s.ack_median_s),
                        _duration(s.ack_p90_s),
                        "–"
                        if s.ack_within_target_pct is None
                        else f"{s.ack_within_target_pct:g} %",
                        _duration(s.resolve_median_s),
                        _duration(s.resolve_p90_s),
                        _duration(s.resolve_target_s),
                        "–"
                        if s.resolve_within_target_pct is None
                        else f"{s.resolve_within_target_pct:g} %",
                    ]
                    for s in r.response
                ],
            )
        )
        for title, alerts in (
            ("noisiest alerts by pages", r.noisiest_by_pages),
            ("noisiest alerts by night pages", r.noisiest_by_night_pages),
        ):
            tables.append(
                (
                    f"Rotation {r.name}: {title}",
                    [
                        "alert",
                        "rule",
                        "pages",
                        "night pages",
                        "incidents",
                        "marked noise",
                        "not classified",
                    ],
                    [_alert_row(a) for a in alerts],
                )
            )
    return tables


def _intro(report: BurdenReport) -> list[str]:
    policy = report.policy
    scope = f"rotation {report.rotation}" if report.rotation else "all rotations"
    lines = [
        f"{report.month.label} ({report.month.zone.key}), {scope}: {report.pages} pages, "
        f"{report.night_pages} at night.",
        f"Interruptions: pages within {policy.interruption_window.total_seconds():g} s of the "
        "first page of a run count once. Night: each person's own night window on their own "
        "clock. After-hours: outside business hours on the person's own clock. "
        f"Acknowledged within {_duration(policy.ack_target.total_seconds())}: from a person's "
        "first page for an incident to the incident's acknowledgement.",
        f"Marked noise: {NOISE_DEFINITION}; alerts at or above "
        f"{policy.noisy_alert_pct:g} % noise are named.",
    ]
    for r in report.rotations:
        if r.recommendation:
            lines.append(f"**{r.name}: {r.recommendation}.**")
        elif r.mostly_noise:
            noisy = ", ".join(describe_noise(a) for a in r.mostly_noise)
            lines.append(f"{r.name}: mostly noise: {noisy}.")
    return lines


def render_markdown(report: BurdenReport) -> str:
    """The report as Markdown tables."""
    out = [f"# On-call burden {report.month.label}", "", *(f"{line}\n" for line in _intro(report))]
    for title, header, rows in _tables(report):
        out += [f"## {title}", "", "| " + " | ".join(header) + " |"]
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# HTML with inline SVG charts


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _margins(figure: Any, labels: Iterable[str], *, right: float = 0.25) -> None:
    # Fixed margins, wide enough for the longest tick label (about 0.08 in a character at
    # 9 pt): bbox_inches="tight" would draw each chart twice to measure it.
    width, height = figure.get_size_inches()
    left = 0.35 + 0.08 * max((len(label) for label in labels), default=3)
    figure.subplots_adjust(
        left=min(left / width, 0.4),
        right=1 - right / width,
        top=1 - 0.35 / height,
        bottom=0.55 / height,
    )


def _row_labels(axes: Any, labels: Sequence[str]) -> None:
    # One text per row instead of a tick per row: a tick is five artists (three lines, two
    # texts), and these charts have up to 40 rows.
    axes.set_yticks([])
    place = axes.get_yaxis_transform()
    for row, label in enumerate(labels):
        axes.text(-0.008, row, label, transform=place, ha="right", va="center")


def _bars(
    axes: Any,
    cells: Sequence[tuple[float, float, float, float]],
    colour: str,
    label: str | None = None,
) -> None:
    # Bars (x, width, y, height) as one collection, as bar / barh draw them but without a
    # patch, a transform and an update of the axes' limits per bar: the caller sets limits.
    from matplotlib.collections import PolyCollection

    verts = [((x, y), (x + w, y), (x + w, y + h), (x, y + h)) for x, w, y, h in cells]
    collection = PolyCollection(verts, facecolors=colour, edgecolors="none", label=label)
    axes.add_collection(collection, autolim=False)


def charts(report: BurdenReport) -> dict[str, str]:
    """The three charts as inline SVG: pages per night per person, by hour, severity mix."""
    import matplotlib
    from matplotlib.figure import Figure

    # Drawn for speed as well as looks (an HTML report is a few hundred ms of matplotlib):
    # the heat map is one image, not a mesh of 1,000 cells; ticks are few; margins are fixed.
    style = {"svg.fonttype": "none", "svg.hashsalt": "onwatch", "font.size": 9}
    found: dict[str, str] = {}
    # Figures are reference cycles: they wait for the collector, which then runs once.
    with matplotlib.rc_context(style), _cyclic_gc_paused():
        first = report.month.start.date() - timedelta(days=1)
        days = [
            first + timedelta(days=n)
            for n in range((report.month.end - report.month.start).days + 1)
        ]
        busiest = sorted(
            (p for p in report.people if p.night_pages),
            key=lambda p: (-p.night_pages, p.name),
        )[:CHART_PEOPLE]
        figure = Figure(figsize=(10, 1.3 + 0.2 * max(len(busiest), 1)))
        axes = figure.add_subplot()
        _margins(figure, [p.name for p in busiest], right=0.8)  # and the colour bar's
        if busiest:
            grid = [[p.night_pages_by_night.get(day, 0) for day in days] for p in busiest]
            # One image, its cells drawn as sharp squares by the browser.
            image = axes.imshow(grid, cmap="Reds", vmin=0, aspect="auto", interpolation="none")
            figure.colorbar(image, ax=axes, label="night pages", pad=0.015, fraction=0.025)
            _row_labels(axes, [p.name for p in busiest])
            axes.set_xticks(range(0, len(days), 2), [f"{d:%d}" for d in days[::2]])
        else:
            axes.text(0.5, 0.5, "no night pages this month", ha="center", va="center")
            axes.set_axis_off()
        axes.set_title(f"Night pages per night, per person ({report.month.label}, by night start)")
        found["pages_per_night"] = _svg(figure)

        figure = Figure(figsize=(10, 3))
        axes = figure.add_subplot()
        _margins(figure, [str(max(report.pages_by_hour, default=0))])
        hourly = [(hour - 0.4, 0.8, 0, n) for hour, n in enumerate(report.pages_by_hour)]
        _bars(axes, hourly, "#4c72b0")
        axes.set_ylim(0, 1.05 * max(report.pages_by_hour, default=0) or 1)
        axes.set_xticks(range(0, 24, 2))
        axes.set_xlim(-0.6, 23.6)
        axes.set_xlabel("hour of day, on the paged person's own clock")
        axes.set_ylabel("pages")
        axes.set_title("Pages by hour of day")
        figure.subplots_adjust(bottom=0.7 / 3)  # room for the axis label
        found["pages_by_hour"] = _svg(figure)

        names = [r.name for r in report.rotations]
        figure = Figure(figsize=(10, 1.5 + 0.3 * max(len(names), 1)))
        axes = figure.add_subplot()
        _margins(figure, names)
        colours = {"SEV1": "#c0392b", "SEV2": "#e67e22", "SEV3": "#f1c40f", "SEV4": "#95a5a6"}
        left = [0] * len(names)
        for severity in SEVERITIES:
            counts = [r.incidents_by_severity[severity] for r in report.rotations]
            pairs = enumerate(zip(left, counts, strict=True))
            cells = [(x, n, row - 0.4, 0.8) for row, (x, n) in pairs]
            _bars(axes, cells, colours[severity], label=severity)
            left = [a + b for a, b in zip(left, counts, strict=True)]
        axes.set_xlim(0, 1.05 * max(left, default=0) or 1)
        _row_labels(axes, names)
        if names:
            axes.set_ylim(len(names) - 0.5, -0.5)  # the first rotation on top
        axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=4, frameon=False)
        axes.set_xlabel("incidents opened")
        axes.set_title("Severity mix per rotation", loc="left")
        figure.subplots_adjust(bottom=0.75 / figure.get_size_inches()[1])
        found["severity_mix"] = _svg(figure)
    return found


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}
.flag{color:#b00}.chart{margin:1em 0}
"""


def render_html(report: BurdenReport) -> str:
    """A self-contained page: the tables, and the charts as inline SVG (opens offline)."""
    title = html.escape(f"On-call burden {report.month.label}")
    body = [f"<h1>{title}</h1>"]
    body += [f"<p>{html.escape(line).replace('**', '')}</p>" for line in _intro(report)]
    for name, svg in charts(report).items():
        body.append(f'<div class="chart" id="chart-{name}">{svg}</div>')
    for heading, header, rows in _tables(report):
        body.append(f"<h2>{html.escape(heading)}</h2><table>")
        body.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in header) + "</tr>")
        for row in rows:
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        body.append("</table>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def render(report: BurdenReport, fmt: Format) -> str:
    """The report in one format."""
    renderers = {
        "md": render_markdown,
        "html": render_html,
        "csv": render_csv,
        "json": render_json,
    }
    return renderers[fmt](report)


def write_monthly_report(settings: Settings, store: Store, now: datetime) -> list[Path]:
    """Scheduler job: write last month's report (in `report.time_zone`) to `report.folder`,
    then announce it to each rotation's `notify:` targets.

    Runs on the 1st of each month; writing again overwrites the same files and announces
    nothing twice, so a re-run (or a run the scheduler caught up on) is harmless. Returns the
    files written.
    """
    month = Month.containing(now, settings.report.zone).previous()
    report = build_report(settings, store, month)
    folder = Path(settings.report.folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in settings.report.formats:
        path = folder / f"burden-{month.label}.{fmt}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(render(report, fmt), encoding="utf-8")
        partial.replace(path)  # readers never see half a file
        written.append(path)
    files = [path.resolve() for path in written]
    queued = store.write(
        lambda session: announce_report(
            session, settings=settings, report=report, files=files, now=now
        )
    )
    log.info("burden report %s: %d announcement(s) queued", month.label, queued)
    return written
