"""Paging decisions inside the incident's transaction: what goes into the outbox, and when.

Called by the use cases that change an incident (ingest, acknowledge, resolve) with their
session, so that a page to send is committed together with the change that caused it and
a crash between the two loses nothing. The dispatcher delivers what is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select, update

from receiver.models import IncidentRecord, TimelineEntry
from receiver.paging_models import CANCELLED, PENDING, SENT, OutboxMessage
from receiver.paging_settings import PagingSettings
from receiver.rota_store import active_overrides
from scheduler.escalation import escalation_plan, next_business_start
from scheduler.rota import Rota

TRIGGER, ACKNOWLEDGE, RESOLVE, NOTICE = "trigger", "acknowledge", "resolve", "notice"


@dataclass(frozen=True)
class PagingContext:
    """What paging decisions need: the rota, each rotation's policy, the delivery deadline."""

    rota: Rota
    policies: Mapping[str, PagingSettings]
    deadline: timedelta = timedelta(hours=1)

    def policy(self, rotation: str) -> PagingSettings:
        """The rotation's paging policy (defaults when it has no `paging:` section)."""
        return self.policies.get(rotation) or PagingSettings()


def dedup_key(incident_id: int) -> str:
    """The key PagerDuty dedups on: one onwatch incident, one PagerDuty incident."""
    return f"onwatch-{incident_id}"


def _note(
    session: Session, incident: IncidentRecord, now: datetime, kind: str, message: str, **data: Any
) -> None:
    session.add(
        TimelineEntry(incident_id=incident.id, at=now, kind=kind, message=message, data=data)
    )


def _message(
    incident: IncidentRecord,
    rotation: str,
    *,
    action: str,
    target: str,
    due: datetime,
    now: datetime,
    deadline: timedelta,
    level: int = 0,
    loop: int = 0,
    details: dict[str, Any] | None = None,
) -> OutboxMessage:
    assert incident.id is not None
    return OutboxMessage(
        incident_id=incident.id,
        rotation=rotation,
        action=action,
        target=target,
        level=level,
        loop=loop,
        severity=incident.severity,
        status=PENDING,
        next_attempt_at=due,
        deadline_at=due + deadline,
        created_at=now,
        recipient="",
        reference="",
        last_error="",
        details=details or {},
    )


def plan_pages(
    session: Session, incident: IncidentRecord, *, context: PagingContext, now: datetime
) -> None:
    """Queue the escalation chain for an incident that opened or got worse."""
    rotation = context.rota.rotation_for_service(incident.service)
    if rotation is None:
        _note(
            session,
            incident,
            now,
            "not_paged",
            f"no rotation covers service {incident.service}: nobody is paged",
        )
        return
    cancel_escalation(session, incident, now=now, why="replanned")
    policy = context.policy(rotation.name)
    timeout = policy.ack_timeout_for(incident.severity)
    if timeout is None:  # SEV4: nobody is woken; the primary hears on the next business day
        first = rotation.layers[0].name
        overrides = active_overrides(session, rotation.name)  # who really is on call now
        shift = context.rota.on_call(rotation.name, now, overrides).get(first)
        person = context.rota.people.get(shift.person) if shift and shift.person else None
        zone = person.zone if person else rotation.zone
        due = next_business_start(now, zone)
        session.add(
            _message(
                incident,
                rotation.name,
                action=TRIGGER,
                target=first,
                due=due,
                now=now,
                deadline=context.deadline,
            )
        )
        _note(
            session,
            incident,
            now,
            "page_queued",
            f"{incident.severity} pages nobody now: queued for {rotation.name} {first} at "
            f"{due:%a %Y-%m-%d %H:%M %Z} (next business day)",
            due=due.isoformat(),
        )
        return
    steps = escalation_plan(
        rotation,
        ack_timeout=timeout,
        repeat=policy.repeat,
        all_at_once=policy.pages_all_layers_at_once(incident.severity),
    )
    for step in steps:
        session.add(
            _message(
                incident,
                rotation.name,
                action=TRIGGER,
                target=step.target,
                due=now + step.after,
                now=now,
                deadline=context.deadline,
                level=step.level,
                loop=step.loop,
            )
        )
    chain = ", ".join(f"{s.target} at +{int(s.after.total_seconds() // 60)}m" for s in steps)
    _note(
        session,
        incident,
        now,
        "paging_planned",
        f"{incident.severity}: paging {rotation.name} via {policy.pager}: {chain} "
        f"(until acknowledged)",
        rotation=rotation.name,
        pager=policy.pager,
    )


def cancel_escalation(
    session: Session, incident: IncidentRecord, *, now: datetime, why: str
) -> int:
    """Cancel the pages not sent yet (an acknowledgement or resolution stops escalation)."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.incident_id) == incident.id)
        .where(col(OutboxMessage.status) == PENDING)
        .where(col(OutboxMessage.action) == TRIGGER)
        .values(status=CANCELLED, last_error=why)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def follow_up(
    session: Session,
    incident: IncidentRecord,
    action: str,
    *,
    context: PagingContext,
    now: datetime,
) -> None:
    """Tell the pager an incident was acknowledged or resolved, if it was ever paged."""
    paged = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.incident_id == incident.id)
        .where(OutboxMessage.action == TRIGGER)
        .where(OutboxMessage.status == SENT)
        .limit(1)
    ).first()
    if paged is None:
        return
    session.add(
        _message(
            incident,
            paged.rotation,
            action=action,
            target="",
            due=now,
            now=now,
            deadline=context.deadline,
        )
    )
