"""The Flask application factory: a recipe that wires settings, store, rules and metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask
from prometheus_client import CollectorRegistry

from receiver import (
    calendar_api,
    errors,
    escalation_api,
    handoff_api,
    health,
    incidents_api,
    pagerduty_webhook,
    postmortem_api,
    report_api,
    response_api,
    rota_api,
    webhooks,
)
from receiver.config import Settings
from receiver.incidents_api import count_open_incidents, count_outbox
from receiver.metrics import Metrics, StoreGaugesCollector
from receiver.services import Services, utc_now
from receiver.store import Store


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Flask:
    """Build the receiver application for `settings`; nothing happens at import time."""
    app = Flask("onwatch")
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order

    store = store or Store(settings.database)
    metrics = Metrics(registry or CollectorRegistry())
    store_gauges = StoreGaugesCollector(
        lambda: count_open_incidents(store), lambda: count_outbox(store)
    )
    metrics.registry.register(store_gauges)
    rota = settings.rota()
    paging = settings.paging_context(rota)
    app.extensions["onwatch"] = Services(
        settings=settings,
        store=store,
        rules=settings.rule_set(),
        metrics=metrics,
        rota=rota,
        paging=paging,
        response=settings.response_context(paging),
        clock=clock,
    )
    app.extensions["onwatch.store_gauges"] = store_gauges

    errors.init_app(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(incidents_api.bp)
    app.register_blueprint(response_api.bp)
    app.register_blueprint(postmortem_api.bp)
    app.register_blueprint(rota_api.bp)
    app.register_blueprint(handoff_api.bp)
    app.register_blueprint(escalation_api.bp)
    app.register_blueprint(report_api.bp)
    app.register_blueprint(calendar_api.bp)
    app.register_blueprint(pagerduty_webhook.bp)
    app.register_blueprint(health.bp)
    return app
