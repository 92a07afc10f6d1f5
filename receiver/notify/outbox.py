"""Queueing messages for people: the notification outbox, written inside the change's
transaction and delivered later by the notification dispatcher.

Messages are rendered when queued (what was said is what the incident's record shows, even if
a template changes later). `dedup_key` makes a queue operation idempotent per target: the
same announcement queued twice (a retried transaction, two overlapping schedulers) is stored
once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from receiver.delivery.outbox import PENDING
from receiver.notify.models import NotificationMessage
from receiver.notify.settings import TEAM, NotificationSettings
from response.rendering import TemplateName


@dataclass(frozen=True)
class Addressee:
    """One target to send to, and the audience (with its template) it was chosen for."""

    target: str
    audience: str  # "" when addressed directly (a rotation's own targets)
    template: TemplateName


def audience_targets(
    settings: NotificationSettings, audiences: Iterable[str], team_targets: Iterable[str] = ()
) -> tuple[list[Addressee], list[str]]:
    """Whom `audiences` reach, each target once; and the targets skipped as not configured
    (no URL or SMTP host).

    The `team` audience includes `team_targets` (the rotation's `notify:` list).
    """
    chosen: list[Addressee] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for audience in audiences:
        names = settings.targets_of(audience)
        if audience == TEAM:
            names = [*team_targets, *names]
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            if not settings.target(name).enabled:
                skipped.append(name)
                continue
            chosen.append(Addressee(name, audience, settings.template_of(audience)))
    return chosen, skipped


def enqueue(
    session: Session,
    *,
    target: str,
    topic: str,
    subject: str,
    text: str,
    dedup_key: str,
    now: datetime,
    deadline: timedelta,
    payload: dict[str, Any] | None = None,
    incident_id: int | None = None,
    audience: str = "",
) -> bool:
    """Queue one message for `target`; False when that dedup key was queued there already."""
    existing = session.exec(
        select(NotificationMessage.id)
        .where(NotificationMessage.dedup_key == dedup_key)
        .where(NotificationMessage.target == target)
    ).first()
    if existing is not None:
        return False
    session.add(
        NotificationMessage(
            incident_id=incident_id,
            topic=topic,
            audience=audience,
            target=target,
            dedup_key=dedup_key,
            subject=subject,
            text=text,
            payload=payload or {},
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            deadline_at=now + deadline,
            created_at=now,
            last_error="",
        )
    )
    return True
