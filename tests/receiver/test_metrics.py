"""Metrics read back from a fresh registry per test, as prometheus_client's own tests do."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.support.alertmanager import post_alerts, raw_fixture


def sample(app: Flask, name: str, labels: dict[str, str] | None = None) -> float | None:
    return app.extensions["onwatch"].metrics.registry.get_sample_value(name, labels or {})


def test_metrics_count_alerts_incidents_and_latency(client: FlaskClient, app: Flask) -> None:
    post_alerts(client, raw_fixture("group_5.json"))
    post_alerts(client, raw_fixture("group_5_partial_resolved.json"))
    post_alerts(client, raw_fixture("firing_single.json"))
    post_alerts(client, b"{")

    assert sample(app, "onwatch_alerts_received_total", {"status": "firing"}) == 10
    assert sample(app, "onwatch_alerts_received_total", {"status": "resolved"}) == 1
    assert sample(app, "onwatch_incidents_opened_total", {"severity": "SEV3"}) == 1
    assert sample(app, "onwatch_incidents_opened_total", {"severity": "SEV2"}) == 1
    assert sample(app, "onwatch_webhook_request_duration_seconds_count") == 4
    assert (
        sample(app, "onwatch_webhook_requests_rejected_total", {"reason": "invalid_payload"}) == 1
    )


def test_metrics_open_incidents_come_from_store(client: FlaskClient, app: Flask) -> None:
    post_alerts(client, raw_fixture("group_5.json"))
    post_alerts(client, raw_fixture("firing_single.json"))
    post_alerts(client, raw_fixture("resolved_single.json"))

    assert sample(app, "onwatch_incidents_open", {"severity": "SEV3"}) == 1
    assert sample(app, "onwatch_incidents_open", {"severity": "SEV2"}) == 0
    assert sample(app, "onwatch_store_up") == 1


def test_metrics_endpoint_serves_exposition(client: FlaskClient) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'onwatch_alerts_received_total{status="firing"} 1.0' in text
    assert 'onwatch_incidents_open{severity="SEV2"} 1.0' in text
