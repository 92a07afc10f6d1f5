"""What the pages read: the overview's open incidents, who is on call, overdue postmortem
work, and the incident list with its filters. Every list is bounded.

The facts and verdicts come from the same functions the API and the scheduler use
(`load_facts_of`, `due_actions`, `milestones`, `Rota.on_call`): a page shows what onwatch
itself would do, never a second reading of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from receiver.incidents.models import IncidentRecord, IncidentStatus
from receiver.postmortems.models import ActionItemRecord
from receiver.response.facts import load_action_items_of, load_facts_of
from receiver.response.reminders import unfinished_postmortems
from receiver.rota.store import active_overrides
from response.facts import IncidentFacts, Role
from response.milestones import MilestoneState, MilestoneView, milestones
from response.reminders import DueKind, due_actions
from response.targets import ResponseTargets
from scheduler.rota import Rota
from scheduler.shifts import Shift

OPEN_SHOWN = 200  # open incidents on the overview; more are counted, not listed
OVERDUE_SHOWN = 100
LIST_PAGE_SIZE = 50


@dataclass(frozen=True)
class OpenIncident:
    """One open incident on the overview."""

    incident: IncidentRecord
    commander: str | None
    last_update_at: datetime | None
    update_overdue: str | None  # the reminder's words when an update is overdue


@dataclass(frozen=True)
class OpenIncidents:
    """The open incidents shown, worst first, and how many there are in all."""

    shown: list[OpenIncident]
    total: int


def open_incidents(session: Session, targets: ResponseTargets, now: datetime) -> OpenIncidents:
    """Open incidents by severity then age, with their IC and whether an update is overdue."""
    is_open = IncidentRecord.status == IncidentStatus.OPEN
    rows = list(
        session.exec(
            select(IncidentRecord)
            .where(is_open)
            .order_by(col(IncidentRecord.severity), col(IncidentRecord.opened_at))
            .limit(OPEN_SHOWN)
        ).all()
    )
    total = session.exec(select(func.count()).select_from(IncidentRecord).where(is_open)).one()
    facts = load_facts_of(session, rows)
    shown = []
    for row in rows:
        assert row.id is not None
        fact = facts[row.id]
        reminder = next(
            (a for a in due_actions(fact, targets, now) if a.kind is DueKind.UPDATE_REMINDER),
            None,
        )
        shown.append(
            OpenIncident(
                incident=row,
                commander=commander(fact),
                last_update_at=max((u.at for u in fact.updates), default=None),
                update_overdue=reminder.message if reminder else None,
            )
        )
    return OpenIncidents(shown, int(total))


def commander(facts: IncidentFacts) -> str | None:
    """The Incident Commander named now, if any."""
    return next((r.person for r in facts.roles if r.role is Role.COMMANDER), None)


@dataclass(frozen=True)
class OnCallLayer:
    """One layer of a rotation now: its shift (None: nobody) and when it hands off."""

    rotation: str
    layer: str
    shift: Shift | None


def on_call_now(session: Session, rota: Rota, now: datetime) -> list[OnCallLayer]:
    """Who is on call now in every layer of every rotation, overrides included."""
    overrides = active_overrides(session)
    found = []
    for name in rota.rotations:
        mine = [o for o in overrides if o.rotation == name]
        for layer, shift in rota.on_call(name, now, mine).items():
            found.append(OnCallLayer(name, layer, shift))
    return found


@dataclass(frozen=True)
class OverdueMilestone:
    """A postmortem milestone past its due time."""

    incident: IncidentRecord
    milestone: MilestoneView


def overdue_milestones(
    session: Session, targets: ResponseTargets, now: datetime
) -> list[OverdueMilestone]:
    """Postmortem milestones past due, oldest due first (at most OVERDUE_SHOWN)."""
    incidents = unfinished_postmortems(session)
    facts = load_facts_of(session, incidents)
    ids = [i.id for i in incidents if i.id is not None]
    items = load_action_items_of(session, ids)
    found = []
    for incident in incidents:
        assert incident.id is not None
        fact = facts[incident.id]
        if fact.postmortem is None or fact.resolved_at is None:
            continue
        mine = items.get(incident.id, [])  # none yet: the action-item milestones are due
        views = milestones(fact.postmortem, fact.resolved_at, mine, targets, now)
        found += [OverdueMilestone(incident, m) for m in views if m.state is MilestoneState.OVERDUE]
    return sorted(found, key=lambda o: o.milestone.due_at)[:OVERDUE_SHOWN]


def overdue_action_items(session: Session, now: datetime) -> list[ActionItemRecord]:
    """Open action items past their due date, oldest due first (at most OVERDUE_SHOWN)."""
    return list(
        session.exec(
            select(ActionItemRecord)
            .where(ActionItemRecord.status == "open")
            .where(col(ActionItemRecord.due_at) < now)
            .order_by(col(ActionItemRecord.due_at))
            .limit(OVERDUE_SHOWN)
        ).all()
    )


@dataclass(frozen=True)
class IncidentFilter:
    """The incident list's filters (all optional) and its page (ids below `before`)."""

    status: str | None = None
    severity: str | None = None
    service: str | None = None
    opened_from: datetime | None = None
    opened_until: datetime | None = None
    text: str | None = None
    before: int | None = None


def incident_page(
    session: Session, wanted: IncidentFilter
) -> tuple[list[IncidentRecord], int | None]:
    """Newest first, LIST_PAGE_SIZE at a time; the id to continue before (None: no more).

    Keyset paging on the primary key: the thousandth page costs what the first does.
    """
    statement = (
        select(IncidentRecord).order_by(col(IncidentRecord.id).desc()).limit(LIST_PAGE_SIZE + 1)
    )
    if wanted.status:
        statement = statement.where(IncidentRecord.status == wanted.status)
    if wanted.severity:
        statement = statement.where(IncidentRecord.severity == wanted.severity)
    if wanted.service:
        statement = statement.where(IncidentRecord.service == wanted.service)
    if wanted.opened_from:
        statement = statement.where(col(IncidentRecord.opened_at) >= wanted.opened_from)
    if wanted.opened_until:
        statement = statement.where(col(IncidentRecord.opened_at) < wanted.opened_until)
    if wanted.text:
        # The title only (the channel is made of it). SQLite's LIKE ignores ASCII case by
        # itself; its ILIKE is lower() on both sides, twice the work on a scan of 100k rows.
        pattern = "%" + _escape_like(wanted.text) + "%"
        title = col(IncidentRecord.title)
        sqlite = session.get_bind().dialect.name == "sqlite"
        statement = statement.where(
            title.like(pattern, escape="\\") if sqlite else title.ilike(pattern, escape="\\")
        )
    if wanted.before:
        statement = statement.where(col(IncidentRecord.id) < wanted.before)
    rows = list(session.exec(statement).all())
    page = rows[:LIST_PAGE_SIZE]
    more = len(rows) > LIST_PAGE_SIZE
    return page, (page[-1].id if more and page else None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
