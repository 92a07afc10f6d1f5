"""Rendering a burden report: Markdown, HTML, CSV and JSON, and the media type of each.

Apart from building because a report is rendered as often as asked (the API, the CLI, each
file of the monthly job) from one built value, and the formats share one reading of it: the
figures as plain data (`report_data`: the JSON, and the same numbers in the CSV) and the
titled tables and definitions (Markdown, and HTML around the charts from `charts`).
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from typing import Any

from receiver.report.charts import charts
from receiver.report.settings import Format
from scheduler.burden import AlertNoise, BurdenReport, describe_noise

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


# The most alerts per rotation the verdict names (the tables list up to TOP_ALERTS).
VERDICT_ALERTS = 3


def verdict(report: BurdenReport) -> dict[str, Any]:
    """What a reader needs first: who averaged more than the night page limit per night on
    call, each rotation's noisiest alerts (by night pages, else by pages), and what the
    process says to do about it (`RotationBurden.recommendation`: fix the alerts or staff up).
    """
    over = [p for p in report.people if any(f.rule == "night_pages" for f in p.flags)]
    over.sort(key=lambda p: (-p.night_pages_per_night, p.name))
    return {
        "night_page_limit": report.policy.night_page_limit,
        "over_night_limit": [
            {
                "name": p.name,
                "rotations": [
                    r.name for r in report.rotations if p.name in r.people_over_night_limit
                ],
                "night_pages": p.night_pages,
                "nights_on_call": p.nights_on_call,
                "night_pages_per_night": p.night_pages_per_night,
            }
            for p in over
        ],
        "noisiest_alerts": [
            {
                "rotation": r.name,
                "by": "night_pages" if r.noisiest_by_night_pages else "pages",
                "alerts": _plain(
                    list((r.noisiest_by_night_pages or r.noisiest_by_pages)[:VERDICT_ALERTS])
                ),
            }
            for r in report.rotations
            if r.noisiest_by_pages
        ],
        "actions": [
            {"rotation": r.name, "recommendation": r.recommendation}
            for r in report.rotations
            if r.recommendation
        ],
    }


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
        "verdict": verdict(report),
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


# A titled table: its title, header, rows, and the one line said instead when it has no rows.
_Table = tuple[str, list[str], list[list[str]], str]


def _tables(report: BurdenReport) -> list[_Table]:
    """The report as titled tables, shared by the Markdown and HTML renderings."""
    tables: list[_Table] = []
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
            "Nobody was on call or paged this month.",
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
                "",  # always has its rows
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
                ]
                if r.incidents
                else [],
                "No incidents opened this month.",
            )
        )
        for title, alerts, none in (
            ("noisiest alerts by pages", r.noisiest_by_pages, "No pages this month."),
            (
                "noisiest alerts by night pages",
                r.noisiest_by_night_pages,
                "No night pages this month.",
            ),
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
                    none,
                )
            )
    return tables


def _verdict(report: BurdenReport) -> list[str]:
    """The verdict, first: who crossed the night page limit, the noisiest alerts, what to do."""
    found = verdict(report)
    limit = f"{report.policy.night_page_limit:g}"
    scope = f"rotation {report.rotation}" if report.rotation else "all rotations"
    lines = [
        f"{report.month.label} ({report.month.zone.key}), {scope}: {report.pages} pages, "
        f"{report.night_pages} at night."
    ]
    if found["over_night_limit"]:
        who = ", ".join(
            f"{p['name']} ({p['night_pages_per_night']:g} a night: {p['night_pages']} night "
            f"pages over {p['nights_on_call']} nights on call"
            + (f", {', '.join(p['rotations'])})" if p["rotations"] else ")")
            for p in found["over_night_limit"]
        )
        lines.append(f"**More than {limit} night pages a night on call: {who}.**")
    else:
        lines.append(f"Nobody averaged more than {limit} night pages a night on call.")
    for noisy in found["noisiest_alerts"]:
        at_night = noisy["by"] == "night_pages"
        alerts = ", ".join(
            f"{a['alertname']} ({a['night_pages'] if at_night else a['pages']})"
            for a in noisy["alerts"]
        )
        what = "night pages" if at_night else "pages (none at night)"
        lines.append(f"{noisy['rotation']}: noisiest alerts by {what}: {alerts}.")
    if not found["noisiest_alerts"]:
        lines.append("No pages this month.")
    for r in report.rotations:
        if r.recommendation:
            lines.append(f"**{r.name}: {r.recommendation}.**")
        elif r.mostly_noise:
            noisy_ = ", ".join(describe_noise(a) for a in r.mostly_noise)
            lines.append(f"{r.name}: mostly noise: {noisy_}.")
    if not found["actions"]:
        lines.append(
            f"No action needed: no rotation or person averaged more than {limit} night pages a "
            "night on call."
        )
    return lines


def _definitions(report: BurdenReport) -> list[str]:
    """How the figures are counted, last."""
    policy = report.policy
    return [
        f"Interruptions: pages within {policy.interruption_window.total_seconds():g} s of the "
        "first page of a run count once. Night: each person's own night window on their own "
        "clock. Night pages per night: night pages over the nights on call (of the current "
        "month, those that have begun). After-hours: outside business hours on the person's "
        f"own clock. Acknowledged within {_duration(policy.ack_target.total_seconds())}: from "
        "a person's first page for an incident to the incident's acknowledgement.",
        f"Marked noise: {NOISE_DEFINITION}; alerts at or above "
        f"{policy.noisy_alert_pct:g} % noise are named.",
    ]


def render_markdown(report: BurdenReport) -> str:
    """The report as Markdown: the verdict, the tables, then the definitions."""
    out = [f"# On-call burden {report.month.label}", "", "## Verdict", ""]
    out += [f"{line}\n" for line in _verdict(report)]
    for title, header, rows, none in _tables(report):
        out += [f"## {title}", ""]
        if not rows:
            out += [none, ""]
            continue
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        out.append("")
    out += ["## Definitions", "", *(f"{line}\n" for line in _definitions(report))]
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# HTML with inline SVG charts


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
td:first-child,th:first-child{text-align:left}
.flag{color:#b00}.chart{margin:1em 0}
"""


def render_html_body(report: BurdenReport) -> str:
    """The report's HTML without the document around it (the web page embeds it)."""
    title = html.escape(f"On-call burden {report.month.label}")
    body = [f"<h1>{title}</h1>", "<h2>Verdict</h2>"]
    for line in _verdict(report):
        text = html.escape(line)
        if text.startswith("**"):
            text = f'<strong class="flag">{text.strip("*")}</strong>'
        body.append(f"<p>{text}</p>")
    for name, svg in charts(report).items():
        body.append(f'<div class="chart" id="chart-{name}">{svg}</div>')
    for heading, header, rows, none in _tables(report):
        body.append(f"<h2>{html.escape(heading)}</h2>")
        if not rows:
            body.append(f"<p>{html.escape(none)}</p>")
            continue
        body.append("<table>")
        body.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in header) + "</tr>")
        for row in rows:
            body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        body.append("</table>")
    body.append("<h2>Definitions</h2>")
    body += [f"<p>{html.escape(line)}</p>" for line in _definitions(report)]
    return "\n".join(body)


def render_html(report: BurdenReport) -> str:
    """A self-contained page: the tables, and the charts as inline SVG (opens offline)."""
    title = html.escape(f"On-call burden {report.month.label}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n"
        + render_html_body(report)
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
