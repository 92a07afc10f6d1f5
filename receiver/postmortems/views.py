"""Postmortems over HTTP: the Markdown draft, scheduling, milestones, action items."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from receiver.incidents.lookup import UnknownIncident
from receiver.incidents.models import IncidentRecord
from receiver.instants import instant_range
from receiver.postmortems.models import ActionItemRecord
from receiver.postmortems.service import (
    UnknownActionItem,
    add_action_item,
    assign_action_item,
    close_action_item,
    list_action_items,
    postmortem_draft,
    record_milestone,
    schedule_by_hand,
)
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from receiver.web.request_body import (
    ID,
    json_object,
    optional_instant,
    optional_text,
    query_text,
    text_field,
    with_id_converter,
)

bp = with_id_converter(Blueprint("postmortems", __name__, url_prefix="/api/v1"))
bp.before_request(require_api_token)


def action_item_view(item: ActionItemRecord) -> dict[str, Any]:
    """An action item as JSON."""
    return {
        "id": item.id,
        "incident_id": item.incident_id,
        "title": item.title,
        "owner": item.owner,
        "due_at": item.due_at.isoformat() if item.due_at else None,
        "status": item.status,
        "created_at": item.created_at.isoformat(),
        "created_by": item.created_by,
        "closed_at": item.closed_at.isoformat() if item.closed_at else None,
        "closed_by": item.closed_by,
    }


def draft_markdown(incident_id: int) -> str | None:
    """The postmortem draft of the incident, or None if there is no such incident."""
    svc = services()
    with svc.store.read() as session:
        return postmortem_draft(session, incident_id, svc.response.targets, svc.clock())


@bp.get(f"/incidents/<{ID}:incident_id>/postmortem")
def get_postmortem(incident_id: int) -> Response | tuple[Response, int]:
    """The postmortem draft, as Markdown, pre-filled from the incident."""
    text = draft_markdown(incident_id)
    if text is None:
        return error_response(404, f"no incident {incident_id}")
    return Response(text, mimetype="text/markdown", headers={"Cache-Control": "no-store"})


@bp.post(f"/incidents/<{ID}:incident_id>/postmortem")
def post_postmortem(incident_id: int) -> tuple[Response, int]:
    """Schedule a postmortem the severity did not call for: {"by": "alice"}."""
    svc = services()
    by = text_field(json_object(), "by")
    try:
        created = svc.store.write(
            lambda s: schedule_by_hand(s, incident_id, by=by, now=svc.clock(), context=svc.response)
        )
    except UnknownIncident:
        return error_response(404, f"no incident {incident_id}")
    return jsonify(incident_id=incident_id, changed=created), 201 if created else 200


@bp.post(f"/incidents/<{ID}:incident_id>/postmortem/<milestone>")
def post_milestone(incident_id: int, milestone: str) -> tuple[Response, int]:
    """Record a milestone: drafted, reviewed, or exception (with a note saying why)."""
    svc = services()
    body = json_object()
    by, text = text_field(body, "by"), text_field(body, "note", "")
    try:
        changed = svc.store.write(
            lambda s: record_milestone(
                s, incident_id, milestone=milestone, by=by, now=svc.clock(), text=text
            )
        )
    except UnknownIncident:
        return error_response(404, f"no incident {incident_id}")
    return jsonify(incident_id=incident_id, milestone=milestone, changed=changed), 200


@bp.post(f"/incidents/<{ID}:incident_id>/actions")
def post_action_item(incident_id: int) -> tuple[Response, int]:
    """Add an action item: {"title", "by", "owner"?, "due"?: "2026-12-15"}."""
    svc = services()
    body = json_object()
    title, by = text_field(body, "title"), text_field(body, "by")
    owner = optional_text(body, "owner")
    due = optional_instant(body, "due", within=instant_range(svc.clock()))
    try:
        item = svc.store.write(
            lambda s: add_action_item(
                s, incident_id, title=title, by=by, now=svc.clock(), owner=owner, due_at=due
            )
        )
    except UnknownIncident:
        return error_response(404, f"no incident {incident_id}")
    return jsonify(action_item_view(item)), 201


@bp.get(f"/incidents/<{ID}:incident_id>/actions")
def get_incident_action_items(incident_id: int) -> tuple[Response, int]:
    """The incident's action items."""
    svc = services()
    with svc.store.read() as session:
        if session.get(IncidentRecord, incident_id) is None:
            return error_response(404, f"no incident {incident_id}")
        items = list_action_items(session, now=svc.clock(), incident_id=incident_id)
    return jsonify(action_items=[action_item_view(i) for i in items]), 200


@bp.get("/actions")
def get_action_items() -> tuple[Response, int]:
    """All action items; `?overdue=true` for open ones past their due date, `?owner=`."""
    svc = services()
    overdue = request.args.get("overdue", "false").lower()
    if overdue not in ("true", "false", "1", "0"):
        raise InputError(f"overdue: expected true or false, got {overdue!r}")
    owner = query_text("owner") or None
    with svc.store.read() as session:
        items = list_action_items(
            session, now=svc.clock(), overdue=overdue in ("true", "1"), owner=owner
        )
    return jsonify(action_items=[action_item_view(i) for i in items]), 200


@bp.patch(f"/actions/<{ID}:item_id>")
def patch_action_item(item_id: int) -> tuple[Response, int]:
    """Assign an owner and/or a due date: {"by", "owner"?, "due"?}."""
    svc = services()
    body = json_object()
    by, owner, due = (
        text_field(body, "by"),
        optional_text(body, "owner"),
        optional_instant(body, "due", within=instant_range(svc.clock())),
    )
    try:
        item = svc.store.write(
            lambda s: assign_action_item(
                s, item_id, by=by, now=svc.clock(), owner=owner, due_at=due
            )
        )
    except UnknownActionItem:
        return error_response(404, f"no action item {item_id}")
    return jsonify(action_item_view(item)), 200


@bp.post(f"/actions/<{ID}:item_id>/close")
def post_close_action_item(item_id: int) -> tuple[Response, int]:
    """Close an action item: {"by", "note"?}."""
    svc = services()
    body = json_object()
    by, text = text_field(body, "by"), text_field(body, "note", "")
    try:
        changed = svc.store.write(
            lambda s: close_action_item(s, item_id, by=by, now=svc.clock(), text=text)
        )
    except UnknownActionItem:
        return error_response(404, f"no action item {item_id}")
    return jsonify(id=item_id, changed=changed), 200
