"""`POST /api/v1/alertmanager`: the URL users put in Alertmanager's `webhook_configs`.

The answer tells Alertmanager what to do next: 2xx only after the change is committed; 503
when the store is unavailable, so that it retries (it retries 5xx, and drops a notification
on any 4xx); 4xx for input that no retry can fix.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from receiver.incidents.alertmanager import PayloadError, parse_payload
from receiver.incidents.ingest import ingest_alert_group
from receiver.services import services
from receiver.store.database import StoreUnavailable
from receiver.web.auth import webhook_authorized
from receiver.web.errors import error_response

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/api/v1")


@bp.post("/alertmanager")
def alertmanager() -> tuple[Response, int]:
    """Take one Alertmanager notification: open, update or resolve its incident."""
    started = time.perf_counter()
    svc = services()
    metrics = svc.metrics

    def reject(reason: str, status: int, message: str) -> tuple[Response, int]:
        metrics.requests_rejected.labels(reason=reason).inc()
        metrics.webhook_latency.observe(time.perf_counter() - started)
        response, code = error_response(status, message)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="onwatch", Basic realm="onwatch"'
        return response, code

    webhook = svc.settings.webhook
    if not webhook_authorized(
        request.headers.get("Authorization"),
        bearer=webhook.bearer_token,
        basic=webhook.basic_auth,
    ):
        return reject("unauthorized", 401, "missing or wrong credentials")
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        limit = svc.settings.server.max_body_bytes
        return reject("too_large", 413, f"body is larger than the limit of {limit} bytes")
    svc.store.yield_to_writer()  # the CPU work starts here: let a write of this process end
    try:
        group = parse_payload(body)
    except PayloadError as exc:
        return reject("invalid_payload", 400, str(exc))
    try:
        result = ingest_alert_group(
            group,
            now=svc.clock(),
            store=svc.store,
            rules=svc.rules,
            paging=svc.paging,
            response=svc.response,
        )
    except StoreUnavailable as exc:
        log.warning("answering 503 to Alertmanager (it will retry): store unavailable: %s", exc)
        return reject("store_unavailable", 503, f"store unavailable, retry later: {exc}")

    for status, count in Counter(alert.status.value for alert in group.alerts).items():
        metrics.alerts_received.labels(status=status).inc(count)
    if result.opened:
        metrics.incidents_opened.labels(severity=result.severity).inc()
    metrics.webhook_latency.observe(time.perf_counter() - started)
    return jsonify(
        incident_id=result.incident_id,
        opened=result.opened,
        resolved=result.resolved,
        severity=result.severity,
        changed=result.changed,
    ), 200
