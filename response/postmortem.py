"""The postmortem draft: the seed's seven required sections in Markdown, pre-filled from facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from response.facts import ActionItem, AlertFact, IncidentFacts, Postmortem, TimelineItem
from response.milestones import CLOSED, MilestoneState, is_overdue, milestones
from response.rendering import (
    as_utc,
    builtin_environment,
    format_utc,
    last_before_mitigation,
    role_views,
    worst_update,
)
from response.resolution import format_span, resolution_view
from response.targets import ResponseTargets
from rules.explain import one_line

MINUTE_BY_MINUTE = ("SEV1", "SEV2")  # the seed: "minute-by-minute for SEV1-2"
# What the timeline of a SEV3-4 postmortem keeps: the events that shaped the response.
KEY_TIMELINE_KINDS = frozenset(
    {
        "incident_opened",
        "acknowledged",
        "severity_raised",
        "severity_changed",
        "status_update",
        "role_assigned",
        "escalated",
        "incident_resolved",
    }
)


@dataclass(frozen=True)
class TimelineDay:
    """The timeline entries of one UTC day."""

    date: str
    entries: tuple[tuple[str, str], ...]  # ("23:40 UTC", message)


@dataclass(frozen=True)
class Milestone:
    """One of the seed's postmortem milestones: when it is due and where it stands."""

    name: str
    due: str
    state: str


def render_postmortem(
    facts: IncidentFacts,
    alerts: Sequence[AlertFact],
    timeline: Sequence[TimelineItem],
    action_items: Sequence[ActionItem],
    targets: ResponseTargets,
    now: datetime,
) -> str:
    """The Markdown draft of the incident's postmortem, as far as the facts can fill it."""
    template = builtin_environment().get_template("postmortem.md.j2")
    return template.render(_context(facts, alerts, timeline, action_items, targets, now))


def _context(
    facts: IncidentFacts,
    alerts: Sequence[AlertFact],
    timeline: Sequence[TimelineItem],
    action_items: Sequence[ActionItem],
    targets: ResponseTargets,
    now: datetime,
) -> dict[str, Any]:
    still_open = facts.resolved_at is None
    ended = as_utc(now if facts.resolved_at is None else facts.resolved_at)
    opened = as_utc(facts.opened_at)
    resolution = resolution_view(facts, targets, now)
    alerts = sorted(alerts, key=lambda a: as_utc(a.starts_at))
    minute_by_minute = facts.severity in MINUTE_BY_MINUTE
    kept = [e for e in timeline if minute_by_minute or e.kind in KEY_TIMELINE_KINDS]
    return {
        "facts": facts,
        "title": one_line(facts.title),
        "still_open": still_open,
        "opened": format_utc(opened),
        "ended": format_utc(ended),
        "duration": format_span(resolution.elapsed),
        "time_to_acknowledge": (
            format_span(resolution.time_to_acknowledge)
            if resolution.time_to_acknowledge is not None
            else None
        ),
        "mttr_target": format_span(resolution.mttr_target),
        "mttr_breached": resolution.breached,
        "roles": role_views(facts.roles).values(),
        "summary": _summary(facts, alerts, opened, ended),
        "impact": _impact(facts),
        "services": _services(facts, alerts),
        "alert_rows": [_alert_row(a) for a in alerts],
        "minute_by_minute": minute_by_minute,
        "timeline_days": _days(kept),
        "left_out": len(timeline) - len(kept),
        "action_rows": [_action_row(a, now) for a in action_items],
        "milestones": _milestones(facts, action_items, targets, now),
        "now": format_utc(now),
    }


def _summary(
    facts: IncidentFacts, alerts: Sequence[AlertFact], opened: datetime, ended: datetime
) -> str:
    detected = f", detected by the alert {alerts[0].name}" if alerts else ""
    start = (
        f"On {opened:%Y-%m-%d} at {opened:%H:%M} UTC, {facts.service} had a {facts.severity} "
        f'incident, "{one_line(facts.title)}"{detected}; '
    )
    if facts.resolved_at is None:
        return f"{start}it is still open after {format_span(ended - opened)}."
    return f"{start}it was resolved at {format_utc(ended)}, {format_span(ended - opened)} later."


def _impact(facts: IncidentFacts) -> str:
    """The impact at the incident's worst (`worst_update`'s rule) and which update said it,
    so the reviewers know where the words come from; "" when no update stated one."""
    update = worst_update(facts.updates)
    if update is None:
        return ""
    # "At its worst" only when the rule found the last update before the mitigation.
    how = "at its worst" if update == last_before_mitigation(facts.updates) else "as last stated"
    return f"{update.impact} ({how}: update of {format_utc(update.at)} by {update.by})"


def _services(facts: IncidentFacts, alerts: Sequence[AlertFact]) -> list[str]:
    others = sorted({a.service for a in alerts if a.service and a.service != facts.service})
    return [facts.service, *others]


def _cell(text: str) -> str:
    # A Markdown table cell is one line, and a "|" in it would end the cell.
    return one_line(text).replace("|", "\\|")


def _alert_row(alert: AlertFact) -> tuple[str, ...]:
    ended = format_utc(alert.ends_at) if alert.ends_at else f"not yet ({alert.status})"
    return (
        _cell(alert.name),
        _cell(alert.severity),
        _cell(alert.rule),
        format_utc(alert.starts_at),
        ended,
    )


def _action_row(item: ActionItem, now: datetime) -> tuple[str, ...]:
    status = item.status
    if item.status == CLOSED and item.closed_at:
        status = f"closed {format_utc(item.closed_at)}"
    elif is_overdue(item, now):
        status = f"{item.status}, overdue"
    return (
        str(item.id),
        _cell(item.title),
        _cell(item.owner) if item.owner else "**no owner yet**",
        format_utc(item.due_at) if item.due_at else "**no due date yet**",
        _cell(status),
    )


def _days(entries: Sequence[TimelineItem]) -> list[TimelineDay]:
    days: list[TimelineDay] = []
    for entry in sorted(entries, key=lambda e: as_utc(e.at)):
        at = as_utc(entry.at)
        line = (f"{at:%H:%M} UTC", entry.message)
        if days and days[-1].date == f"{at:%Y-%m-%d}":
            days[-1] = TimelineDay(days[-1].date, (*days[-1].entries, line))
        else:
            days.append(TimelineDay(f"{at:%Y-%m-%d}", (line,)))
    return days


def _milestones(
    facts: IncidentFacts,
    action_items: Sequence[ActionItem],
    targets: ResponseTargets,
    now: datetime,
) -> list[Milestone]:
    """The seed's postmortem milestones, as `response.milestones` judges them (one rule for
    the draft, the API and the reminders)."""
    spans = (
        targets.postmortem_draft,
        targets.postmortem_review,
        targets.action_items_assigned,
        targets.action_items_completed,
    )
    if facts.resolved_at is None:
        names = (
            "Draft written",
            "Review meeting held",
            "Action items assigned",
            "Action items completed",
        )
        return [
            Milestone(name, f"{format_span(after)} after resolution", "not started")
            for name, after in zip(names, spans, strict=True)
        ]
    postmortem = facts.postmortem or Postmortem(scheduled_at=now)
    rows = []
    for view, after in zip(
        milestones(postmortem, facts.resolved_at, action_items, targets, now), spans, strict=True
    ):
        if view.state is MilestoneState.MET and view.met_at is not None:
            state = f"done {format_utc(view.met_at)}"
        else:
            state = view.state.value
        if view.note:
            state += f" ({one_line(view.note)})"
        when = f"{format_utc(view.due_at)} ({format_span(after)} after resolution)"
        rows.append(Milestone(view.label, when, state))
    return rows
