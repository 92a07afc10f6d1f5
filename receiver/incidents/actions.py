"""People acting on an incident: acknowledge and resolve, from onwatch or from PagerDuty.

Both stop the escalation (pages not sent yet are cancelled) and are recorded in the
timeline. An acknowledgement records who and the time to acknowledge; acting twice changes
nothing. When the action comes from onwatch, the pager is told (through the outbox); when
it comes from PagerDuty, PagerDuty already knows. From PagerDuty, `by` is the configured
person the PagerDuty user is (or `pagerduty:<id>` for a user who is none of them) and
`described` is how the timeline names them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, update

from receiver.incidents.alerts import AlertStatus
from receiver.incidents.lookup import UnknownIncident, locked_incident
from receiver.incidents.models import AlertRecord, IncidentRecord, IncidentStatus, add_to_timeline
from receiver.incidents.resolution import after_resolution
from receiver.logevents import log_after_commit
from receiver.paging.planner import (
    ACKNOWLEDGE,
    RESOLVE,
    PagingContext,
    cancel_escalation,
    dedup_key,
    follow_up,
)
from receiver.response.commander import classify, commander_by_default
from receiver.response.context import ResponseContext
from receiver.slack.outbox import tell
from receiver.slack.text import person
from response.resolution import format_span

__all__ = ["ActionResult", "UnknownIncident", "acknowledge", "resolve"]

ONWATCH, PAGERDUTY = "onwatch", "pagerduty"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionResult:
    """What the action did: False `changed` for a repeated action."""

    incident_id: int
    changed: bool
    status: str
    acknowledged_at: datetime | None
    time_to_acknowledge: timedelta | None


def _result(incident: IncidentRecord, changed: bool) -> ActionResult:
    tta = incident.acknowledged_at - incident.opened_at if incident.acknowledged_at else None
    assert incident.id is not None
    return ActionResult(incident.id, changed, incident.status, incident.acknowledged_at, tta)


def _by(by: str, source: str, described: str | None) -> str:
    """The timeline's "by d", or "in PagerDuty by d" when the action came from PagerDuty."""
    via = "in PagerDuty " if source == PAGERDUTY else ""
    return f"{via}by {described or by}"


def _told_by_pagerduty(incident: IncidentRecord, source: str, pager_key: str | None) -> str | None:
    """The dedup key PagerDuty itself acted on (so not to be told again), if it acted."""
    if source != PAGERDUTY:
        return None
    return pager_key or dedup_key(incident.id or 0)


def acknowledge(
    session: Session,
    incident_id: int,
    *,
    by: str,
    now: datetime,
    context: PagingContext,
    source: str = ONWATCH,
    described: str | None = None,
    pager_key: str | None = None,
) -> ActionResult:
    """Acknowledge: whoever it is has it (and leads, unless an IC is named); escalation stops.

    `described` names `by` in the timeline (default: `by`). `pager_key` is the dedup key
    PagerDuty reported acknowledged (its webhook): every other page is still told.
    """
    incident = locked_incident(session, incident_id)
    if incident.acknowledged_at is not None or incident.status != IncidentStatus.OPEN:
        return _result(incident, changed=False)
    incident.acknowledged_at, incident.acknowledged_by = now, by
    session.add(incident)
    cancelled = cancel_escalation(session, incident, now=now, why=f"acknowledged by {by}")
    tta = now - incident.opened_at
    add_to_timeline(
        session,
        incident,
        now,
        "acknowledged",
        f"acknowledged {_by(by, source, described)} after {format_span(tta)} "
        "(time to acknowledge); "
        f"{cancelled} pending pages cancelled",
        by=by,
        source=source,
        time_to_acknowledge_s=tta.total_seconds(),
    )
    tell(
        session,
        incident.id or 0,
        f":white_check_mark: acknowledged {_by(person(by), source, None)} after "
        f"{format_span(tta)}: escalation stopped",
        key="ack",
        now=now,
        topic=True,
        redraw=True,
    )
    commander_by_default(session, incident, person=by, now=now)
    follow_up(
        session,
        incident,
        ACKNOWLEDGE,
        context=context,
        now=now,
        already_told=_told_by_pagerduty(incident, source, pager_key),
    )
    log_after_commit(
        session,
        log,
        logging.INFO,
        "incident_acknowledged",
        incident_id=incident.id,
        severity=incident.severity,
        by=by,
        source=source,
        tta_s=round(tta.total_seconds()),
    )
    return _result(incident, changed=True)


def resolve(
    session: Session,
    incident_id: int,
    *,
    by: str,
    now: datetime,
    context: ResponseContext,
    source: str = ONWATCH,
    note: str = "",
    classification: str | None = None,
    described: str | None = None,
    pager_key: str | None = None,
) -> ActionResult:
    """Resolve by hand: the incident closes, its alerts with it, and escalation stops.

    What follows a resolution happens too (times against the MTTR target, the all-clear,
    the postmortem); `classification` marks it actionable or noise. `described` names `by`
    in the timeline (default: `by`). `pager_key` is the dedup key PagerDuty reported
    resolved (its webhook): every other page is still told.
    """
    incident = locked_incident(session, incident_id)
    if incident.status != IncidentStatus.OPEN:
        # Already resolved (by Alertmanager, say): the classification is still worth having.
        marked = (
            classification is not None
            and classify(
                session, incident_id, classification=classification, by=by, note_text=note, now=now
            ).changed
        )
        return _result(incident, changed=marked)
    incident.status, incident.resolved_at, incident.updated_at = IncidentStatus.RESOLVED, now, now
    incident.resolved_by = by
    session.add(incident)
    session.execute(
        update(AlertRecord)
        .where(col(AlertRecord.incident_id) == incident.id)
        .where(col(AlertRecord.status) == "firing")
        .values(status=AlertStatus.RESOLVED.value, ends_at=now, updated_at=now)
    )
    cancel_escalation(session, incident, now=now, why=f"resolved by {by}")
    add_to_timeline(
        session,
        incident,
        now,
        "incident_resolved",
        f"resolved {_by(by, source, described)}" + (f": {note}" if note else ""),
        by=by,
        source=source,
        note=note,
    )
    # PagerDuty resolved the alert it paged for; the other pages' alerts still need it.
    follow_up(
        session,
        incident,
        RESOLVE,
        context=context.paging,
        now=now,
        already_told=_told_by_pagerduty(incident, source, pager_key),
    )
    if classification is not None:
        assert incident.id is not None
        classify(
            session, incident.id, classification=classification, by=by, note_text=note, now=now
        )
    after_resolution(session, incident, now=now, context=context)
    log_after_commit(
        session,
        log,
        logging.INFO,
        "incident_resolved",
        incident_id=incident.id,
        severity=incident.severity,
        by=by,
        source=source,
    )
    return _result(incident, changed=True)
