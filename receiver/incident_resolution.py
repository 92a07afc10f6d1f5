"""What follows a resolution, however it came (Alertmanager, a person, PagerDuty): the
times against the severity's MTTR target, the all-clear, and the postmortem's scheduling.

Runs inside the transaction that resolves the incident.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from receiver.announcements import announce, note
from receiver.models import IncidentRecord
from receiver.response_context import ResponseContext
from receiver.response_facts import ALL_CLEAR, load_facts
from receiver.response_models import PostmortemRecord
from response.facts import Postmortem
from response.milestones import milestones
from response.resolution import format_span, resolution_view


def after_resolution(
    session: Session, incident: IncidentRecord, *, now: datetime, context: ResponseContext
) -> None:
    """Record the resolution times, send the all-clear, schedule the postmortem."""
    assert incident.id is not None
    facts = load_facts(session, incident)
    targets = context.targets
    view = resolution_view(facts, targets, now)
    tta = format_span(view.time_to_acknowledge) if view.time_to_acknowledge else "never"
    ttr = format_span(view.time_to_resolve or view.elapsed)
    verdict = "BREACHED" if view.breached else "met"
    note(
        session,
        incident,
        now,
        "resolution_times",
        f"time to acknowledge {tta}, time to resolve {ttr}: {incident.severity}'s MTTR target "
        f"of {format_span(view.mttr_target)} {verdict}",
        time_to_acknowledge_s=(
            view.time_to_acknowledge.total_seconds() if view.time_to_acknowledge else None
        ),
        time_to_resolve_s=(view.time_to_resolve or view.elapsed).total_seconds(),
        mttr_target_s=view.mttr_target.total_seconds(),
        mttr_breached=view.breached,
    )
    announced = announce(
        session,
        incident,
        topic=ALL_CLEAR,
        render=lambda template: context.templates.all_clear(template, facts, now, view.mttr_target),
        context=context,
        now=now,
        dedup_key=f"all-clear-{incident.id}",
    )
    note(session, incident, now, "all_clear", f"all-clear: {announced.describe()}")
    if incident.severity in targets.postmortem_severities:
        schedule(session, incident, by="onwatch", now=now, context=context)


def schedule(
    session: Session, incident: IncidentRecord, *, by: str, now: datetime, context: ResponseContext
) -> bool:
    """Schedule the incident's postmortem (once); its milestones count from the resolution."""
    assert incident.id is not None
    if session.get(PostmortemRecord, incident.id) is not None:
        return False
    record = PostmortemRecord(
        incident_id=incident.id, scheduled_at=now, scheduled_by=by, exception=""
    )
    session.add(record)
    if incident.resolved_at is not None:
        views = milestones(
            Postmortem(scheduled_at=now), incident.resolved_at, (), context.targets, now
        )
        dues = ", ".join(f"{m.label} by {m.due_at:%Y-%m-%d %H:%M} UTC" for m in views)
    else:
        dues = "milestones count from the resolution"
    note(
        session,
        incident,
        now,
        "postmortem_scheduled",
        f"postmortem scheduled by {by}: {dues}",
        by=by,
    )
    return True
