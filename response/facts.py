"""What the response process knows about one incident: plain values, built from the rows.

The receiver reads an incident, its roles, status updates, ticks and postmortem from the
store and hands them to the pure code as these values (rows never leak into the core).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """The seed's incident roles."""

    COMMANDER = "commander"
    TECHNICAL_LEAD = "technical_lead"
    COMMUNICATIONS_LEAD = "communications_lead"
    SCRIBE = "scribe"

    @property
    def title(self) -> str:  # type: ignore[override]
        """How people name the role: "Incident Commander"."""
        return _ROLE_TITLES[self]


_ROLE_TITLES = {
    Role.COMMANDER: "Incident Commander",
    Role.TECHNICAL_LEAD: "Technical Lead",
    Role.COMMUNICATIONS_LEAD: "Communications Lead",
    Role.SCRIBE: "Scribe",
}


class UpdateStatus(StrEnum):
    """The status a status update declares (the seed's `[Status]`)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"  # a mitigation is in place and being watched
    RESOLVED = "resolved"

    @property
    def mitigated(self) -> bool:
        """True for the statuses that say a mitigation is in place (monitoring, resolved)."""
        return self in (UpdateStatus.MONITORING, UpdateStatus.RESOLVED)


class Classification(StrEnum):
    """Whether the incident needed a human (actionable) or only woke one up (noise)."""

    ACTIONABLE = "actionable"
    NOISE = "noise"


@dataclass(frozen=True)
class RoleAssignment:
    """Who holds a role now, since when, named by whom."""

    role: Role
    person: str
    at: datetime
    by: str


@dataclass(frozen=True)
class StatusUpdate:
    """One posted status update."""

    at: datetime
    by: str
    status: UpdateStatus
    impact: str
    current_action: str
    eta: str  # free text: "14:30 UTC", "next update in 30 minutes"


@dataclass(frozen=True)
class SeverityChange:
    """The incident's severity moving after it opened: by the IC, or raised by a worse alert.

    Kept apart from the timeline's words so messages can say it in their own (the executive
    update lists it in its timeline).
    """

    at: datetime
    previous: str  # SEV1..SEV4
    severity: str
    by: str  # the person who changed it; "" when a worse alert raised it
    reason: str  # the person's reason, or which rule graded the alert

    @property
    def raised(self) -> bool:
        """True when the incident became more severe (SEV2 -> SEV1)."""
        return self.severity < self.previous  # "SEV1" < "SEV2": a lower number is worse

    @property
    def verb(self) -> str:
        """ "raised" or "lowered", as the messages say it."""
        return "raised" if self.raised else "lowered"


@dataclass(frozen=True)
class Tick:
    """A checklist item ticked by hand, with who, when and an optional note (a bridge link)."""

    item: str
    at: datetime
    by: str
    note: str = ""


@dataclass(frozen=True)
class AlertFact:
    """One alert of the incident, as the postmortem's impact section lists it."""

    name: str
    severity: str
    status: str  # firing | resolved
    service: str
    rule: str
    starts_at: datetime
    ends_at: datetime | None
    summary: str = ""  # the alert's summary/description annotation


@dataclass(frozen=True)
class ChatChannel:
    """The incident's channel in the chat tool (Slack), as far as the tool confirmed it."""

    name: str
    created_at: datetime | None  # None until the tool confirmed the channel
    archived_at: datetime | None = None
    problem: str = ""  # why it was not created (the tool's refusal), or ""


@dataclass(frozen=True)
class TimelineItem:
    """One entry of the incident's timeline."""

    at: datetime
    kind: str
    message: str


@dataclass(frozen=True)
class ActionItem:
    """A postmortem action item."""

    id: int
    title: str
    owner: str | None
    due_at: datetime | None
    status: str  # open | closed
    created_at: datetime
    closed_at: datetime | None = None
    assigned_at: datetime | None = None  # when it first had both an owner and a due date


@dataclass(frozen=True)
class Postmortem:
    """A scheduled postmortem and the milestones reached so far."""

    scheduled_at: datetime
    drafted_at: datetime | None = None
    reviewed_at: datetime | None = None
    exception: str = ""  # why action items were not completed in time, when recorded
    exception_at: datetime | None = None


@dataclass(frozen=True)
class IncidentFacts:
    """Everything the response process reads about one incident."""

    id: int
    title: str
    service: str
    severity: str  # SEV1..SEV4
    channel: str
    status: str  # open | resolved
    opened_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None  # None when Alertmanager resolved it
    roles: tuple[RoleAssignment, ...] = ()  # current holders
    # The first person named to each role, and when: the checklist counts "IC identified" and
    # "roles assigned" from these, so replacing a role later does not move the phase's time.
    first_named: tuple[RoleAssignment, ...] = ()
    updates: tuple[StatusUpdate, ...] = ()  # oldest first
    # Every change of severity after opening, oldest first (empty when the reader of the
    # store did not load them: the messages then simply do not mention any).
    severity_changes: tuple[SeverityChange, ...] = ()
    ticks: tuple[Tick, ...] = ()  # by hand
    escalations: tuple[datetime, ...] = ()  # "no progress" escalations, oldest first
    all_clear_at: datetime | None = None  # when the all-clear was queued to its audiences
    first_notified_at: datetime | None = None  # when a status update was first queued to one
    postmortem: Postmortem | None = None
    classification: Classification | None = None
    classification_note: str = ""
    # None when no chat channel was wanted (chat off, or the severity gets none).
    chat_channel: ChatChannel | None = None

    def holder(self, role: Role) -> RoleAssignment | None:
        """The current holder of `role`, if anyone."""
        return next((r for r in self.roles if r.role == role), None)

    def first_holder(self, role: Role) -> RoleAssignment | None:
        """Whoever was first named to `role` (the current holder if no history is known)."""
        first = next((r for r in self.first_named if r.role == role), None)
        return first or self.holder(role)

    @property
    def resolved_by_monitoring(self) -> bool:
        """True when Alertmanager (the monitoring) reported the incident resolved."""
        return self.resolved_at is not None and self.resolved_by is None
