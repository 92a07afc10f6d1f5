"""The incident read API: `GET /api/v1/incidents` and `GET /api/v1/incidents/<id>`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlmodel import Session, col, select

from receiver.incidents.actions import ActionResult, UnknownIncident, acknowledge, resolve
from receiver.incidents.models import AlertRecord, IncidentRecord, IncidentStatus, TimelineEntry
from receiver.paging.models import OutboxMessage
from receiver.rota.documents import on_call_view
from receiver.rota.store import active_overrides
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from response.facts import Classification
from rules.severity import SEVERITIES

bp = Blueprint("incidents", __name__, url_prefix="/api/v1/incidents")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_STATUSES = tuple(IncidentStatus)
_CLASSIFICATIONS = tuple(member.value for member in Classification)


bp.before_request(require_api_token)


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise InputError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _positive_int(name: str, default: int | None, maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1 or (maximum is not None and int(raw) > maximum):
        limit = f" up to {maximum}" if maximum else ""
        raise InputError(f"{name}: expected a whole number from 1{limit}, got {raw!r}")
    return int(raw)


def incident_summary(incident: IncidentRecord) -> dict[str, Any]:
    """The list view of an incident."""
    return {
        "id": incident.id,
        "status": incident.status,
        "severity": incident.severity,
        "service": incident.service,
        "title": incident.title,
        "channel": incident.channel,
        "receiver": incident.receiver,
        "group_key": incident.group_key,
        "group_labels": incident.group_labels,
        "truncated_alerts": incident.truncated_alerts,
        "opened_at": incident.opened_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "acknowledged_at": _iso(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_by": incident.resolved_by,  # null when Alertmanager resolved it
        "severity_set_by": incident.severity_set_by,  # null while the rules decide
        "classification": incident.classification,  # actionable | noise | null
    }


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


def _page_view(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "action": message.action,
        "target": message.target,
        "level": message.level,
        "loop": message.loop,
        "status": message.status,
        "attempts": message.attempts,
        "due_at": message.next_attempt_at.isoformat(),
        "sent_at": _iso(message.sent_at),
        "recipient": message.recipient or None,
        "last_error": message.last_error or None,
    }


def _alert_view(alert: AlertRecord) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.alertname,
        "status": alert.status,
        "severity": alert.severity,
        "service": alert.service,
        "rule": alert.rule,
        "matched": alert.matched,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "generator_url": alert.generator_url,
        "starts_at": alert.starts_at.isoformat(),
        "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
        "first_seen_at": alert.first_seen_at.isoformat(),
    }


def _timeline_view(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "message": entry.message,
        "data": entry.data,
    }


@bp.get("")
def list_incidents() -> Response:
    """Newest first; filter by status, severity, service; page with `limit` and `before`."""
    status = _choice("status", _STATUSES)
    severity = _choice("severity", SEVERITIES)
    service = request.args.get("service")
    limit = _positive_int("limit", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    before = _positive_int("before", None)
    assert limit is not None

    statement = select(IncidentRecord).order_by(col(IncidentRecord.id).desc()).limit(limit + 1)
    if status:
        statement = statement.where(IncidentRecord.status == status)
    if severity:
        statement = statement.where(IncidentRecord.severity == severity)
    if service:
        statement = statement.where(IncidentRecord.service == service)
    if before:
        statement = statement.where(col(IncidentRecord.id) < before)
    with services().store.read() as session:
        rows = list(session.exec(statement))

    page, more = rows[:limit], len(rows) > limit
    next_url = None
    if more:
        # The filters carry over, but not as url_for's own keywords (_external, _scheme,
        # _anchor, _method): a query string must not choose the link's form (or fail it).
        args: dict[str, Any] = {
            key: value
            for key, value in request.args.items()
            if key != "before" and not key.startswith("_")
        }
        next_url = url_for(".list_incidents", **args, before=page[-1].id)
    return jsonify(incidents=[incident_summary(row) for row in page], next=next_url)


@bp.get("/<int:incident_id>")
def get_incident(incident_id: int) -> tuple[Response, int]:
    """One incident with its alerts and its whole timeline."""
    with services().store.read() as session:
        incident = session.get(IncidentRecord, incident_id)
        if incident is None:
            return error_response(404, f"no incident {incident_id}")
        alerts = session.exec(
            select(AlertRecord)
            .where(AlertRecord.incident_id == incident_id)
            .order_by(col(AlertRecord.id))
        ).all()
        timeline = session.exec(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(col(TimelineEntry.id))
        ).all()
        pages = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.incident_id == incident_id)
            .order_by(col(OutboxMessage.id))
        ).all()
    body = incident_summary(incident)
    body["on_call"] = _on_call_for(incident.service)
    body["alerts"] = [_alert_view(alert) for alert in alerts]
    body["timeline"] = [_timeline_view(entry) for entry in timeline]
    body["pages"] = [_page_view(message) for message in pages]
    return jsonify(body), 200


def _actor() -> tuple[str, str]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InputError('body: expected a JSON object such as {"by": "alice"}')
    by, note = body.get("by"), body.get("note", "")
    if not isinstance(by, str) or not by.strip():
        raise InputError("by: expected the name of who is acting")
    if not isinstance(note, str):
        raise InputError("note: expected a string")
    return by.strip(), note


def _act(
    incident_id: int, action: Callable[[Session, str, str], ActionResult]
) -> tuple[Response, int]:
    """Run an action on the incident for whoever the body names; answer its outcome."""
    svc = services()
    by, note = _actor()
    try:
        result = svc.store.write(lambda session: action(session, by, note))
    except UnknownIncident:
        return error_response(404, f"no incident {incident_id}")
    tta = result.time_to_acknowledge
    return jsonify(
        incident_id=result.incident_id,
        changed=result.changed,
        status=result.status,
        acknowledged_at=_iso(result.acknowledged_at),
        time_to_acknowledge_s=tta.total_seconds() if tta else None,
    ), 200


@bp.post("/<int:incident_id>/ack")
def ack_incident(incident_id: int) -> tuple[Response, int]:
    """Acknowledge: escalation stops; who and the time to acknowledge are recorded."""
    svc = services()
    return _act(
        incident_id,
        lambda session, by, _note: acknowledge(
            session, incident_id, by=by, now=svc.clock(), context=svc.paging
        ),
    )


@bp.post("/<int:incident_id>/resolve")
def resolve_incident(incident_id: int) -> tuple[Response, int]:
    """Resolve by hand; the pager is told, the all-clear goes out, the postmortem is scheduled.

    Body: {"by", "note", "classification": "actionable" | "noise"} (note and classification
    optional; the note explains the classification when one is given).
    """
    svc = services()
    body = request.get_json(silent=True)
    classification = body.get("classification") if isinstance(body, dict) else None
    if classification is not None and classification not in _CLASSIFICATIONS:
        raise InputError(
            f"classification: expected {' or '.join(_CLASSIFICATIONS)}, got {classification!r}"
        )
    return _act(
        incident_id,
        lambda session, by, note: resolve(
            session,
            incident_id,
            by=by,
            now=svc.clock(),
            context=svc.response,
            note=note,
            classification=classification,
        ),
    )


def _on_call_for(service: str) -> dict[str, Any] | None:
    """Whom the rota says to page for the incident's service now (None: no rotation covers it)."""
    svc = services()
    rotation = svc.rota.rotation_for_service(service)
    if rotation is None:
        return None
    with svc.store.read() as session:
        overrides = active_overrides(session, rotation.name)
    return on_call_view(svc.rota, rotation, svc.clock(), overrides)
