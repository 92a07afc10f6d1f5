"""The incident API: the list, one incident, its alerts and timeline page by page, acknowledge
and resolve.

Every size a request can ask for is bounded: a list page holds at most MAX_PAGE_SIZE
incidents, and an incident's alerts and timeline entries come a page at a time (an incident
of one big Alertmanager group holds tens of thousands of each: 10,000 alerts made its detail
a 5.6 MB, one-second answer), so no single GET grows with the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlmodel import Session, col, func, select

from receiver.incidents.actions import ActionResult, UnknownIncident, acknowledge, resolve
from receiver.incidents.models import AlertRecord, IncidentRecord, IncidentStatus, TimelineEntry
from receiver.paging.models import OutboxMessage
from receiver.paging.planner import dedup_key
from receiver.rota.documents import on_call_view
from receiver.rota.store import active_overrides
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from receiver.web.request_body import (
    ID,
    MAX_ID,
    json_object,
    query_int,
    query_text,
    storable_text,
    with_id_converter,
)
from response.facts import Classification
from rules.severity import SEVERITIES

bp = with_id_converter(Blueprint("incidents", __name__, url_prefix="/api/v1/incidents"))

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# An incident's alerts and timeline: the detail view shows the first page of each,
# `.../alerts` and `.../timeline` the rest. Most incidents fit in the first page whole.
ALERTS_PAGE_SIZE = 100
TIMELINE_PAGE_SIZE = 500
MAX_ITEMS_PAGE_SIZE = 500
_STATUSES = tuple(IncidentStatus)
_CLASSIFICATIONS = tuple(member.value for member in Classification)


bp.before_request(require_api_token)


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in allowed:
        raise InputError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


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
        # The pager's dedup key: each page of the chain has its own (receiver.paging.planner).
        "dedup_key": message.details.get("dedup_key") or dedup_key(message.incident_id),
        "last_error": message.last_error or None,
    }


def _alert_view(alert: AlertRecord) -> dict[str, Any]:
    return {
        "id": alert.id,  # the cursor of `.../alerts?after=`
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
        "id": entry.id,  # the cursor of `.../timeline?after=`
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
    service = query_text("service")
    limit = query_int("limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    before = query_int("before", None, minimum=1, maximum=MAX_ID)
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


@bp.get(f"/<{ID}:incident_id>")
def get_incident(incident_id: int) -> tuple[Response, int]:
    """One incident with the first page of its alerts and of its timeline, and its pages.

    `alerts` holds the first ALERTS_PAGE_SIZE (100) alerts, oldest first; `alerts_count` is
    how many the incident has, and `alerts_next` the URL of the next page
    (`GET /api/v1/incidents/<id>/alerts?after=<last alert id>&limit=100`), null when
    `alerts` is all of them. `timeline`, `timeline_count` and `timeline_next` do the same
    for the timeline with TIMELINE_PAGE_SIZE (500) entries (`.../timeline?after=...`).
    """
    with services().store.read() as session:
        incident = session.get(IncidentRecord, incident_id)
        if incident is None:
            return error_response(404, f"no incident {incident_id}")
        alerts = _page(session, _ALERTS, incident_id, after=0, limit=ALERTS_PAGE_SIZE)
        timeline = _page(session, _TIMELINE, incident_id, after=0, limit=TIMELINE_PAGE_SIZE)
        pages = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.incident_id == incident_id)
            .order_by(col(OutboxMessage.id))
        ).all()
    body = incident_summary(incident)
    body["on_call"] = _on_call_for(incident.service)
    body["alerts"], body["alerts_count"], body["alerts_next"] = alerts
    body["timeline"], body["timeline_count"], body["timeline_next"] = timeline
    body["pages"] = [_page_view(message) for message in pages]
    return jsonify(body), 200


@bp.get(f"/<{ID}:incident_id>/alerts")
def get_incident_alerts(incident_id: int) -> tuple[Response, int]:
    """An incident's alerts, a page at a time, oldest first.

    `?limit=` (1 to 500, default 100) alerts whose `id` is greater than `?after=` (the last
    alert id of the previous page, 0 to 2147483647, default 0). The answer has `alerts`,
    `count` (all the incident's alerts) and `next`, the URL of the following page or null.
    """
    return _listing(_ALERTS, incident_id, ALERTS_PAGE_SIZE)


@bp.get(f"/<{ID}:incident_id>/timeline")
def get_incident_timeline(incident_id: int) -> tuple[Response, int]:
    """An incident's timeline, a page at a time, oldest first.

    `?limit=` (1 to 500, default 500) entries whose `id` is greater than `?after=` (0 to
    2147483647, default 0); the answer has `timeline`, `count` and `next` (URL or null).
    """
    return _listing(_TIMELINE, incident_id, TIMELINE_PAGE_SIZE)


@dataclass(frozen=True)
class _Items:
    """One of an incident's lists that grow with it, served by id a page at a time."""

    key: str  # the list's name in the answer
    model: type[AlertRecord] | type[TimelineEntry]
    view: Callable[[Any], dict[str, Any]]
    endpoint: str


_ALERTS = _Items("alerts", AlertRecord, _alert_view, "incidents.get_incident_alerts")
_TIMELINE = _Items("timeline", TimelineEntry, _timeline_view, "incidents.get_incident_timeline")


def _listing(items: _Items, incident_id: int, default_limit: int) -> tuple[Response, int]:
    """A page of `items` for the query's `limit` and `after` (a 400 naming either's range)."""
    limit = query_int("limit", default_limit, minimum=1, maximum=MAX_ITEMS_PAGE_SIZE)
    after = query_int("after", 0, minimum=0, maximum=MAX_ID)
    assert limit is not None and after is not None
    with services().store.read() as session:
        if session.get(IncidentRecord, incident_id) is None:
            return error_response(404, f"no incident {incident_id}")
        page, count, next_url = _page(session, items, incident_id, after=after, limit=limit)
    return jsonify(
        {"incident_id": incident_id, items.key: page, "count": count, "next": next_url}
    ), 200


def _page(
    session: Session, items: _Items, incident_id: int, *, after: int, limit: int
) -> tuple[list[dict[str, Any]], int, str | None]:
    """Up to `limit` of the incident's `items` after id `after`, their total, the next URL."""
    model: Any = items.model  # either table: both have `id` and `incident_id`
    rows = session.exec(
        select(model)
        .where(model.incident_id == incident_id, col(model.id) > after)
        .order_by(col(model.id))
        .limit(limit + 1)
    ).all()
    count = session.exec(
        select(func.count()).select_from(model).where(model.incident_id == incident_id)
    ).one()
    page = rows[:limit]
    next_url = None
    if len(rows) > limit:
        next_url = url_for(items.endpoint, incident_id=incident_id, after=page[-1].id, limit=limit)
    return [items.view(row) for row in page], count, next_url


def _actor(body: dict[str, Any]) -> tuple[str, str]:
    by, note = body.get("by"), body.get("note", "")
    if not isinstance(by, str) or not by.strip():
        raise InputError("by: expected the name of who is acting")
    if not isinstance(note, str):
        raise InputError("note: expected a string")
    return storable_text(by).strip(), storable_text(note)


def _act(
    incident_id: int, action: Callable[[Session, str, str], ActionResult]
) -> tuple[Response, int]:
    """Run an action on the incident for whoever the body names; answer its outcome."""
    svc = services()
    by, note = _actor(_body())
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


def _body() -> dict[str, Any]:
    """The JSON object of an ack or resolve, its text storable (`json_object`)."""
    return json_object(example='{"by": "alice"}')


@bp.post(f"/<{ID}:incident_id>/ack")
def ack_incident(incident_id: int) -> tuple[Response, int]:
    """Acknowledge: escalation stops; who and the time to acknowledge are recorded."""
    svc = services()
    return _act(
        incident_id,
        lambda session, by, _note: acknowledge(
            session, incident_id, by=by, now=svc.clock(), context=svc.paging
        ),
    )


@bp.post(f"/<{ID}:incident_id>/resolve")
def resolve_incident(incident_id: int) -> tuple[Response, int]:
    """Resolve by hand; the pager is told, the all-clear goes out, the postmortem is scheduled.

    Body: {"by", "note", "classification": "actionable" | "noise"} (note and classification
    optional; the note explains the classification when one is given).
    """
    svc = services()
    classification = _body().get("classification")
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
