"""The seed's postmortem milestones, counted from resolution: draft, review, action items.

Draft in 48 hours, review meeting in 1 week, action items assigned in 2 weeks and completed
in 30 days (or an exception documented); every number comes from `ResponseTargets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from response.facts import ActionItem, Postmortem
from response.resolution import format_span, span_in_words
from response.targets import ResponseTargets

CLOSED = "closed"


class MilestoneState(StrEnum):
    """Where one milestone stands."""

    MET = "met"
    PENDING = "pending"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class MilestoneView:
    """One milestone: when it is due, when (if) it was met, and a short note for people."""

    key: str
    label: str
    due_at: datetime
    met_at: datetime | None
    state: MilestoneState
    note: str = ""


def milestones(
    postmortem: Postmortem,
    resolved_at: datetime,
    action_items: Sequence[ActionItem],
    targets: ResponseTargets,
    now: datetime,
) -> tuple[MilestoneView, ...]:
    """The four postmortem milestones of one resolved incident, as of `now`."""
    assigned_at, assigned_note = _assigned(action_items)
    completed_at, completed_note = _completed(postmortem, action_items)
    return (
        _view(
            "draft",
            f"Draft postmortem written within {span_in_words(targets.postmortem_draft)}",
            resolved_at + targets.postmortem_draft,
            postmortem.drafted_at,
            "",
            now,
        ),
        _view(
            "review",
            f"Postmortem review meeting held within {span_in_words(targets.postmortem_review)}",
            resolved_at + targets.postmortem_review,
            postmortem.reviewed_at,
            "",
            now,
        ),
        _view(
            "action_items_assigned",
            "Action items assigned and tracked within "
            + span_in_words(targets.action_items_assigned),
            resolved_at + targets.action_items_assigned,
            assigned_at,
            assigned_note,
            now,
        ),
        _view(
            "action_items_completed",
            "Action items completed (or exceptions documented) within "
            + span_in_words(targets.action_items_completed),
            resolved_at + targets.action_items_completed,
            completed_at,
            completed_note,
            now,
        ),
    )


def is_overdue(item: ActionItem, now: datetime) -> bool:
    """True when the action item is still open and past its due date."""
    return item.status != CLOSED and item.due_at is not None and item.due_at < now


def _view(
    key: str,
    label: str,
    due_at: datetime,
    met_at: datetime | None,
    note: str,
    now: datetime,
) -> MilestoneView:
    if met_at is not None:
        if met_at > due_at:
            note = _join(note, f"met late by {format_span(met_at - due_at)}")
        state = MilestoneState.MET
    else:
        state = MilestoneState.OVERDUE if now > due_at else MilestoneState.PENDING
    return MilestoneView(key, label, due_at, met_at, state, note)


def _assigned(items: Sequence[ActionItem]) -> tuple[datetime | None, str]:
    if not items:
        return None, "no action items yet"
    assigned = [item for item in items if item.owner and item.due_at is not None]
    if len(assigned) < len(items):
        return None, f"{len(assigned)} of {len(items)} assigned"
    # An item without an assignment time (made before it was kept) counts from its creation.
    return max(item.assigned_at or item.created_at for item in items), ""


def _completed(postmortem: Postmortem, items: Sequence[ActionItem]) -> tuple[datetime | None, str]:
    closed_at: datetime | None = None
    note = ""
    if not items:
        note = "no action items yet"
    elif all(item.status == CLOSED for item in items):
        # A closed row without its closing time counts as closed when it was created.
        closed_at = max(item.closed_at or item.created_at for item in items)
    else:
        closed = sum(item.status == CLOSED for item in items)
        note = f"{closed} of {len(items)} closed"
    if postmortem.exception:
        # An exception recorded without its time is dated by the postmortem itself.
        exception_at = postmortem.exception_at or postmortem.scheduled_at
        if closed_at is None or exception_at < closed_at:
            return exception_at, f"exception: {postmortem.exception}"
    return closed_at, note


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
