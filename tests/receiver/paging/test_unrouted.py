"""An incident that no rotation covers: warned, counted and told, once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from sqlmodel import Session, select

from receiver.incidents.models import IncidentRecord, TimelineEntry
from receiver.notify.models import NotificationMessage
from receiver.paging.planner import plan_pages
from receiver.store.database import Store
from tests.support.alertmanager import post_alerts
from tests.support.clock import Clock
from tests.support.rota_config import rota_config

TARGETS = {"targets": [{"name": "ops-hook", "kind": "webhook", "url": "http://127.0.0.1:9/"}]}


def test_unrouted_incident_is_logged_counted_and_announced(
    make_app: Callable[..., Flask],
    store: Store,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(
        **rota_config(), notifications=TARGETS, routing={"unrouted_notify": ["ops-hook"]}
    )
    svc = app.extensions["onwatch"]
    counted: list[str] = []
    context = replace(svc.paging, unrouted_notify=("ops-hook",), on_unrouted=counted.append)
    assert svc.settings.routing.unrouted_notify == ["ops-hook"]

    def open_unrouted(session: Session) -> IncidentRecord:
        incident = IncidentRecord(
            group_key="g", group_identity="g", receiver="r", group_labels={}, external_url="",
            severity_set_by="rules", status="open", severity="SEV2", service="unrouted",
            title="KubeNodeNotReady", channel="#inc", opened_at=clock(), updated_at=clock(),
        )  # fmt: skip
        session.add(incident)
        session.flush()
        return incident

    incident = store.write(open_unrouted)
    caplog.set_level(logging.WARNING, logger="receiver.paging.planner")
    for _ in range(2):  # replanned (a severity change): told once only
        store.write(
            lambda s: plan_pages(
                s, s.get(IncidentRecord, incident.id), context=context, now=clock()
            )
        )

    assert counted == ["SEV2"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"incident_unrouted incident_id={incident.id} service=unrouted severity=SEV2"
    ]
    with Session(store.engine) as session:
        [message] = session.exec(select(NotificationMessage)).all()
        kinds = session.exec(
            select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)
        ).all()
    assert message.target == "ops-hook" and message.topic == "unrouted"
    assert "nobody paged" in message.subject
    assert kinds == ["not_paged", "unrouted_announced", "not_paged"]


NODE_NOT_READY = {
    "receiver": "onwatch",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "KubeNodeNotReady", "severity": "critical"},
            "annotations": {"summary": "node-3 is not ready"},
            "startsAt": "2026-11-28T06:40:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "0123456789abcdef",
        }
    ],
    "groupLabels": {"alertname": "KubeNodeNotReady"},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager",
    "version": "4",
    "groupKey": '{}:{alertname="KubeNodeNotReady"}',
    "truncatedAlerts": 0,
}


@pytest.mark.parametrize("told", [True, False])
def test_an_unrouted_alert_through_the_webhook_is_warned_counted_and_told(
    make_app: Callable[..., Flask], store: Store, caplog: pytest.LogCaptureFixture, told: bool
) -> None:
    routing = {"unrouted_notify": ["ops-hook"]} if told else {}
    app = make_app(notifications=TARGETS, routing=routing)
    client = app.test_client()
    caplog.set_level(logging.WARNING, logger="receiver.paging.planner")

    assert post_alerts(client, NODE_NOT_READY).status_code == 200
    assert post_alerts(client, NODE_NOT_READY).status_code == 200  # a re-send: said once

    warnings = [r.getMessage() for r in caplog.records if r.name == "receiver.paging.planner"]
    assert warnings == ["incident_unrouted incident_id=1 service=unrouted severity=SEV2"]
    metrics = app.extensions["onwatch"].metrics.registry
    count = metrics.get_sample_value("onwatch_incidents_unrouted_total", {"severity": "SEV2"})
    assert count == 1
    with store.read() as session:
        kinds = [e.kind for e in session.exec(select(TimelineEntry)).all()]
        notices = session.exec(select(NotificationMessage)).all()
    assert kinds.count("not_paged") == 1
    assert [n.target for n in notices] == (["ops-hook"] if told else [])
    assert ("unrouted_announced" in kinds) is told
