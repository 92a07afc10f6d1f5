"""`/healthz` (the process answers), `/readyz` (onwatch can take alerts and page) and
`/metrics`."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify

from receiver.gauges import oldest_overdue_seconds
from receiver.jobs.lease import LEASE_TTL, lease_expires_at
from receiver.metrics import exposition
from receiver.services import services
from receiver.store.database import StoreUnavailable
from receiver.web.errors import error_response

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process serves requests. Says nothing about the database on purpose,
    so that an orchestrator does not restart receivers during a database outage."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the store answers, a scheduler is alive, and it keeps up with the outbox.

    A receiver whose alerts are stored but never paged is not ready: before, a dead
    scheduler left /readyz at 200 while every page waited for ever. 503 (JSON) names each
    failing check:
    - `store unavailable`: the database does not answer (its address stays in the log);
    - `scheduler`: no scheduler has held the lease within its TTL (none runs, or none can
      reach the database);
    - `outbox`: a pending page or notification has been due for more than
      `server.ready_overdue_after_s` (a scheduler holds the lease but does not deliver).
    """
    svc = services()
    now = svc.clock()
    try:
        svc.store.ping()
        expires_at = lease_expires_at(svc.store)
        overdue_s = oldest_overdue_seconds(svc.store, now)
    except StoreUnavailable as exc:
        log.warning("readyz: store unavailable: %s", exc)
        return error_response(503, "store unavailable: the database does not answer")
    problems = []
    if expires_at is None:
        problems.append(
            "scheduler: no scheduler holds the lease, so nothing is paged or notified (is "
            "`onwatch serve` running without --no-scheduler, or `onwatch scheduler`?)"
        )
    elif expires_at <= now - LEASE_TTL:
        stale_s = (now - expires_at + LEASE_TTL).total_seconds()
        problems.append(
            f"scheduler: no scheduler has renewed the lease for {stale_s:.0f} s, so nothing "
            "is paged or notified"
        )
    limit_s = svc.settings.server.ready_overdue_after_s
    if overdue_s > limit_s:
        problems.append(
            f"outbox: a pending message has been due for {overdue_s:.0f} s, more than "
            f"server.ready_overdue_after_s ({limit_s:g} s): the scheduler is not delivering"
        )
    if problems:
        return error_response(503, "; ".join(problems))
    return jsonify(status="ready"), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus exposition, summed over every worker process."""
    body, content_type = exposition(
        services().metrics, current_app.extensions["onwatch.store_gauges"]
    )
    return Response(body, content_type=content_type)
