"""The rota over HTTP: who is on call, a rotation's shifts, and its overrides.

Every instant a request names lies within `receiver.instants.INSTANT_YEARS` years of now
(a 400 naming the range otherwise): the rota generates and keeps every shift up to the latest
instant it is asked about, so `?at=3000-01-01` once cost half a minute and 300 MB, and an
instant near year 9999 overflowed (a 500).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from receiver.instants import instant_range
from receiver.rota.documents import on_call_view, shift_view, violation_view
from receiver.rota.models import OverrideRecord
from receiver.rota.overrides import MAX_WINDOW, Cover, override_cover, store_covers, swap_covers
from receiver.rota.store import active_overrides
from receiver.rota.swaps import (
    DEFAULT_DAYS,
    SwapQuestionError,
    find_swaps,
    swap_search_view,
)
from receiver.services import services
from receiver.web.auth import require_api_token
from receiver.web.errors import Conflict, InputError, error_response
from receiver.web.request_body import (
    ID,
    instant_field,
    json_object,
    query_instant,
    text_field,
    with_id_converter,
)
from scheduler.roster import Rotation
from scheduler.rota import Rota

bp = with_id_converter(Blueprint("rota", __name__, url_prefix="/api/v1"))
bp.before_request(require_api_token)


def _rotation(rota: Rota, name: str) -> Rotation | None:
    return rota.rotations.get(name)


@bp.get("/oncall")
def oncall() -> Response:
    """Who is on call now (or `?at=`) for every rotation."""
    svc = services()
    now = svc.clock()
    at = query_instant("at", now, within=instant_range(now))
    with svc.store.read() as session:
        overrides = active_overrides(session)
    rotations = [
        on_call_view(svc.rota, rotation, at, overrides) for rotation in svc.rota.rotations.values()
    ]
    return jsonify(at=at.isoformat(), rotations=rotations)


@bp.get("/rotations/<name>/shifts")
def shifts(name: str) -> tuple[Response, int]:
    """A rotation's final shifts (overrides applied) between `from` and `to`."""
    svc = services()
    rotation = _rotation(svc.rota, name)
    if rotation is None:
        return error_response(404, f"no rotation {name!r}")
    now = svc.clock()
    allowed = instant_range(now)
    start = query_instant("from", now, within=allowed)
    end = query_instant("to", start + timedelta(days=28), within=allowed)
    if not start < end <= start + MAX_WINDOW:
        raise InputError(f"to: must be after from and at most {MAX_WINDOW.days} days later")
    with svc.store.read() as session:
        overrides = active_overrides(session, name)
    found = svc.rota.rotation_shifts(name, start, end, overrides)
    return jsonify(
        rotation=name,
        start=start.isoformat(),
        end=end.isoformat(),
        shifts=[shift_view(svc.rota, shift) for shift in found],
    ), 200


def _override_view(record: OverrideRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "rotation": record.rotation,
        "layer": record.layer,
        "person": record.person,
        "start": record.start_at.isoformat(),
        "end": record.end_at.isoformat(),
        "forced": record.forced,
        "reason": record.reason,
        "requested_by": record.requested_by,
        "created_at": record.created_at.isoformat(),
        "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
    }


@bp.get("/rotations/<name>/overrides")
def list_overrides(name: str) -> tuple[Response, int]:
    """The rotation's overrides that are in force."""
    svc = services()
    if _rotation(svc.rota, name) is None:
        return error_response(404, f"no rotation {name!r}")
    with svc.store.read() as session:
        ids = [override.id for override in active_overrides(session, name)]
        records = [session.get(OverrideRecord, i) for i in ids]
    return jsonify(overrides=[_override_view(r) for r in records if r is not None]), 200


def _options(body: dict[str, Any]) -> tuple[bool, str, str]:
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise InputError("force: expected true or false")
    return force, text_field(body, "reason", ""), text_field(body, "requested_by", "")


def _store_covers(rotation: str, covers: list[Cover], body: dict[str, Any]) -> tuple[Response, int]:
    """Store overrides together, or none: refused (409) with the reasons unless forced."""
    svc = services()
    force, reason, requested_by = _options(body)
    now = svc.clock()

    def store(session):  # type: ignore[no-untyped-def]
        records, added = store_covers(
            session,
            svc.rota,
            rotation,
            covers,
            force=force,
            reason=reason,
            requested_by=requested_by,
            now=now,
            refusal_hint=' (send "force": true to store it anyway; rota check will flag it)',
        )
        return [_override_view(r) for r in records], [violation_view(v) for v in added]

    views, violations = svc.store.write(store)
    return jsonify(overrides=views, violations=violations), 201


@bp.post("/rotations/<name>/overrides")
def create_override(name: str) -> tuple[Response, int]:
    """Store an override; one that breaks a rota rule is refused (409) unless forced."""
    rota = services().rota
    rotation = _rotation(rota, name)
    if rotation is None:
        return error_response(404, f"no rotation {name!r}")
    body = json_object()
    layer = text_field(body, "layer", rotation.layers[0].name)
    person = text_field(body, "person")
    allowed = instant_range(services().clock())
    start = instant_field(body, "start", within=allowed)
    end = instant_field(body, "end", within=allowed)
    cover = override_cover(rota, name, layer, person, start, end)
    response, status = _store_covers(name, [cover], body)
    payload = response.get_json()
    return jsonify(override=payload["overrides"][0], violations=payload["violations"]), status


@bp.post("/rotations/<name>/swaps")
def create_swap(name: str) -> tuple[Response, int]:
    """Two people exchange shifts: each covers the shift the other had (two overrides)."""
    svc = services()
    rotation = _rotation(svc.rota, name)
    if rotation is None:
        return error_response(404, f"no rotation {name!r}")
    body = json_object()
    allowed = instant_range(svc.clock())
    with svc.store.read() as session:
        overrides = active_overrides(session, name)
    picks = [
        (
            key,
            text_field(body, f"{key}_layer", rotation.layers[0].name),
            instant_field(body, key, within=allowed),
        )
        for key in ("first", "second")
    ]
    covers = swap_covers(svc.rota, name, picks, overrides)
    try:
        return _store_covers(name, covers, body)
    except Conflict as refused:
        # Say what would be allowed instead: the swaps the rules allow for the first shift.
        with svc.store.read() as session:
            everywhere = active_overrides(session)
        first = covers[0]
        search = find_swaps(
            svc.rota, everywhere, rotation=name, layer=first.layer, at=first.start, now=svc.clock()
        )
        refused.details["allowed_swaps"] = swap_search_view(svc.rota, search)
        raise


@bp.get("/rotations/<name>/swaps")
def swap_finder(name: str) -> tuple[Response, int]:
    """The swaps the rota's rules allow for the shift holding `at` (of `layer`), with whom.

    Other shifts of the same layer within `days` (default 28, at most 92) either side are
    tried; each allowed one can be made with POST /rotations/<name>/swaps.
    """
    svc = services()
    if _rotation(svc.rota, name) is None:
        return error_response(404, f"no rotation {name!r}")
    now = svc.clock()
    at = query_instant("at", now, within=instant_range(now))
    days_text = request.args.get("days", str(DEFAULT_DAYS))
    if not (days_text.isascii() and days_text.isdigit() and len(days_text) <= 3):
        raise InputError(f"days: expected a whole number of days, got {days_text[:20]!r}")
    with svc.store.read() as session:
        overrides = active_overrides(session)
    try:
        search = find_swaps(
            svc.rota,
            overrides,
            rotation=name,
            layer=request.args.get("layer"),
            at=at,
            now=now,
            days=int(days_text),
        )
    except SwapQuestionError as exc:
        raise InputError(str(exc)) from None
    return jsonify(swap_search_view(svc.rota, search)), 200


@bp.delete(f"/rotations/<name>/overrides/<{ID}:override_id>")
def delete_override(name: str, override_id: int) -> tuple[Response, int]:
    """Remove an override; the schedule it covered comes back."""
    svc = services()
    now = svc.clock()

    def remove(session):  # type: ignore[no-untyped-def]
        record = session.get(OverrideRecord, override_id)
        if record is None or record.rotation != name or record.deleted_at is not None:
            return None
        record.deleted_at = now
        session.add(record)
        session.flush()
        return _override_view(record)

    view = svc.store.write(remove)
    if view is None:
        return error_response(404, f"no override {override_id} in rotation {name!r}")
    return jsonify(override=view), 200
