"""Bad requests to the webhook get a clear JSON error and change nothing."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CollectorRegistry

from receiver.app import create_app
from receiver.config.settings import Settings
from receiver.store.database import Store
from tests.support.alertmanager import TOKEN, fixture_json, post_alerts, raw_fixture
from tests.support.paths import FIXTURES


def assert_nothing_stored(client: FlaskClient) -> None:
    assert client.get("/api/v1/incidents").get_json()["incidents"] == []


def rejected(app: Flask, reason: str) -> float:
    value = app.extensions["onwatch"].metrics.registry.get_sample_value(
        "onwatch_webhook_requests_rejected_total", {"reason": reason}
    )
    return value or 0.0


def _without(field: str) -> dict[str, Any]:
    payload = fixture_json("firing_single.json")
    del payload[field]
    return payload


def _alert_with(**changes: Any) -> dict[str, Any]:
    payload = fixture_json("firing_single.json")
    payload["alerts"][0].update(changes)
    return payload


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"{", "malformed JSON"),
        (b"", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[]", "(top level)"),
        (_without("groupKey"), "groupKey: Field required"),
        (_without("alerts"), "alerts: Field required"),
        ({**fixture_json("firing_single.json"), "version": "3"}, "version: Input should be '4'"),
        ({**fixture_json("firing_single.json"), "status": "ok"}, "status: Input should be"),
        (_alert_with(labels={"a": 1}), "alerts[0].labels.a: Input should be a valid string"),
        (_alert_with(startsAt="yesterday"), "alerts[0].startsAt"),
        (_alert_with(fingerprint=""), "alerts[0].fingerprint"),
        ({**fixture_json("group_5.json"), "truncatedAlerts": -1}, "truncatedAlerts"),
    ],
)
def test_webhook_rejects_bad_payload_naming_field(
    client: FlaskClient, app: Flask, body: bytes | dict[str, Any], names: str
) -> None:
    response = post_alerts(client, body)

    assert response.status_code == 400
    assert response.is_json
    assert names in response.get_json()["error"]
    assert rejected(app, "invalid_payload") == 1
    assert_nothing_stored(client)


def test_webhook_rejects_duplicate_fingerprints(client: FlaskClient) -> None:
    payload = fixture_json("group_5.json")
    payload["alerts"][1]["fingerprint"] = payload["alerts"][0]["fingerprint"]

    response = post_alerts(client, payload)

    assert response.status_code == 400
    assert "duplicate fingerprint" in response.get_json()["error"]
    assert_nothing_stored(client)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Bearer {TOKEN}x", f"bearer{TOKEN}", "Basic Zm9vOmJhcg==", "Basic !!"],
)
def test_webhook_rejects_missing_or_wrong_credentials(
    client: FlaskClient, app: Flask, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {"Authorization": ""}

    response = post_alerts(client, raw_fixture("firing_single.json"), **headers)

    assert response.status_code == 401
    assert response.get_json() == {"error": "missing or wrong credentials"}
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert rejected(app, "unauthorized") == 1
    assert_nothing_stored(client)


def test_webhook_accepts_alertmanager_basic_auth(make_app: Callable[..., Flask]) -> None:
    captured = json.loads(_captured("basic_auth"))
    app = make_app(webhook={"basic_auth": {"username": "alertmanager", "password": "s3cr3t-pass"}})
    client = app.test_client()
    body = json.dumps(captured["body"]).encode()

    ok = post_alerts(client, body, Authorization=captured["headers"]["Authorization"])
    wrong = base64.b64encode(b"alertmanager:wrong").decode()
    refused = post_alerts(client, body, Authorization=f"Basic {wrong}")

    assert ok.status_code == 200
    assert refused.status_code == 401


def test_webhook_accepts_alertmanager_bearer_header(make_app: Callable[..., Flask]) -> None:
    captured = json.loads(_captured("bearer"))
    app = make_app(webhook={"bearer_token": "test-bearer-token-123"})

    response = post_alerts(
        app.test_client(),
        json.dumps(captured["body"]).encode(),
        Authorization=captured["headers"]["Authorization"],
    )

    assert response.status_code == 200


def _captured(kind: str) -> str:
    return (FIXTURES / f"{kind}_headers.json").read_text()


def test_webhook_rejects_body_over_limit(make_app: Callable[..., Flask]) -> None:
    app = make_app(server={"max_body_bytes": 1000})
    client = app.test_client()

    response = post_alerts(client, raw_fixture("group_5.json"))  # 2,799 bytes

    assert response.status_code == 413
    assert response.get_json() == {"error": "body is larger than the limit of 1000 bytes"}
    assert rejected(app, "too_large") == 1
    assert_nothing_stored(client)


def test_webhook_answers_503_when_sqlite_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{path}", "sqlite_busy_timeout_s": 0.1},
            "webhook": {"bearer_token": TOKEN},
        }
    )
    store = Store(settings.database)
    store.upgrade()
    app = create_app(settings, store=store, registry=CollectorRegistry())
    client = app.test_client()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        response = post_alerts(client, raw_fixture("firing_single.json"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert response.status_code == 503
    assert "store unavailable" in response.get_json()["error"]
    assert rejected(app, "store_unavailable") == 1
    assert_nothing_stored(client)
    assert post_alerts(client, raw_fixture("firing_single.json")).status_code == 200
    store.dispose()


def test_webhook_answers_503_when_postgres_is_down() -> None:
    settings = Settings.model_validate(
        {
            # Port 1 on loopback: nothing listens there, the connection is refused at once.
            "database": {"url": "postgresql+psycopg://postgres@127.0.0.1:1/none"},
            "webhook": {"bearer_token": TOKEN},
        }
    )
    client = create_app(settings, registry=CollectorRegistry()).test_client()

    response = post_alerts(client, raw_fixture("firing_single.json"))
    ready = client.get("/readyz")
    listing = client.get("/api/v1/incidents")

    assert response.status_code == 503
    assert response.get_json()["error"].startswith("store unavailable, retry later:")
    assert ready.status_code == 503
    assert listing.status_code == 503
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("GET", "/api/v1/alertmanager", 405), ("DELETE", "/healthz", 405)],
)
def test_unknown_routes_answer_json(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    response = client.open(path, method=method)

    assert response.status_code == status
    assert response.is_json
    assert "error" in response.get_json()
