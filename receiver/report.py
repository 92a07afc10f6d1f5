"""The monthly on-call burden report: rows from the store in, md / html / csv / json out.

The figures come from `scheduler.burden` (pure); this module loads the month's pages,
incidents, alerts and overrides with a few Core queries, asks the rota for the final shifts,
and renders. Charts are drawn by matplotlib as inline SVG, so the HTML opens offline.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import and_, or_, select, union

from receiver.config import Settings
from receiver.models import AlertRecord, IncidentRecord
from receiver.paging_models import PageRecord
from receiver.rota_store import active_overrides
from receiver.store import Store
from scheduler.burden import (
    NOISE_NOT_AVAILABLE,
    SEVERITIES,
    BurdenReport,
    Incident,
    Month,
    Page,
    burden_report,
)
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.shifts import Shift

Format = Literal["md", "html", "csv", "json"]
FORMATS: tuple[Format, ...] = ("md", "html", "csv", "json")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
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


def load_month(store: Store, rota: Rota, month: Month) -> MonthData:
    """The month's pages, the incidents they belong to or opened in it, and the final shifts."""
    start, end = month.start, month.end
    in_month = and_(_PAGE.c.at >= start, _PAGE.c.at < end)
    paged = select(_PAGE.c.incident_id).where(in_month)
    opened = select(_INCIDENT.c.id).where(
        and_(_INCIDENT.c.opened_at >= start, _INCIDENT.c.opened_at < end)
    )
    wanted = union(paged, opened).subquery()
    with store.read_rows() as connection:
        page_rows = connection.execute(
            select(_PAGE.c.at, _PAGE.c.person, _PAGE.c.rotation, _PAGE.c.incident_id)
            .where(in_month)
            .order_by(_PAGE.c.at)
        ).all()
        incident_rows = connection.execute(
            select(
                _INCIDENT.c.id,
                _INCIDENT.c.service,
                _INCIDENT.c.severity,
                _INCIDENT.c.opened_at,
                _INCIDENT.c.acknowledged_at,
                _INCIDENT.c.resolved_at,
            ).where(
                or_(
                    _INCIDENT.c.id.in_(select(wanted.c[0])),
                    and_(_INCIDENT.c.opened_at >= start, _INCIDENT.c.opened_at < end),
                )
            )
        ).all()
        alert_rows = connection.execute(
            select(_ALERT.c.incident_id, _ALERT.c.alertname, _ALERT.c.rule)
            .distinct()
            .where(_ALERT.c.incident_id.in_(select(wanted.c[0])))
        ).all()
    with store.read() as session:
        overrides = active_overrides(session)
    pages = [
        Page(at, person, rotation, incident_id) for at, person, rotation, incident_id in page_rows
    ]
    # An incident belongs to the rotation that paged for it, else to the one covering its service.
    rotation_of: dict[int, str] = {}
    for page in pages:
        rotation_of.setdefault(page.incident_id, page.rotation)
    alerts: dict[int, list[tuple[str, str]]] = {}
    for incident_id, alertname, rule in alert_rows:
        alerts.setdefault(incident_id, []).append((alertname, rule))
    incidents = []
    for incident_id, service, severity, opened_at, acked_at, resolved_at in incident_rows:
        rotation = rotation_of.get(incident_id)
        if rotation is None:
            covering = rota.rotation_for_service(service)
            rotation = covering.name if covering else None
        incidents.append(
            Incident(
                id=incident_id,
                rotation=rotation,
                severity=severity,
                opened_at=opened_at,
                acknowledged_at=acked_at,
                resolved_at=resolved_at,
                alerts=tuple(sorted(alerts.get(incident_id, ()))),
            )
        )
    return MonthData(pages, incidents, _final_shifts(_report_rota(rota), month, overrides))


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
    policy = settings.report.policy()
    rotations = list(rota.rotations.values())

    def compute(which: Month, previous: BurdenReport | None) -> BurdenReport:
        data = load_month(store, report_rota, which)
        return burden_report(
            which,
            pages=data.pages,
            incidents=data.incidents,
            shifts=data.shifts,
            people=rota.people,
            rotations=rotations,
            policy=policy,
            rotation=rotation,
            previous=previous,
        )

    return compute(month, compute(month.previous(), None))


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
            "noise_share": NOISE_NOT_AVAILABLE,
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
    "recommendation",
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
                for metric in ("rule", "pages", "night_pages", "noise_share"):
                    row(section, name, "", alert["alertname"], metric, alert[metric])
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
                    )
                ]
                + [["share of incidents marked noise", NOISE_NOT_AVAILABLE, ""]],
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
                    ["alert", "rule", "pages", "night pages", "marked noise"],
                    [
                        [a.alertname, a.rule, _cell(a.pages), _cell(a.night_pages), "n/a"]
                        for a in alerts
                    ],
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
        f"Share of incidents marked noise: {NOISE_NOT_AVAILABLE}.",
    ]
    for r in report.rotations:
        if r.recommendation:
            lines.append(f"**{r.name}: {r.recommendation}.**")
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
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def charts(report: BurdenReport) -> dict[str, str]:
    """The three charts as inline SVG: pages per night per person, by hour, severity mix."""
    import matplotlib
    from matplotlib.figure import Figure

    style = {"svg.fonttype": "none", "svg.hashsalt": "onwatch", "font.size": 9}
    found: dict[str, str] = {}
    with matplotlib.rc_context(style):
        first = report.month.start.date() - timedelta(days=1)
        days = [
            first + timedelta(days=n)
            for n in range((report.month.end - report.month.start).days + 1)
        ]
        busiest = sorted(
            (p for p in report.people if p.night_pages),
            key=lambda p: (-p.night_pages, p.name),
        )[:CHART_PEOPLE]
        figure = Figure(figsize=(10, 1.2 + 0.22 * max(len(busiest), 1)))
        axes = figure.add_subplot()
        if busiest:
            grid = [[p.night_pages_by_night.get(day, 0) for day in days] for p in busiest]
            mesh = axes.pcolormesh(grid, cmap="Reds", vmin=0, edgecolors="white", linewidth=0.3)
            figure.colorbar(mesh, ax=axes, label="night pages")
            axes.set_yticks([n + 0.5 for n in range(len(busiest))], [p.name for p in busiest])
            axes.invert_yaxis()
            axes.set_xticks(
                [n + 0.5 for n in range(0, len(days), 2)], [f"{d:%d}" for d in days[::2]]
            )
        else:
            axes.text(0.5, 0.5, "no night pages this month", ha="center", va="center")
            axes.set_axis_off()
        axes.set_title(f"Night pages per night, per person ({report.month.label}, by night start)")
        found["pages_per_night"] = _svg(figure)

        figure = Figure(figsize=(10, 3))
        axes = figure.add_subplot()
        axes.bar(range(24), report.pages_by_hour, color="#4c72b0")
        axes.set_xticks(range(24))
        axes.set_xlabel("hour of day, on the paged person's own clock")
        axes.set_ylabel("pages")
        axes.set_title("Pages by hour of day")
        found["pages_by_hour"] = _svg(figure)

        figure = Figure(figsize=(10, 1.2 + 0.35 * max(len(report.rotations), 1)))
        axes = figure.add_subplot()
        colours = {"SEV1": "#c0392b", "SEV2": "#e67e22", "SEV3": "#f1c40f", "SEV4": "#95a5a6"}
        names = [r.name for r in report.rotations]
        left = [0] * len(names)
        for severity in SEVERITIES:
            counts = [r.incidents_by_severity[severity] for r in report.rotations]
            axes.barh(names, counts, left=left, color=colours[severity], label=severity)
            left = [a + b for a, b in zip(left, counts, strict=True)]
        axes.invert_yaxis()
        axes.legend(loc="lower right", ncols=4)
        axes.set_xlabel("incidents opened")
        axes.set_title("Severity mix per rotation")
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
    """Scheduler job: write last month's report (in `report.time_zone`) to `report.folder`.

    Runs on the 1st of each month; writing again overwrites the same files, so a re-run (or
    a run the scheduler caught up on) is harmless. Returns the files written.
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
    return written
