"""The scheduler's response job: update reminders, "no progress" escalations, postmortem
milestone reminders.

The pure code (`response.reminders.due_actions`) says what is due for an incident now; this
job does each due action exactly once: a row keyed by (incident, kind, due time) is written
in the same transaction as the action, so a second scheduler, or a second run, finds it and
does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlmodel import Session, and_, col, exists, func, or_, select

from receiver.delivery.outbox import SENT
from receiver.incidents.lookup import locked_incident
from receiver.incidents.models import IncidentRecord, IncidentStatus, add_to_timeline
from receiver.notify.announcements import announce
from receiver.paging.models import OutboxMessage
from receiver.paging.planner import ESCALATE, TRIGGER, queue_escalation
from receiver.postmortems.models import ActionItemRecord, PostmortemRecord
from receiver.response.context import ResponseContext
from receiver.response.facts import (
    UPDATE_REMINDER,
    load_action_items,
    load_action_items_of,
    load_facts,
    load_facts_of,
)
from receiver.response.models import ReminderRecord
from receiver.store.database import Store
from response.facts import IncidentFacts, Role
from response.reminders import DueAction, DueKind, due_actions
from response.rendering import RenderedMessage

log = logging.getLogger(__name__)


def _watched(session: Session, context: ResponseContext, now: datetime) -> list[IncidentRecord]:
    """Open incidents of a severity with reminders or escalations, old enough for one to be
    due, and resolved incidents whose postmortem still has a milestone to meet."""
    targets = context.targets
    severities = {*targets.update_every, *targets.escalate_severities}
    # Nothing is due before the shortest interval has passed since opening: a storm of
    # fresh incidents costs this job nothing.
    soonest = min([*targets.update_every.values(), targets.escalate_without_progress])
    open_ones = session.exec(
        select(IncidentRecord)
        .where(IncidentRecord.status == IncidentStatus.OPEN)
        .where(col(IncidentRecord.severity).in_(severities))
        .where(col(IncidentRecord.opened_at) <= now - soonest)
    ).all()
    return [*open_ones, *unfinished_postmortems(session)]


def unfinished_postmortems(session: Session) -> list[IncidentRecord]:
    """Resolved incidents whose postmortem still has a milestone of response.milestones to
    meet (the reminder job chases them; the overview page lists the overdue ones)."""
    open_action_item = exists().where(
        col(ActionItemRecord.incident_id) == col(PostmortemRecord.incident_id),
        col(ActionItemRecord.status) == "open",
    )
    any_action_item = exists().where(
        col(ActionItemRecord.incident_id) == col(PostmortemRecord.incident_id)
    )
    unassigned_action_item = exists().where(
        col(ActionItemRecord.incident_id) == col(PostmortemRecord.incident_id),
        or_(col(ActionItemRecord.owner).is_(None), col(ActionItemRecord.due_at).is_(None)),
    )
    unfinished = or_(
        col(PostmortemRecord.drafted_at).is_(None),
        col(PostmortemRecord.reviewed_at).is_(None),
        unassigned_action_item,
        and_(PostmortemRecord.exception == "", or_(open_action_item, ~any_action_item)),
    )
    return list(
        session.exec(
            select(IncidentRecord)
            .join(PostmortemRecord, col(IncidentRecord.id) == col(PostmortemRecord.incident_id))
            .where(IncidentRecord.status == IncidentStatus.RESOLVED)
            .where(unfinished)
        ).all()
    )


def run_response_reminders(store: Store, context: ResponseContext, now: datetime) -> int:
    """Do every reminder and escalation due now, once; the number done.

    What is due is worked out in one read for every watched incident (a few queries per 500
    incidents); only an incident with something not yet done takes a write transaction, so
    a quiet round (the usual one) writes nothing.
    """
    with store.read() as session:
        incidents = _watched(session, context, now)
        facts = load_facts_of(session, incidents)
        resolved = [
            i.id for i in incidents if i.status == IncidentStatus.RESOLVED and i.id is not None
        ]
        items = load_action_items_of(session, resolved)
        due = {
            incident_id: actions
            for incident_id, one in facts.items()
            if (actions := due_actions(one, context.targets, now, items.get(incident_id, [])))
        }
        done_before = _recorded(session, list(due))
    todo = [
        incident_id
        for incident_id, actions in due.items()
        if any((incident_id, a.kind.value, a.due_at) not in done_before for a in actions)
    ]
    done = 0
    for incident_id in todo:
        try:
            done += store.write(partial(_remind, incident_id=incident_id, context=context, now=now))
        except Exception:  # one incident's problem must not stop the others' reminders
            log.exception("response reminders failed for incident %s", incident_id)
    return done


def _recorded(session: Session, incident_ids: list[int]) -> set[tuple[int, str, datetime]]:
    """The reminders and escalations already done for these incidents."""
    done: set[tuple[int, str, datetime]] = set()
    for start in range(0, len(incident_ids), 500):
        rows = session.exec(
            select(ReminderRecord.incident_id, ReminderRecord.kind, ReminderRecord.due_at).where(
                col(ReminderRecord.incident_id).in_(incident_ids[start : start + 500])
            )
        ).all()
        done.update((row[0], row[1], row[2]) for row in rows)
    return done


def _remind(session: Session, incident_id: int, context: ResponseContext, now: datetime) -> int:
    incident = locked_incident(session, incident_id)  # a resolve meanwhile is seen here
    facts = load_facts(session, incident)
    items = load_action_items(session, incident_id)
    done = 0
    for action in due_actions(facts, context.targets, now, items):
        already = session.exec(
            select(ReminderRecord.id)
            .where(ReminderRecord.incident_id == incident_id)
            .where(ReminderRecord.kind == action.kind.value)
            .where(ReminderRecord.due_at == action.due_at)
        ).first()
        if already is not None:
            continue
        session.add(
            ReminderRecord(
                incident_id=incident_id, kind=action.kind.value, due_at=action.due_at, at=now
            )
        )
        _act(session, incident, facts, action, context, now)
        done += 1
    return done


def _next_level(session: Session, incident: IncidentRecord) -> int:
    """The chain level after the highest one paged so far (SEV1 pages several at once), or
    already escalated to: an escalation still being delivered is not asked for again."""
    paged = session.exec(
        select(func.max(OutboxMessage.level))
        .where(OutboxMessage.incident_id == incident.id)
        .where(OutboxMessage.action == TRIGGER)
        .where(OutboxMessage.status == SENT)
    ).first()
    escalated = session.exec(
        select(func.max(OutboxMessage.level))
        .where(OutboxMessage.incident_id == incident.id)
        .where(OutboxMessage.action == ESCALATE)
    ).first()
    highest = max((level for level in (paged, escalated) if level is not None), default=None)
    return 0 if highest is None else highest + 1


def _contacts(context: ResponseContext, names: list[str]) -> list[dict[str, str]]:
    """The people a reminder is for, with their e-mail when the rota knows them."""
    people = context.paging.rota.people
    return [
        {"name": name, "email": people[name].email} if name in people else {"name": name}
        for name in dict.fromkeys(names)
    ]


def _act(
    session: Session,
    incident: IncidentRecord,
    facts: IncidentFacts,
    action: DueAction,
    context: ResponseContext,
    now: datetime,
) -> None:
    if action.kind == DueKind.NO_PROGRESS:
        queue_escalation(
            session,
            incident,
            level=_next_level(session, incident),
            context=context.paging,
            now=now,
            reason=action.message,
        )
        return
    if action.kind == DueKind.UPDATE_REMINDER:
        roles = [Role.COMMANDER, Role.COMMUNICATIONS_LEAD]
        people = [h.person for h in (facts.holder(r) for r in roles) if h is not None]
        whom = (
            " and ".join(dict.fromkeys(people)) or "the team (no IC or Communications Lead named)"
        )
        subject = f"[{incident.severity}] Reminder: status update due for incident #{incident.id}"
        text = (
            f"{whom}: {action.message}. Post an update: "
            f"onwatch incident update {incident.id} --status ... --impact ... --action ..."
        )
        kind = UPDATE_REMINDER
    else:
        commander = facts.holder(Role.COMMANDER)
        people = [commander.person] if commander is not None else []
        whom = " and ".join(people) or "the team"
        subject = f"Postmortem reminder for incident #{incident.id}: {incident.title}"
        text = f"{whom}: {action.message}."
        kind = "postmortem_reminder"
    message = RenderedMessage(subject=subject, text=text)
    announced = announce(
        session,
        incident,
        topic=kind,
        render=lambda _templates, _template: message,
        context=context,
        now=now,
        dedup_key=f"{action.kind.value}-{incident.id}-{action.due_at:%Y%m%dT%H%M%S}",
        audiences=["team"],
        recipients=_contacts(context, people),
    )
    add_to_timeline(
        session,
        incident,
        now,
        kind,
        f"reminder to {whom}: {action.message}; {announced.describe()}",
        due_at=action.due_at.isoformat(),
        people=people,
    )
