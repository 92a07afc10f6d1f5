"""Metrics read back from a fresh registry per test, as prometheus_client's own tests do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from receiver.gauges import OutboxCounts, oldest_overdue_seconds
from receiver.metrics import StoreGaugesCollector
from receiver.notify.models import NotificationMessage
from receiver.store.database import Store
from tests.support.alertmanager import post_alerts, raw_fixture
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import group, make_paging


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


# --------------------------------------------------------------------------------------------
# How late the oldest due message is: an overdue page, not a scheduled escalation


@pytest.fixture
def clock() -> Clock:
    """The gauge reads the wall clock at scrape time: these tests' injected clock starts
    two minutes before it, so a page due "now" for the app is two minutes overdue for it."""
    return Clock(datetime.now(UTC) - timedelta(seconds=120))


def test_oldest_overdue_gauge_counts_due_pages_not_scheduled_escalations(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake)
    before = sample(paging.app, "onwatch_outbox_oldest_overdue_seconds")
    assert before == 0  # nothing pending

    paging.post(group("Unpaged"))  # SEV2: the primary now, then the escalation chain
    overdue = sample(paging.app, "onwatch_outbox_oldest_overdue_seconds")
    assert overdue is not None and 120 <= overdue < 180, overdue
    pending = sample(paging.app, "onwatch_outbox_messages", {"status": "pending"})
    assert pending is not None and pending >= 2

    paging.run()  # the primary is paged; the escalations are pending, not due
    assert sample(paging.app, "onwatch_outbox_messages", {"status": "pending"}) == pending - 1
    assert sample(paging.app, "onwatch_outbox_oldest_overdue_seconds") == 0


def test_oldest_overdue_counts_notifications_too(store: Store, clock: Clock) -> None:
    now = clock.now

    def add(session: Any) -> None:
        for key, due in (("late", now - timedelta(seconds=30)), ("later", now + timedelta(1))):
            session.add(
                NotificationMessage(
                    topic="reminder",
                    audience="",
                    target="chat",
                    dedup_key=key,
                    subject="s",
                    text="t",
                    status="pending",
                    next_attempt_at=due,
                    deadline_at=now + timedelta(hours=1),
                    created_at=now - timedelta(minutes=1),
                    last_error="",
                )
            )

    assert oldest_overdue_seconds(store, now) == 0
    store.write(add)
    assert oldest_overdue_seconds(store, now) == 30


def test_store_gauges_collector_exports_the_overdue_age() -> None:
    counts = OutboxCounts({"pending": 3})
    counts.oldest_overdue_s = 12.5
    registry = CollectorRegistry()
    registry.register(StoreGaugesCollector(dict, lambda: counts))
    assert registry.get_sample_value("onwatch_outbox_oldest_overdue_seconds") == 12.5
    assert registry.get_sample_value("onwatch_outbox_messages", {"status": "pending"}) == 3

    plain = CollectorRegistry()  # counts without an age (older callers): 0, not missing
    plain.register(StoreGaugesCollector(dict, lambda: {"pending": 1}))
    assert plain.get_sample_value("onwatch_outbox_oldest_overdue_seconds") == 0
