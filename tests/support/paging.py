"""The paging harness: the app, a dispatcher and the fake PagerDuty wired as the scheduler
wires them, with the configurations and helpers the paging, response and job tests share.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import col, select

from receiver.incidents.models import TimelineEntry
from receiver.paging.dispatcher import Dispatcher
from receiver.paging.models import OutboxMessage, PageRecord
from receiver.paging.pagers import build_pager
from receiver.store.database import Store
from tests.support.alertmanager import fixture_json, post_alerts
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty, LoggedRequest
from tests.support.rota_config import rota_config

ROUTING_KEY = "R" * 32
WEBHOOK_SECRET = "pd-webhook-secret"


def paging_config(fake: FakePagerDuty, **paging: Any) -> dict[str, Any]:
    """The shared rota (ops: primary/secondary/escalation f), paging through the fake."""
    config = rota_config()
    config["rotations"][0]["paging"] = {
        "pager": "pagerduty-events",
        "pagerduty": {"routing_key": ROUTING_KEY, "events_url": fake.url},
        **paging,
    }
    config["pagerduty_webhook"] = {"secret": WEBHOOK_SECRET}
    return config


def rest_paging_config(fake: FakePagerDuty, **paging: Any) -> dict[str, Any]:
    """`paging_config` with the REST pager: d, b and f are the fake's three PagerDuty users."""
    config = paging_config(fake, **paging)
    config["rotations"][0]["paging"] = {
        "pager": "pagerduty-rest",
        "pagerduty": {
            "api_token": fake.api_token,
            "from_email": "onwatch@example.com",
            "service_id": fake.service_id,
            "api_url": fake.url,
        },
        **paging,
    }
    users = {"d": "PALICE1", "b": "PBOB001", "f": "PCHIDI1"}
    for person in config["people"]:
        person["pagerduty_user_id"] = users.get(person["name"], "PNOBODY")
    return config


def group(
    name: str = "HighErrorRate",
    *,
    severity: str = "critical",
    service: str = "checkout",
    status: str = "firing",
    fingerprint: str | None = None,
    **labels: str,
) -> dict[str, Any]:
    """A real Alertmanager capture (firing_single.json) made into the group `name`."""
    payload = copy.deepcopy(fixture_json("firing_single.json"))
    alert = payload["alerts"][0]
    alert["labels"] = {**alert["labels"], "alertname": name, "severity": severity}
    alert["labels"].update(service=service, **labels)
    alert["fingerprint"] = fingerprint or hashlib.sha256(name.encode()).hexdigest()[:16]
    alert["status"] = payload["status"] = status
    payload["groupKey"] = f'{{}}:{{alertname="{name}", service="{service}"}}'
    payload["groupLabels"] = {"alertname": name, "service": service}
    payload["commonLabels"] = dict(alert["labels"])
    return payload


@dataclass
class Paging:
    """The receiver app, the dispatcher that delivers its outbox, and the fake PagerDuty."""

    app: Flask
    client: FlaskClient
    dispatcher: Dispatcher
    fake: FakePagerDuty
    store: Store
    clock: Clock
    outcomes: list[tuple[str, str]]

    def post(self, payload: dict[str, Any] | bytes) -> int:
        """POST a notification; the incident id."""
        response = post_alerts(self.client, payload)
        assert response.status_code == 200, response.get_json()
        return int(response.get_json()["incident_id"])

    def run(self) -> int:
        """One dispatcher round at the clock's time."""
        return self.dispatcher.run_once()

    def triggers(self, key: str | None = None) -> list[LoggedRequest]:
        """Trigger events the fake PagerDuty received (for one dedup key if given)."""
        return [
            r
            for r in events(self.fake)
            if r.body.get("event_action") == "trigger"
            and (key is None or r.body.get("dedup_key") == key)
        ]

    def paged(self, key: str | None = None) -> list[str]:
        """Whom each accepted trigger named as on call, in order."""
        return [
            r.body["payload"]["custom_details"]["on_call"]["name"]
            for r in self.triggers(key)
            if r.status == 202
        ]

    def incident(self, incident_id: int) -> dict[str, Any]:
        """The incident as the API shows it."""
        response = self.client.get(f"/api/v1/incidents/{incident_id}")
        assert response.status_code == 200
        return dict(response.get_json())

    def messages(self, incident_id: int) -> list[OutboxMessage]:
        """The incident's outbox rows."""
        with self.store.read() as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.incident_id == incident_id)
                    .order_by(col(OutboxMessage.id))
                )
            )

    def ledger(self) -> list[PageRecord]:
        """Every page in the ledger."""
        with self.store.read() as session:
            return list(session.exec(select(PageRecord).order_by(col(PageRecord.id))))

    def timeline(self, incident_id: int, kind: str | None = None) -> list[TimelineEntry]:
        """The incident's timeline entries (of one kind if given)."""
        with self.store.read() as session:
            statement = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
            if kind:
                statement = statement.where(TimelineEntry.kind == kind)
            return list(session.exec(statement.order_by(col(TimelineEntry.id))))


def events(fake: FakePagerDuty) -> list[LoggedRequest]:
    """Events API requests the fake received."""
    return [r for r in fake.requests if r.path == "/v2/enqueue" and isinstance(r.body, dict)]


def make_paging(
    make_app: Callable[..., Flask],
    store: Store,
    clock: Clock,
    fake: FakePagerDuty,
    config: dict[str, Any] | None = None,
) -> Paging:
    """The app built from `config` and a dispatcher built the way the scheduler builds it."""
    app = make_app(**(config or paging_config(fake)))
    svc = app.extensions["onwatch"]
    outcomes: list[tuple[str, str]] = []

    def on_outcome(rotation: str, outcome: str) -> None:
        outcomes.append((rotation, outcome))
        svc.metrics.pages.labels(rotation=rotation, outcome=outcome).inc()

    pagers = {r.name: build_pager(r.paging, timeout=5) for r in svc.settings.rotations}
    dispatcher = Dispatcher(
        store=store, context=svc.paging, pagers=pagers, clock=clock, on_outcome=on_outcome
    )
    return Paging(app, app.test_client(), dispatcher, fake, store, clock, outcomes)


def sign(body: bytes, *secrets: str) -> str:
    """An X-PagerDuty-Signature header: one `v1=` HMAC-SHA256 per secret."""
    return ",".join(
        "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() for secret in secrets
    )


def metric(client: FlaskClient, outcome: str) -> float:
    """`onwatch_pager_messages_total{rotation="ops",outcome=...}` from /metrics."""
    text = client.get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        if line.startswith("onwatch_pager_messages_total{") and f'outcome="{outcome}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
