"""Handoffs over HTTP: leave a note for the next shift, see what the next handoff will send."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from receiver.handoffs.briefings import add_note, note_problem, note_view, preview, preview_view
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from receiver.web.request_body import json_object
from scheduler.briefing import next_handoff

bp = Blueprint("handoff", __name__, url_prefix="/api/v1")
bp.before_request(require_api_token)


@bp.post("/rotations/<name>/handoff/notes")
def create_note(name: str) -> tuple[Response, int]:
    """Store a note the next handoff briefing of the rotation carries."""
    svc = services()
    rotation = svc.rota.rotations.get(name)
    if rotation is None:
        return error_response(404, f"no rotation {name!r}")
    body = json_object(example='{"by": "...", "text": "..."}')  # NUL replaced: storable
    by, text = body.get("by"), body.get("text")
    problem = note_problem(by, text)
    if problem is not None:
        raise InputError(problem)
    assert isinstance(by, str) and isinstance(text, str)
    now = svc.clock()
    view = svc.store.write(
        lambda session: note_view(add_note(session, rotation=name, by=by, text=text, now=now))
    )
    return jsonify(note=view, next_handoff=next_handoff(rotation, now).isoformat()), 201


@bp.get("/rotations/<name>/handoff")
def next_briefing(name: str) -> tuple[Response, int]:
    """The briefing each layer's next handoff would send, composed now."""
    svc = services()
    if name not in svc.rota.rotations:
        return error_response(404, f"no rotation {name!r}")
    now = svc.clock()
    with svc.store.read() as session:
        briefings = preview(session, settings=svc.settings, rota=svc.rota, rotation=name, now=now)
    return jsonify(
        rotation=name,
        now=now.isoformat(),
        layers=[preview_view(briefing) for briefing in briefings],
    ), 200
