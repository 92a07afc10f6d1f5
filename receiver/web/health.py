"""`/healthz` (the process answers), `/readyz` (the store answers) and `/metrics`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from receiver.metrics import exposition
from receiver.services import services
from receiver.store.database import StoreUnavailable
from receiver.web.errors import error_response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process serves requests. Says nothing about the database on purpose,
    so that an orchestrator does not restart receivers during a database outage."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the store answers a query now."""
    try:
        services().store.ping()
    except StoreUnavailable as exc:
        return error_response(503, f"store unavailable: {exc}")
    return jsonify(status="ready"), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus exposition, summed over every worker process."""
    body, content_type = exposition(
        services().metrics, current_app.extensions["onwatch.store_gauges"]
    )
    return Response(body, content_type=content_type)
