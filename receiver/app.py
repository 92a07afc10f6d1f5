"""The Flask application factory: a recipe that wires settings, store, rules and metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Flask
from prometheus_client import CollectorRegistry

from receiver.composition import build_contexts
from receiver.config.settings import Settings
from receiver.gauges import count_open_incidents, count_outbox
from receiver.handoffs import views as handoff_views
from receiver.incidents import views as incident_views
from receiver.incidents import webhook as alertmanager_webhook
from receiver.metrics import Metrics, StoreGaugesCollector
from receiver.pages import views as pages
from receiver.paging import pagerduty_webhook
from receiver.paging import views as escalation_views
from receiver.postmortems import views as postmortem_views
from receiver.report import views as report_views
from receiver.response import views as response_views
from receiver.rota import calendar
from receiver.rota import views as rota_views
from receiver.services import Services, utc_now
from receiver.slack import views as slack_views
from receiver.store.database import Store
from receiver.web import auth, errors, health


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Flask:
    """Build the receiver application for `settings`; nothing happens at import time."""
    # No static route: Flask's default serves ./static/ from the working directory to anyone.
    app = Flask("onwatch", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order

    store = store or Store(settings.database)
    metrics = Metrics(registry or CollectorRegistry())
    store_gauges = StoreGaugesCollector(
        lambda: count_open_incidents(store), lambda: count_outbox(store)
    )
    metrics.registry.register(store_gauges)
    store.on_group_commit(metrics.write_batch_size.observe)
    contexts = build_contexts(
        settings, lambda severity: metrics.incidents_unrouted.labels(severity=severity).inc()
    )
    app.extensions["onwatch"] = Services(
        settings=settings,
        store=store,
        rules=settings.rule_set(),
        metrics=metrics,
        rota=contexts.rota,
        paging=contexts.paging,
        response=contexts.response,
        clock=clock,
    )
    app.extensions["onwatch.store_gauges"] = store_gauges

    auth.init_app(app)  # first: a caller who may not call gets 401/403, not a 413
    errors.init_app(app)
    app.register_blueprint(alertmanager_webhook.bp)
    app.register_blueprint(incident_views.bp)
    app.register_blueprint(response_views.bp)
    app.register_blueprint(postmortem_views.bp)
    app.register_blueprint(rota_views.bp)
    app.register_blueprint(handoff_views.bp)
    app.register_blueprint(escalation_views.bp)
    app.register_blueprint(report_views.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(pagerduty_webhook.bp)
    app.register_blueprint(health.bp)
    slack_views.init_app(app)
    pages.init_app(app)  # the pages for people: their own sign-in, sessions and CSRF
    return app
