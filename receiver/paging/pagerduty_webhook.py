"""`POST /api/v1/pagerduty`: PagerDuty's v3 webhooks flowing back into onwatch incidents.

Each request is verified against the subscription secret (X-PagerDuty-Signature: one or
more `v1=<hex HMAC-SHA256 of the body>`, several while a secret is being rotated); an
unsigned or wrongly signed request gets 401 and changes nothing. Events for incidents
onwatch does not know are acknowledged with 200 and ignored, so PagerDuty does not retry
them forever; so is an `onwatch-<id>` key whose id no incident can have (beyond MAX_ID).

Replays: PagerDuty retries a delivery it did not see answered with 2xx (a few times over
some minutes), and a signed body stays valid for whoever holds it. Each applied event's
`event.id` is remembered (`PagerDutyEventRecord`): the same event again is answered 200 and
changes nothing. An event whose `occurred_at` is more than REPLAY_WINDOW (1 hour) from now is
refused (400 naming it), which tolerates PagerDuty's retries and clock skew, and lets the
remembered ids be pruned once they are older than the window.

Who acted: the event's agent is a PagerDuty user (`agent.id`, with a display name in
`agent.summary`). onwatch records the configured person whose `pagerduty_user_id` is that id
(so "Chidi Okafor" acknowledging in PagerDuty acknowledges, and leads, as `chidi`, and
`--by chidi` passes the Incident Commander check). A PagerDuty user who is no configured
person is recorded by id as `pagerduty:<id>`, and the timeline says so ("acknowledged in
PagerDuty by PXXXX (Chidi Okafor, who is not one of the configured people)"). An event
without a user agent (PagerDuty itself, an integration) is recorded by the agent's summary,
or as "PagerDuty".

Text from PagerDuty (agent and assignee names, ids) passes through `storable` like every
request body: a NUL becomes U+FFFD instead of a 500 on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlmodel import Session, col, delete, select

from receiver.incidents.actions import PAGERDUTY, UnknownIncident, acknowledge, resolve
from receiver.incidents.models import IncidentRecord, add_to_timeline
from receiver.instants import instant_range, parse_instant
from receiver.paging.models import OutboxMessage, PagerDutyEventRecord
from receiver.paging.planner import NOTICE, PageKey, parse_page_key
from receiver.services import services
from receiver.web.errors import InputError, error_response
from receiver.web.request_body import MAX_ID, storable
from scheduler.roster import Person

bp = Blueprint("pagerduty", __name__, url_prefix="/api/v1")
HANDLED = {
    "incident.acknowledged",
    "incident.resolved",
    "incident.reassigned",
    "incident.escalated",
}
# How far `occurred_at` may be from now: PagerDuty's retries span minutes, clocks drift.
REPLAY_WINDOW = timedelta(hours=1)
MAX_EVENT_ID_CHARS = 100  # the column; PagerDuty's ids are 26 characters
_MAX_KEY_CHARS = 100  # longer keys are no onwatch key (and `int()` of 5,000 digits raises)
_REPLAY = -1  # what `apply` returns for an event already applied
UNKNOWN_USER = "pagerduty:"  # + the PagerDuty user id: who acted, when no person has that id


@dataclass(frozen=True)
class Actor:
    """Who acted in PagerDuty: `name` as onwatch records them, `described` for the timeline."""

    name: str
    described: str


def actor(agent: Any, people: Mapping[str, Person]) -> Actor:
    """The event's agent as onwatch knows them (see the module's docstring)."""
    if not isinstance(agent, dict):  # null when PagerDuty itself acted (e.g. an auto-resolve)
        return Actor("PagerDuty", "PagerDuty")
    summary = str(agent.get("summary") or "")
    user_id = agent.get("id")
    is_user = agent.get("type") in (None, "user_reference")
    if not is_user or not isinstance(user_id, str) or not user_id.strip():
        return Actor(summary or "PagerDuty", summary or "PagerDuty")
    user_id = user_id.strip()
    for person in people.values():
        if person.pagerduty_user_id.strip() == user_id:
            return Actor(person.name, person.name)
    name = f"{summary}, " if summary and summary != user_id else ""
    return Actor(
        UNKNOWN_USER + user_id, f"{user_id} ({name}who is not one of the configured people)"
    )


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    """True when any `v1=` signature in the header is the body's HMAC under `secret`."""
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = [part.strip() for part in header.split(",") if part.strip()]
    return any(hmac.compare_digest(expected.encode(), sig.encode()) for sig in given)


def _find_incident(
    session: Session, key: PageKey | None, data: dict[str, Any]
) -> IncidentRecord | None:
    # onwatch-<id>, or onwatch-<id>-escalation-<level> for a "no progress" escalation's own
    # PagerDuty incident: acting on either acts on the onwatch incident.
    if key is not None:
        return session.get(IncidentRecord, key.incident_id)
    pagerduty_id = str(data.get("id") or "")
    if not pagerduty_id:
        return None
    incident_id = session.exec(
        select(OutboxMessage.incident_id)
        .where(OutboxMessage.reference == pagerduty_id)
        # A night-load notice is a PagerDuty incident of its own, not the onwatch incident's.
        .where(OutboxMessage.action != NOTICE)
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    ).first()
    return session.get(IncidentRecord, incident_id) if incident_id else None


def _page_key(incident_key: str) -> PageKey | None:
    """The onwatch incident a key names, or None: not ours, or an id no incident can have."""
    if len(incident_key) > _MAX_KEY_CHARS:
        return None
    key = parse_page_key(incident_key)
    return key if key is not None and key.incident_id <= MAX_ID else None


def _event_id(event: dict[str, Any]) -> str:
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= MAX_EVENT_ID_CHARS:
        raise InputError(
            f"event.id: expected PagerDuty's event id, a string of 1 to {MAX_EVENT_ID_CHARS} "
            "characters"
        )
    return event_id


def _occurred_at(event: dict[str, Any], now: datetime) -> datetime:
    """When PagerDuty says the event happened, within REPLAY_WINDOW of now; else InputError."""
    raw = event.get("occurred_at")
    if not isinstance(raw, str):
        raise InputError("event.occurred_at: expected an ISO 8601 date-time with offset")
    window = instant_range(now, REPLAY_WINDOW, described="1 hour")
    try:
        return parse_instant(raw, within=window)
    except ValueError as exc:
        raise InputError(f"event.occurred_at: {exc}") from None


def _remember(
    session: Session, event_id: str, event_type: str, occurred_at: datetime, now: datetime
) -> bool:
    """Remember the event as applied in this transaction; False when it already was.

    Ids older than the window are pruned first: a replay of one is refused by its age. Two
    deliveries racing on one id both insert; the loser's unique violation makes the store
    retry its transaction, which then finds the id and answers it as a replay.
    """
    seen = session.exec(
        select(PagerDutyEventRecord.id).where(PagerDutyEventRecord.event_id == event_id)
    ).first()
    if seen is not None:
        return False
    session.execute(
        delete(PagerDutyEventRecord).where(
            col(PagerDutyEventRecord.occurred_at) < now - REPLAY_WINDOW
        )
    )
    session.add(
        PagerDutyEventRecord(
            event_id=event_id, event_type=event_type, occurred_at=occurred_at, received_at=now
        )
    )
    session.flush()
    return True


def _names(items: Any) -> str:
    if not isinstance(items, list):
        return "someone"
    return ", ".join(str(i.get("summary", "?")) for i in items if isinstance(i, dict)) or "nobody"


@bp.post("/pagerduty")
def pagerduty() -> tuple[Response, int]:
    """Apply one PagerDuty webhook event to the matching onwatch incident."""
    svc = services()
    secret = svc.settings.pagerduty_webhook.secret
    body = request.get_data(cache=False)
    header = request.headers.get("X-PagerDuty-Signature", "")
    if secret is None or not signature_valid(body, header, secret.get_secret_value()):
        return error_response(401, "missing or wrong X-PagerDuty-Signature")
    try:
        event = storable(json.loads(body)["event"])  # NUL and lone surrogates replaced
        event_type, data = str(event["event_type"]), event["data"]
        if not isinstance(data, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InputError(
            'not a PagerDuty v3 webhook: expected {"event": {"id", "event_type", "occurred_at", '
            '"data"}}'
        ) from None
    if event_type not in HANDLED:
        return jsonify(ignored=f"event type {event_type} is not used by onwatch"), 200
    now = svc.clock()
    event_id, occurred_at = _event_id(event), _occurred_at(event, now)
    who = actor(event.get("agent"), svc.rota.people)
    incident_key = str(data.get("incident_key") or "")
    key = _page_key(incident_key)

    def apply(session: Session) -> int | None:
        if not _remember(session, event_id, event_type, occurred_at, now):
            return _REPLAY
        incident = _find_incident(session, key, data)
        if incident is None:
            return None
        assert incident.id is not None
        if event_type == "incident.resolved" and key is not None and key.escalation:
            # Closing one escalation's page says nothing about the outage itself.
            add_to_timeline(
                session,
                incident,
                now,
                "pagerduty_escalation_resolved",
                f"the escalation page {incident_key} was resolved in PagerDuty by "
                f"{who.described}; the incident stays open",
                pagerduty_incident=data.get("id"),
                dedup_key=incident_key,
            )
        elif event_type == "incident.acknowledged":
            acknowledge(
                session,
                incident.id,
                by=who.name,
                now=now,
                context=svc.paging,
                source=PAGERDUTY,
                described=who.described,
                pager_key=incident_key if key is not None else None,
            )
        elif event_type == "incident.resolved":
            resolve(
                session,
                incident.id,
                by=who.name,
                now=now,
                context=svc.response,
                source=PAGERDUTY,
                described=who.described,
                pager_key=incident_key if key is not None else None,
            )
        else:
            verb = "reassigned" if event_type == "incident.reassigned" else "escalated"
            add_to_timeline(
                session,
                incident,
                now,
                f"pagerduty_{verb}",
                f"{verb} in PagerDuty to {_names(data.get('assignees'))} by {who.described}",
                pagerduty_incident=data.get("id"),
            )
        return incident.id

    try:
        incident_id = svc.store.write(apply)
    except UnknownIncident:
        incident_id = None
    if incident_id == _REPLAY:
        return jsonify(ignored=f"event {event_id} was applied already", replay=True), 200
    if incident_id is None:
        return jsonify(ignored="no onwatch incident matches this PagerDuty incident"), 200
    return jsonify(incident_id=incident_id, event_type=event_type), 200
