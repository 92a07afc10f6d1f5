"""`POST /api/v1/pagerduty`: PagerDuty's v3 webhooks flowing back into onwatch incidents.

Each request is verified against the subscription secret (X-PagerDuty-Signature: one or
more `v1=<hex HMAC-SHA256 of the body>`, several while a secret is being rotated); an
unsigned or wrongly signed request gets 401 and changes nothing. Events for incidents
onwatch does not know are acknowledged with 200 and ignored, so PagerDuty does not retry
them forever.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlmodel import Session, col, select

from receiver.incidents.actions import PAGERDUTY, UnknownIncident, acknowledge, resolve
from receiver.incidents.models import IncidentRecord, add_to_timeline
from receiver.paging.models import OutboxMessage
from receiver.paging.planner import NOTICE, PageKey, parse_page_key
from receiver.services import services
from receiver.web.errors import InputError, error_response

bp = Blueprint("pagerduty", __name__, url_prefix="/api/v1")
HANDLED = {
    "incident.acknowledged",
    "incident.resolved",
    "incident.reassigned",
    "incident.escalated",
}


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
        event = json.loads(body)["event"]
        event_type, data = str(event["event_type"]), event["data"]
        if not isinstance(data, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise InputError(
            'not a PagerDuty v3 webhook: expected {"event": {"event_type", "data"}}'
        ) from None
    if event_type not in HANDLED:
        return jsonify(ignored=f"event type {event_type} is not used by onwatch"), 200
    agent = event.get("agent")  # null when PagerDuty itself acted (e.g. an auto-resolve)
    by = str(agent.get("summary") or "PagerDuty") if isinstance(agent, dict) else "PagerDuty"
    now = svc.clock()
    incident_key = str(data.get("incident_key") or "")
    key = parse_page_key(incident_key)

    def apply(session: Session) -> int | None:
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
                f"{by}; the incident stays open",
                pagerduty_incident=data.get("id"),
                dedup_key=incident_key,
            )
        elif event_type == "incident.acknowledged":
            acknowledge(session, incident.id, by=by, now=now, context=svc.paging, source=PAGERDUTY)
        elif event_type == "incident.resolved":
            resolve(
                session,
                incident.id,
                by=by,
                now=now,
                context=svc.response,
                source=PAGERDUTY,
            )
        else:
            verb = "reassigned" if event_type == "incident.reassigned" else "escalated"
            add_to_timeline(
                session,
                incident,
                now,
                f"pagerduty_{verb}",
                f"{verb} in PagerDuty to {_names(data.get('assignees'))} by {by}",
                pagerduty_incident=data.get("id"),
            )
        return incident.id

    try:
        incident_id = svc.store.write(apply)
    except UnknownIncident:
        incident_id = None
    if incident_id is None:
        return jsonify(ignored="no onwatch incident matches this PagerDuty incident"), 200
    return jsonify(incident_id=incident_id, event_type=event_type), 200
