"""What the scheduler must do now for one incident: remind, escalate, chase the postmortem.

Every due instant is computed from recorded facts only (opening, last update, resolution),
never from `now`, so repeated runs agree on it and the caller's unique (incident, kind,
due_at) key makes each reminder happen once. Only the latest due instant per kind is
returned: a scheduler that was down for two hours sends one reminder, not eight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from response.checklist import mitigated_at
from response.facts import ActionItem, IncidentFacts, Postmortem
from response.milestones import MilestoneState, milestones
from response.resolution import format_span, span_in_words
from response.targets import ResponseTargets


class DueKind(StrEnum):
    """The kinds of time-driven actions the response process takes."""

    UPDATE_REMINDER = "update_reminder"
    NO_PROGRESS = "no_progress_escalation"
    POSTMORTEM_DRAFT = "postmortem_draft"
    POSTMORTEM_REVIEW = "postmortem_review"
    ACTION_ITEMS_ASSIGNED = "action_items_assigned"
    ACTION_ITEMS_COMPLETED = "action_items_completed"


@dataclass(frozen=True)
class DueAction:
    """One action due now: its kind, the instant it fell due, its repetition and its words."""

    kind: DueKind
    due_at: datetime  # deterministic: the same for every `now` until the next one falls due
    level: int  # how many intervals have passed (the scheduler picks the chain level itself)
    message: str


_MILESTONE_KINDS = {
    "draft": (DueKind.POSTMORTEM_DRAFT, "postmortem draft"),
    "review": (DueKind.POSTMORTEM_REVIEW, "postmortem review meeting"),
    "action_items_assigned": (DueKind.ACTION_ITEMS_ASSIGNED, "action items assigned"),
    "action_items_completed": (DueKind.ACTION_ITEMS_COMPLETED, "action items completed"),
}


def due_actions(
    facts: IncidentFacts,
    targets: ResponseTargets,
    now: datetime,
    action_items: Sequence[ActionItem] = (),
) -> list[DueAction]:
    """The reminders and escalations due for one incident at `now`, the latest of each kind."""
    if facts.resolved_at is None:
        found = [_update_reminder(facts, targets, now), _no_progress(facts, targets, now)]
    elif facts.postmortem is not None:
        found = _postmortem_reminders(
            facts.postmortem, facts.resolved_at, targets, now, action_items
        )
    else:
        found = []
    return [action for action in found if action is not None]


def _update_reminder(
    facts: IncidentFacts, targets: ResponseTargets, now: datetime
) -> DueAction | None:
    cadence = targets.update_cadence(facts.severity)
    if cadence is None:
        return None
    last = max((facts.opened_at, *(u.at for u in facts.updates)))
    latest = _latest(last + cadence, cadence, now)
    if latest is None:
        return None
    due_at, repeats = latest
    message = (
        f"no status update for {_minutes(now - last)} minutes "
        f"({facts.severity} expects one every {span_in_words(cadence)})"
    )
    return DueAction(DueKind.UPDATE_REMINDER, due_at, repeats + 1, message)


def _no_progress(facts: IncidentFacts, targets: ResponseTargets, now: datetime) -> DueAction | None:
    if facts.severity not in targets.escalate_severities or mitigated_at(facts) is not None:
        return None
    every = targets.escalate_without_progress
    latest = _latest(facts.opened_at + every, every, now)
    if latest is None:
        return None
    due_at, repeats = latest
    message = f"no progress (not mitigated) after {_minutes(now - facts.opened_at)} minutes"
    return DueAction(DueKind.NO_PROGRESS, due_at, repeats + 1, message)


def _postmortem_reminders(
    postmortem: Postmortem,
    resolved_at: datetime,
    targets: ResponseTargets,
    now: datetime,
    action_items: Sequence[ActionItem],
) -> list[DueAction | None]:
    found: list[DueAction | None] = []
    for milestone in milestones(postmortem, resolved_at, action_items, targets, now):
        if milestone.state is MilestoneState.MET:
            continue
        latest = _latest(milestone.due_at, targets.postmortem_remind_every, now)
        if latest is None:
            continue
        due_at, repeats = latest
        kind, name = _MILESTONE_KINDS[milestone.key]
        message = f"{name} was due {milestone.due_at:%Y-%m-%d %H:%M}"
        if now > milestone.due_at:
            message += f", overdue by {format_span(now - milestone.due_at)}"
        if milestone.note:
            message += f" ({milestone.note})"
        found.append(DueAction(kind, due_at, repeats, message))
    return found


def _latest(first: datetime, every: timedelta, now: datetime) -> tuple[datetime, int] | None:
    """The latest of first + n * every (n >= 0) not after `now`, and its n; None before first."""
    if now < first:
        return None
    if every <= timedelta(0):
        return first, 0  # a zero period would repeat without end: due once
    repeats = (now - first) // every
    return first + repeats * every, repeats


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
