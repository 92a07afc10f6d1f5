"""The response process over HTTP: roles, status updates, checklist, severity, classification.

`GET /api/v1/incidents/<id>/response` shows where the response stands: each phase's
checklist with who ticked what and when, the phase targets against the actual times, the
roles, the updates, the times against the MTTR target, and the postmortem's milestones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Response, jsonify
from sqlmodel import Session

from receiver.incidents.lookup import UnknownIncident
from receiver.incidents.models import IncidentRecord
from receiver.response.commander import (
    Changed,
    assign_role,
    change_severity,
    classify,
    parse_role,
    tick_item,
)
from receiver.response.facts import load_action_items, load_facts
from receiver.response.updates import parse_status, post_update
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from receiver.web.request_body import ID, json_object, text_field, with_id_converter
from response.checklist import ChecklistView, evaluate
from response.facts import IncidentFacts
from response.milestones import milestones
from response.resolution import resolution_view

bp = with_id_converter(Blueprint("response", __name__, url_prefix="/api/v1/incidents"))
bp.before_request(require_api_token)

T = TypeVar("T")


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


def _seconds(span: Any) -> float | None:
    return span.total_seconds() if span is not None else None


def _write(incident_id: int, work: Callable[[Session], T]) -> T | tuple[Response, int]:
    try:
        return services().store.write(work)
    except UnknownIncident:
        return error_response(404, f"no incident {incident_id}")


def _changed(result: Changed | tuple[Response, int]) -> tuple[Response, int]:
    if isinstance(result, tuple):
        return result
    return jsonify(
        incident_id=result.incident_id, changed=result.changed, message=result.message
    ), 200


def checklist_view(view: ChecklistView) -> dict[str, Any]:
    """The checklist as JSON: the current phase, then each phase with its items."""
    return {
        "phase": view.phase,
        "phases": [
            {
                "key": phase.key,
                "label": phase.label,
                "completed_at": _iso(phase.completed_at),
                "target_s": _seconds(phase.target),
                "due_at": _iso(phase.due_at),
                "met": phase.met,
                "items": [
                    {
                        "key": item.key,
                        "label": item.label,
                        "state": item.state.value,
                        "at": _iso(item.at),
                        "by": item.by,
                        "how": item.how,
                        "note": item.note,
                    }
                    for item in phase.items
                ],
            }
            for phase in view.phases
        ],
    }


def response_view(facts: IncidentFacts, action_items: list[Any], now: datetime) -> dict[str, Any]:
    """Everything about the response to one incident, as JSON."""
    targets = services().response.targets
    resolution = resolution_view(facts, targets, now)
    body: dict[str, Any] = {
        "incident_id": facts.id,
        "severity": facts.severity,
        "status": facts.status,
        "roles": {
            r.role.value: {"person": r.person, "assigned_at": _iso(r.at), "by": r.by}
            for r in facts.roles
        },
        **checklist_view(evaluate(facts, targets, now)),
        "resolution": {
            "time_to_acknowledge_s": _seconds(resolution.time_to_acknowledge),
            "time_to_resolve_s": _seconds(resolution.time_to_resolve),
            "elapsed_s": resolution.elapsed.total_seconds(),
            "mttr_target_s": resolution.mttr_target.total_seconds(),
            "mttr_breached": resolution.breached,
        },
        "classification": facts.classification.value if facts.classification else None,
        "classification_note": facts.classification_note,
        "updates": [
            {
                "at": _iso(u.at),
                "by": u.by,
                "status": u.status.value,
                "impact": u.impact,
                "current_action": u.current_action,
                "eta": u.eta,
            }
            for u in facts.updates
        ],
        "postmortem": None,
    }
    if facts.postmortem is not None:
        views = (
            milestones(facts.postmortem, facts.resolved_at, action_items, targets, now)
            if facts.resolved_at
            else ()
        )
        body["postmortem"] = {
            "scheduled_at": _iso(facts.postmortem.scheduled_at),
            "milestones": [
                {
                    "key": m.key,
                    "label": m.label,
                    "due_at": _iso(m.due_at),
                    "met_at": _iso(m.met_at),
                    "state": m.state.value,
                    "note": m.note,
                }
                for m in views
            ],
        }
    return body


@bp.get(f"/<{ID}:incident_id>/response")
def get_response(incident_id: int) -> tuple[Response, int]:
    """Where the response stands: phases, checklist, roles, updates, MTTR, postmortem."""
    svc = services()
    with svc.store.read() as session:
        incident = session.get(IncidentRecord, incident_id)
        if incident is None:
            return error_response(404, f"no incident {incident_id}")
        facts = load_facts(session, incident)
        items = load_action_items(session, incident_id)
    return jsonify(response_view(facts, items, svc.clock())), 200


@bp.post(f"/<{ID}:incident_id>/roles")
def post_role(incident_id: int) -> tuple[Response, int]:
    """Name someone for a role: {"role": "commander", "person": "alice", "by": "bob"}.

    `person` is one of the configured people, unless `"external": true` names someone
    outside the rota (`receiver.response.commander.role_holder`).
    """
    svc = services()
    body = json_object()
    role = parse_role(text_field(body, "role"))
    by = text_field(body, "by")
    person = body.get("person", "")  # checked with the configured people by `assign_role`
    if not isinstance(person, str):
        raise InputError("person: expected a non-empty name")
    external = body.get("external", False)
    if not isinstance(external, bool):
        raise InputError("external: expected true or false")
    now = svc.clock()
    return _changed(
        _write(
            incident_id,
            lambda s: assign_role(
                s,
                incident_id,
                role=role,
                person=person,
                by=by,
                now=now,
                context=svc.response,
                external=external,
            ),
        )
    )


@bp.post(f"/<{ID}:incident_id>/checklist/<item>")
def post_tick(incident_id: int, item: str) -> tuple[Response, int]:
    """Tick a checklist item by hand: {"by": "alice", "note": "bridge: https://..."}."""
    body = json_object()
    by, note_text = text_field(body, "by"), text_field(body, "note", "")
    now = services().clock()
    return _changed(
        _write(
            incident_id,
            lambda s: tick_item(s, incident_id, item=item, by=by, now=now, note_text=note_text),
        )
    )


@bp.post(f"/<{ID}:incident_id>/severity")
def post_severity(incident_id: int) -> tuple[Response, int]:
    """The IC changes the severity: {"severity": "SEV1", "reason": "...", "by": "alice"}."""
    svc = services()
    body = json_object()
    severity, reason, by = (text_field(body, k) for k in ("severity", "reason", "by"))
    now = svc.clock()
    return _changed(
        _write(
            incident_id,
            lambda s: change_severity(
                s,
                incident_id,
                severity=severity,
                by=by,
                reason=reason,
                now=now,
                context=svc.response,
            ),
        )
    )


@bp.post(f"/<{ID}:incident_id>/classification")
def post_classification(incident_id: int) -> tuple[Response, int]:
    """Mark actionable or noise: {"classification": "noise", "note": "...", "by": "alice"}."""
    body = json_object()
    value, by = text_field(body, "classification"), text_field(body, "by")
    note_text = text_field(body, "note", "")
    now = services().clock()
    return _changed(
        _write(
            incident_id,
            lambda s: classify(
                s, incident_id, classification=value, by=by, note_text=note_text, now=now
            ),
        )
    )


@bp.post(f"/<{ID}:incident_id>/updates")
def post_status_update(incident_id: int) -> tuple[Response, int]:
    """Post a status update; it is rendered and queued for the severity's audiences.

    Body: {"by", "status": investigating|identified|monitoring|resolved, "impact",
    "current_action", "eta"}.
    """
    svc = services()
    body = json_object()
    status = parse_status(text_field(body, "status"))
    by, impact = text_field(body, "by"), text_field(body, "impact")
    action, eta = text_field(body, "current_action"), text_field(body, "eta", "")
    now = svc.clock()
    result = _write(
        incident_id,
        lambda s: post_update(
            s,
            incident_id,
            by=by,
            status=status,
            impact=impact,
            current_action=action,
            eta=eta,
            now=now,
            context=svc.response,
        ),
    )
    if isinstance(result, tuple):
        return result
    return jsonify(
        incident_id=result.incident_id,
        update_id=result.update_id,
        queued_for=list(result.targets),
        skipped_not_configured=list(result.skipped),
        resolved=result.resolved,
    ), 201
