"""Escalation paths over HTTP: whom onwatch would page now, and after each timeout.

`GET /api/v1/rotations/<name>/escalation[?severity=SEV2]`. Contacts carry no secrets: a
person's PagerDuty user id shows only as whether one is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from receiver.paging.escalation import paths_now, severities_asked
from receiver.paging.planner import PagingContext
from receiver.rota.documents import person_view
from receiver.rota.store import active_overrides
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import InputError, error_response
from response.resolution import format_span
from scheduler.escalation_paths import EscalationPath
from scheduler.rota import Rota

bp = Blueprint("escalation", __name__, url_prefix="/api/v1")
bp.before_request(require_api_token)


def contact_view(rota: Rota, name: str | None) -> dict[str, Any] | None:
    """How to reach a person: the rota's view, saying only whether PagerDuty knows them."""
    view = person_view(rota, name)
    if view is not None:
        view["has_pagerduty_user_id"] = bool(view.pop("pagerduty_user_id"))
    return view


def path_view(rota: Rota, path: EscalationPath) -> dict[str, Any]:
    """One severity's path as the API shows it."""
    policy = path.policy
    timeout = policy.ack_timeout
    return {
        "severity": path.severity,
        "pages_now": timeout is not None,
        "ack_timeout": format_span(timeout) if timeout is not None else None,
        "ack_timeout_seconds": int(timeout.total_seconds()) if timeout is not None else None,
        "repeat": policy.repeat,
        "all_layers_at_once": policy.all_at_once,
        "steps": [
            {
                "after": format_span(step.after),
                "after_seconds": int(step.after.total_seconds()),
                "at": step.at.isoformat(),
                "level": step.level,
                "loop": step.loop,
                "target": step.target,
                "via": step.via,
                "person": contact_view(rota, step.person),
            }
            for step in path.steps
        ],
        "queued": None
        if path.queued is None
        else {
            "until": path.queued.until.isoformat(),
            "time_zone": path.queued.zone.key,
            "target": path.queued.target,
            "person": contact_view(rota, path.queued.person),
        },
    }


def escalation_view(
    paging: PagingContext, rotation: str, paths: Sequence[EscalationPath], now: datetime
) -> dict[str, Any]:
    """A rotation's escalation paths, with its pager and escalation target."""
    rota = paging.rota
    rot = rota.rotation(rotation)
    return {
        "rotation": rotation,
        "time_zone": rot.zone.key,
        "at": now.isoformat(),
        "pager": paging.policy(rotation).pager,
        "layers": [layer.name for layer in rot.layers],
        "escalation_target": {
            "person": contact_view(rota, rot.escalation.person),
            "rotation": rot.escalation.rotation,
        },
        "severities": [path_view(rota, path) for path in paths],
    }


@bp.get("/rotations/<name>/escalation")
def escalation(name: str) -> tuple[Response, int]:
    """Whom each severity (or `?severity=`) would page now and after each timeout."""
    svc = services()
    if name not in svc.rota.rotations:
        return error_response(404, f"no rotation {name!r}")
    try:
        severities = severities_asked(request.args.get("severity"))
    except ValueError as exc:
        raise InputError(f"severity: {exc}") from None
    now = svc.clock()
    with svc.store.read() as session:
        overrides = active_overrides(session)  # the escalation rotation's, too
    paths = paths_now(svc.paging, name, severities, now, overrides)
    return jsonify(escalation_view(svc.paging, name, paths, now)), 200
