"""Paging decisions inside the incident's transaction: what goes into the outbox, and when.

Called by the use cases that change an incident (ingest, acknowledge, resolve) with their
session, so that a page to send is committed together with the change that caused it and
a crash between the two loses nothing. The dispatcher delivers what is written here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select, update

from receiver.delivery.outbox import CANCELLED, PENDING, SENT
from receiver.incidents.models import IncidentRecord, IncidentStatus, TimelineEntry, add_to_timeline
from receiver.logevents import log_event
from receiver.notify.outbox import enqueue
from receiver.paging.models import OutboxMessage
from receiver.paging.routing import ROUTED_PAGER
from receiver.paging.settings import PagingSettings
from receiver.rota.store import active_overrides
from receiver.slack.outbox import tell
from receiver.slack.text import escape
from scheduler.escalation import Step, escalation_plan
from scheduler.escalation_paths import business_day_queue
from scheduler.rota import Rota

log = logging.getLogger(__name__)

TRIGGER, ACKNOWLEDGE, RESOLVE, NOTICE = "trigger", "acknowledge", "resolve", "notice"
# A page to one level of the chain now, acknowledged or not (the response process: an open
# incident with no progress escalates); it has its own dedup key, so that PagerDuty opens an
# incident that notifies its recipient instead of folding it into the acknowledged one.
ESCALATE = "escalate"
PAGES = (TRIGGER, ESCALATE)  # the actions that page a person
# Pagers whose acknowledge and resolve name the incident by dedup key alone and accept one for
# a key they never saw (PagerDuty's Events API answers 202 and discards it): after a trigger
# that may or may not have arrived, telling them is harmless. The REST pager needs the
# PagerDuty incident's id, which only a confirmed trigger gives.
# They also give each page of the chain a dedup key of its own (`page_key`): to PagerDuty's
# Events API a trigger with the key of an open alert is merged into it and notifies nobody, so
# the secondary, the escalation target and every repeat need a new key to be woken.
KEYED_PAGERS = frozenset({"pagerduty-events", "webhook", "dry-run"})


@dataclass(frozen=True)
class PagingContext:
    """What paging decisions need: the rota, each rotation's policy, the delivery deadline."""

    rota: Rota
    policies: Mapping[str, PagingSettings]
    deadline: timedelta = timedelta(hours=1)
    # An incident that pages nobody (no rotation covers its service, no catch-all): the
    # notification targets told (`routing.unrouted_notify`), and what counts it (the metric).
    unrouted_notify: tuple[str, ...] = ()
    on_unrouted: Callable[[str], None] | None = None  # called with the incident's severity

    def policy(self, rotation: str) -> PagingSettings:
        """The rotation's paging policy (defaults when it has no `paging:` section)."""
        return self.policies.get(rotation) or PagingSettings()


def dedup_key(incident_id: int) -> str:
    """The key PagerDuty dedups on: one onwatch incident, one PagerDuty incident."""
    return f"onwatch-{incident_id}"


def page_key(incident_id: int, level: int, loop: int) -> str:
    """The dedup key of one page of the chain (level `level` of round `loop`): the first page
    has the incident's key; every other page a key of its own, so that it is a new alert that
    notifies its person instead of being merged into the open one."""
    if level == 0 and loop == 0:
        return dedup_key(incident_id)
    repeat = f"-repeat-{loop}" if loop else ""
    return f"onwatch-{incident_id}-level-{level}{repeat}"


def escalation_key(incident_id: int, level: int) -> str:
    """The dedup key of an escalation to `level`: a PagerDuty incident of its own."""
    return f"onwatch-{incident_id}-escalation-{level}"


_PAGE_KEY = re.compile(r"onwatch-(\d+)(?:(-escalation-\d+)|-level-\d+(?:-repeat-\d+)?)?")


@dataclass(frozen=True)
class PageKey:
    """The onwatch incident a `dedup_key`, `page_key` or `escalation_key` names."""

    incident_id: int
    escalation: bool  # the key of a "no progress" escalation's own PagerDuty incident


def parse_page_key(key: str) -> PageKey | None:
    """The incident a `dedup_key`, `page_key` or `escalation_key` names; None for any other."""
    match = _PAGE_KEY.fullmatch(key)
    if match is None:
        return None
    return PageKey(int(match.group(1)), escalation=bool(match.group(2)))


def not_paged(service: str | None) -> tuple[str, str]:
    """The timeline entry's kind and text for an incident that no rotation covers."""
    return "not_paged", f"no rotation covers service {service}: nobody is paged"


UNROUTED = "unrouted"  # the notification topic of an incident that pages nobody


def warn_unrouted(context: PagingContext, incident_id: int, service: str, severity: str) -> None:
    """Log an incident that pages nobody as a WARNING and count it (once per incident)."""
    log_event(
        log,
        logging.WARNING,
        "incident_unrouted",
        incident_id=incident_id,
        service=service,
        severity=severity,
    )
    if context.on_unrouted is not None:
        context.on_unrouted(severity)


def unrouted(
    session: Session, incident: IncidentRecord, *, context: PagingContext, now: datetime
) -> None:
    """An incident that pages nobody: say so on its timeline, and the first time, log a
    WARNING, count it (`context.on_unrouted`) and tell `context.unrouted_notify` through the
    notification outbox, in the caller's transaction."""
    assert incident.id is not None
    said = session.exec(
        select(TimelineEntry.id)
        .where(TimelineEntry.incident_id == incident.id)
        .where(TimelineEntry.kind == "not_paged")
    ).first()
    add_to_timeline(session, incident, now, *not_paged(incident.service))
    if said is not None:  # replanned (a severity change): warned, counted and told already
        return
    warn_unrouted(context, incident.id, incident.service, incident.severity)
    subject = f"[{incident.severity}] nobody paged for incident #{incident.id}: {incident.title}"
    text = (
        f"{incident.severity} incident #{incident.id} ({incident.title}) of service "
        f"{incident.service} pages nobody: no rotation covers the service and no rotation is "
        "the catch-all. Page someone by hand, and add the service to a rotation's `services` "
        "(or make one rotation `catch_all: true`)."
    )
    queued = [
        target
        for target in context.unrouted_notify
        if enqueue(
            session,
            target=target,
            topic=UNROUTED,
            subject=subject,
            text=text,
            dedup_key=f"onwatch-{incident.id}-unrouted",
            now=now,
            deadline=context.deadline,
            payload={
                "incident_id": incident.id,
                "severity": incident.severity,
                "service": incident.service,
                "status": incident.status,
                "title": incident.title,
                "channel": incident.channel,
                "recipients": [],
            },
            incident_id=incident.id,
        )
    ]
    if queued:
        add_to_timeline(
            session,
            incident,
            now,
            "unrouted_announced",
            f"nobody is paged: told {', '.join(queued)} (routing.unrouted_notify)",
            targets=queued,
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
        unrouted(session, incident, context=context, now=now)
        return
    cancel_escalation(session, incident, now=now, why="replanned")
    policy = context.policy(rotation.name)
    timeout = policy.ack_timeout_for(incident.severity)
    if timeout is None:  # SEV4: nobody is woken; the primary hears on the next business day
        overrides = active_overrides(session, rotation.name)  # who really is on call now
        first, _zone, due = business_day_queue(context.rota, rotation, now, overrides)
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
        add_to_timeline(
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
    own_keys = policy.pager in KEYED_PAGERS
    for step in steps:
        key = page_key(incident.id or 0, step.level, step.loop)
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
                details={"dedup_key": key} if own_keys else None,
            )
        )
    chain = ", ".join(f"{s.target} at +{int(s.after.total_seconds() // 60)}m" for s in steps)
    add_to_timeline(
        session,
        incident,
        now,
        "paging_planned",
        f"{incident.severity}: paging {rotation.name} via {policy.pager}: {chain} "
        f"(until acknowledged)",
        rotation=rotation.name,
        pager=policy.pager,
    )


def queue_escalation(
    session: Session,
    incident: IncidentRecord,
    *,
    level: int,
    context: PagingContext,
    now: datetime,
    reason: str,
) -> str | None:
    """Page level `level` of the incident's chain now, even if acknowledged; whom, or None.

    Level 0 is whoever the plan pages first. Asking again for a level already escalated to
    writes nothing and answers the same. None (and a timeline entry, once per level) when the
    rotation has no such level or no rotation covers the service. A resolution cancels the
    escalation if it is not sent yet.
    """
    assert incident.id is not None
    queued = session.exec(
        select(OutboxMessage.rotation, OutboxMessage.target)
        .where(OutboxMessage.incident_id == incident.id)
        .where(OutboxMessage.action == ESCALATE)
        .where(OutboxMessage.level == level)
        .order_by(col(OutboxMessage.id))
    ).all()
    if queued:
        return _whom(queued[0][0], [target for _, target in queued])
    rotation = context.rota.rotation_for_service(incident.service)
    steps: list[Step] = []
    if rotation is not None:
        policy = context.policy(rotation.name)
        # SEV4 has no timeout (it pages nobody by itself): its chain is SEV3's. The timeout
        # only spaces the steps; the levels are the same whatever it is.
        timeout = policy.ack_timeout_for(incident.severity) or policy.ack_timeout_for("SEV3")
        plan = escalation_plan(
            rotation,
            ack_timeout=timeout or timedelta(0),
            all_at_once=policy.pages_all_layers_at_once(incident.severity),
        )
        steps = [step for step in plan if step.loop == 0 and step.level == level]
    if rotation is None or not steps:
        _exhausted(session, incident, now, level, reason, rotation.name if rotation else None)
        return None
    for step in steps:
        session.add(
            _message(
                incident,
                rotation.name,
                action=ESCALATE,
                target=step.target,
                due=now,
                now=now,
                deadline=context.deadline,
                level=level,
                details={"dedup_key": escalation_key(incident.id, level), "reason": reason},
            )
        )
    whom = _whom(rotation.name, [step.target for step in steps])
    tell(
        session,
        incident.id,
        f":arrow_double_up: no progress: escalating to {escape(whom)} (level {level}): "
        f"{escape(reason)}",
        key=f"escalate-{level}",
        now=now,
    )
    add_to_timeline(
        session,
        incident,
        now,
        "escalated",
        f"no progress: escalating to {whom} (level {level}): {reason}",
        rotation=rotation.name,
        targets=[step.target for step in steps],
        level=level,
        reason=reason,
    )
    return whom


def _whom(rotation: str, targets: list[str]) -> str:
    return f"{rotation} {', '.join(targets)}"


def _exhausted(
    session: Session,
    incident: IncidentRecord,
    now: datetime,
    level: int,
    reason: str,
    rotation: str | None,
) -> None:
    # Once per level: whoever asks again (a job every minute) must not flood the timeline.
    said = session.exec(
        select(TimelineEntry.data)
        .where(TimelineEntry.incident_id == incident.id)
        .where(TimelineEntry.kind == "escalation_exhausted")
    ).all()
    if any(data.get("level") == level for data in said):
        return
    why = (
        f"{rotation} has no level {level}"
        if rotation
        else f"no rotation covers service {incident.service}"
    )
    add_to_timeline(
        session,
        incident,
        now,
        "escalation_exhausted",
        f"no progress, and nobody left to escalate to ({why}): {reason}",
        rotation=rotation,
        level=level,
        reason=reason,
    )


def cancel_escalation(
    session: Session, incident: IncidentRecord, *, now: datetime, why: str
) -> int:
    """Cancel the pages not sent yet (an acknowledgement or resolution stops escalation).

    An explicit escalation (ESCALATE) pages despite an acknowledgement, so only a resolution
    cancels it: once the incident is no longer open, every pending page stops.
    """
    actions = [TRIGGER] if incident.status == IncidentStatus.OPEN else list(PAGES)
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.incident_id) == incident.id)
        .where(col(OutboxMessage.status) == PENDING)
        .where(col(OutboxMessage.action).in_(actions))
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
    already_told: str | None = None,
) -> None:
    """Tell the pager an incident was acknowledged or resolved, if it was (or may have been) paged.

    Every page that went (or was tried) is told, by its own dedup key and, where the pager
    routes by person (PagerDuty Events), to where that page went. `already_told` is a dedup
    key the pager itself reported the action for (PagerDuty's webhook): the other keys (the
    other pages of the chain, escalations' own incidents) are still told.

    A trigger that was tried but never confirmed (a timeout, a 5xx) may still have opened the
    pager's incident, so it is told too where that is harmless (KEYED_PAGERS); elsewhere the
    timeline says it was not. A resolution also resolves each escalation's own incident.
    Telling twice is avoided: a key already told `action` is not told again.
    """
    assert incident.id is not None
    rows = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.incident_id == incident.id)
        .where(col(OutboxMessage.action).in_([*PAGES, action]))
        .where(
            or_(
                col(OutboxMessage.action) == action,
                col(OutboxMessage.status) == SENT,
                col(OutboxMessage.attempts) > 0,
            )
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    main = dedup_key(incident.id)
    told = {_address(m, main, context) for m in rows if m.action == action}
    pages: dict[_Address, list[OutboxMessage]] = {}  # where -> the pages that went (or tried)
    for message in rows:
        if message.action == TRIGGER or (message.action == ESCALATE and action == RESOLVE):
            pages.setdefault(_address(message, main, context), []).append(message)
    # The REST pager escalates by reassigning the incident a trigger opened, when there is one
    # (it has the incident's id): such an escalation has no incident of its own to tell.
    opened = any(m.reference for (key, _, _), sent in pages.items() if key == main for m in sent)
    for address, sent in pages.items():
        key, person, target = address
        confirmed = [m for m in sent if m.status == SENT]
        first = (confirmed or sent)[0]
        pager = context.policy(first.rotation).pager
        if address in told or key == already_told:
            continue
        if key != main and opened and pager not in KEYED_PAGERS:
            continue
        if not confirmed and pager not in KEYED_PAGERS:
            add_to_timeline(
                session,
                incident,
                now,
                "pager_not_told",
                f"{action} not sent via {pager}: no page to {key} was confirmed, and "
                f"{pager} can only address an incident it confirmed opening",
                action=action,
                dedup_key=key,
            )
            continue
        details = {"dedup_key": key} if key != main else {}
        if person:
            details["person"] = person
        session.add(
            _message(
                incident,
                first.rotation,
                action=action,
                target=target,
                due=now,
                now=now,
                deadline=context.deadline,
                level=first.level if key != main else 0,
                details=details or None,
            )
        )


_Address = tuple[str, str, str]  # (dedup key, person, layer): where a follow-up must go


def _address(message: OutboxMessage, main: str, context: PagingContext) -> _Address:
    """Where a page went, or where its follow-up goes: its dedup key and, for a pager that
    routes by person and layer (PagerDuty Events: the same key under another routing key is
    another alert), the person paged and the layer."""
    key = message.details.get("dedup_key") or main
    if context.policy(message.rotation).pager != ROUTED_PAGER:
        return key, "", ""
    person = message.recipient if message.action in PAGES else message.details.get("person")
    return key, person or "", message.target
