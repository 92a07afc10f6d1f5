"""Small builders for response tests: one incident's facts, counted in minutes after OPENED."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any

from response.facts import (
    ActionItem,
    IncidentFacts,
    Postmortem,
    Role,
    RoleAssignment,
    StatusUpdate,
    Tick,
    UpdateStatus,
)
from response.targets import ResponseTargets

OPENED = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
TARGETS = ResponseTargets()


def at(minutes: float = 0, *, hours: float = 0, days: float = 0) -> datetime:
    """The instant this long after OPENED."""
    return OPENED + timedelta(minutes=minutes, hours=hours, days=days)


def facts(**overrides: Any) -> IncidentFacts:
    """An open SEV1 incident opened at OPENED, nothing done yet, with `overrides` applied."""
    base = IncidentFacts(
        id=7,
        title="Checkout 5xx error rate above 5%",
        service="checkout",
        severity="SEV1",
        channel="#inc-20261128-checkout-errors",
        status="open",
        opened_at=OPENED,
    )
    return replace(base, **overrides)


def acknowledged(minutes: float = 2, by: str = "alice", **overrides: Any) -> IncidentFacts:
    """An incident acknowledged `minutes` after opening."""
    return facts(acknowledged_at=at(minutes), acknowledged_by=by, **overrides)


def resolved(minutes: float, by: str | None = None, **overrides: Any) -> IncidentFacts:
    """An incident resolved `minutes` after opening (by Alertmanager when `by` is None)."""
    return facts(status="resolved", resolved_at=at(minutes), resolved_by=by, **overrides)


def update(
    minutes: float,
    status: UpdateStatus = UpdateStatus.INVESTIGATING,
    *,
    impact: str = "checkout fails for 20% of users",
    by: str = "carol",
) -> StatusUpdate:
    """A status update posted `minutes` after opening."""
    return StatusUpdate(
        at=at(minutes),
        by=by,
        status=status,
        impact=impact,
        current_action="rolling back release 412",
        eta="next update in 15 minutes",
    )


def role(who: Role, minutes: float, person: str = "alice", by: str = "alice") -> RoleAssignment:
    """`person` named to `who` `minutes` after opening."""
    return RoleAssignment(role=who, person=person, at=at(minutes), by=by)


def all_roles(minutes: float = 3) -> tuple[RoleAssignment, ...]:
    """The three required roles, all named `minutes` after opening."""
    return (
        role(Role.COMMANDER, minutes, "alice"),
        role(Role.TECHNICAL_LEAD, minutes, "bob"),
        role(Role.COMMUNICATIONS_LEAD, minutes, "carol"),
    )


def tick(item: str, minutes: float, by: str = "dave", note: str = "") -> Tick:
    """A checklist item ticked by hand `minutes` after opening."""
    return Tick(item=item, at=at(minutes), by=by, note=note)


def postmortem(**overrides: Any) -> Postmortem:
    """A postmortem scheduled at the resolution of an incident resolved at `at(60)`."""
    return replace(Postmortem(scheduled_at=at(60)), **overrides)


def action_item(
    id: int = 1,
    *,
    owner: str | None = "bob",
    due_at: datetime | None | EllipsisType = ...,
    status: str = "open",
    created_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> ActionItem:
    """A postmortem action item, created a day after OPENED and due ten days after by default."""
    return ActionItem(
        id=id,
        title=f"action {id}",
        owner=owner,
        due_at=at(days=10) if isinstance(due_at, EllipsisType) else due_at,
        status=status,
        created_at=created_at if created_at is not None else at(days=1),
        closed_at=closed_at,
    )
