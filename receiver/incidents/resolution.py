"""What follows a resolution, however it came (Alertmanager, a person, PagerDuty): the
times against the severity's MTTR target, the all-clear, and the postmortem's scheduling.

Runs inside the transaction that resolves the incident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, bindparam, insert, select, update
from sqlmodel import Session

from receiver.delivery.outbox import CANCELLED, PENDING
from receiver.incidents.models import IncidentRecord, TimelineEntry
from receiver.notify.announcements import announce
from receiver.notify.models import NotificationMessage
from receiver.postmortems.models import PostmortemRecord
from receiver.response.context import ResponseContext
from receiver.response.facts import (
    ALL_CLEAR,
    STATUS_UPDATE,
    UPDATE_REMINDER,
    incident_facts,
    load_facts,
)
from response.facts import IncidentFacts, Postmortem
from response.milestones import milestones
from response.rendering import RenderedMessage, TemplateName, Templates
from response.resolution import format_span, resolution_view

TIMELINE: Table = TimelineEntry.__table__  # type: ignore[attr-defined]
POSTMORTEMS: Table = PostmortemRecord.__table__  # type: ignore[attr-defined]
NOTIFICATIONS: Table = NotificationMessage.__table__  # type: ignore[attr-defined]

# Core statements built once, run on the session's connection: the ORM's bulk paths (the
# identity-map sync of an UPDATE, the bulk INSERT) cost more than the statements, and no
# object of these rows is in the session. Ingest resolves incidents in bulk.
_INSERT_TIMELINE = insert(TIMELINE)
_SUPERSEDE_UPDATES = (
    update(NOTIFICATIONS)
    .where(NOTIFICATIONS.c.incident_id == bindparam("incident"))
    .where(NOTIFICATIONS.c.status == PENDING)
    .where(NOTIFICATIONS.c.topic.in_([STATUS_UPDATE, UPDATE_REMINDER]))
    .values(status=CANCELLED, last_error="superseded by the all-clear")
)
_POSTMORTEM_OF = select(POSTMORTEMS.c.incident_id).where(
    POSTMORTEMS.c.incident_id == bindparam("incident")
)
_INSERT_POSTMORTEM = insert(POSTMORTEMS)


def after_resolution(
    session: Session, incident: IncidentRecord, *, now: datetime, context: ResponseContext
) -> None:
    """Record the resolution times, schedule the postmortem, send the all-clear.

    Alertmanager resolves incidents in bulk and this runs in ingest's transaction, so the
    rows are written with plain inserts rather than ORM objects, and the incident's other
    facts are read only when there is someone to send the all-clear to.
    """
    assert incident.id is not None
    session.flush()  # what the caller added first keeps its place in the timeline
    targets = context.targets
    view = resolution_view(incident_facts(incident), targets, now)
    tta = format_span(view.time_to_acknowledge) if view.time_to_acknowledge else "never"
    ttr = format_span(view.time_to_resolve or view.elapsed)
    verdict = "BREACHED" if view.breached else "met"
    entries = [
        _entry(
            incident,
            now,
            "resolution_times",
            f"time to acknowledge {tta}, time to resolve {ttr}: {incident.severity}'s MTTR "
            f"target of {format_span(view.mttr_target)} {verdict}",
            time_to_acknowledge_s=(
                view.time_to_acknowledge.total_seconds() if view.time_to_acknowledge else None
            ),
            time_to_resolve_s=(view.time_to_resolve or view.elapsed).total_seconds(),
            mttr_target_s=view.mttr_target.total_seconds(),
            mttr_breached=view.breached,
        )
    ]
    if incident.severity in targets.postmortem_severities:
        entries += _schedule(session, incident, by="onwatch", now=now, context=context)
    # Updates still waiting for delivery are stale now: the all-clear replaces them rather
    # than arriving before them.
    session.connection().execute(_SUPERSEDE_UPDATES, {"incident": incident.id})
    facts: list[IncidentFacts] = []  # read at the first render (with the postmortem in them)

    def render(templates: Templates, template: TemplateName) -> RenderedMessage:
        if not facts:
            facts.append(load_facts(session, incident))
        return templates.all_clear(template, facts[0], now, view.mttr_target)

    announced = announce(
        session,
        incident,
        topic=ALL_CLEAR,
        render=render,
        context=context,
        now=now,
        dedup_key=f"all-clear-{incident.id}",
    )
    entries.append(_entry(incident, now, "all_clear", f"all-clear: {announced.describe()}"))
    session.flush()  # entries the announcement added come first, as they were added first
    session.connection().execute(_INSERT_TIMELINE, entries)


def _entry(
    incident: IncidentRecord, now: datetime, kind: str, message: str, **data: object
) -> dict[str, object]:
    return {"incident_id": incident.id, "at": now, "kind": kind, "message": message, "data": data}


def schedule(
    session: Session, incident: IncidentRecord, *, by: str, now: datetime, context: ResponseContext
) -> bool:
    """Schedule the incident's postmortem (once); its milestones count from the resolution."""
    session.flush()
    entries = _schedule(session, incident, by=by, now=now, context=context)
    if entries:
        session.connection().execute(_INSERT_TIMELINE, entries)
    return bool(entries)


def _schedule(
    session: Session, incident: IncidentRecord, *, by: str, now: datetime, context: ResponseContext
) -> list[dict[str, object]]:
    connection = session.connection()
    if connection.execute(_POSTMORTEM_OF, {"incident": incident.id}).first() is not None:
        return []
    connection.execute(
        _INSERT_POSTMORTEM,
        {"incident_id": incident.id, "scheduled_at": now, "scheduled_by": by, "exception": ""},
    )
    if incident.resolved_at is not None:
        views = milestones(
            Postmortem(scheduled_at=now), incident.resolved_at, (), context.targets, now
        )
        dues = ", ".join(f"{m.label} by {m.due_at:%Y-%m-%d %H:%M} UTC" for m in views)
    else:
        dues = "milestones count from the resolution"
    return [
        _entry(
            incident, now, "postmortem_scheduled", f"postmortem scheduled by {by}: {dues}", by=by
        )
    ]
