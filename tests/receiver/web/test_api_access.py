"""Who may call `/api/v1`: closed by default.

Without `api.bearer_token` an anonymous caller from the network moved pages to someone else
(`POST /rotations/<r>/overrides`) and stopped an escalation (`POST /incidents/<id>/ack`). Now,
without a token only loopback callers are answered; `api.open: true` opens it to everyone; with
a token everyone presents it. The Alertmanager and PagerDuty webhooks keep their own
credentials and are reachable from anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from receiver.web.auth import is_loopback
from tests.support.alertmanager import TOKEN, post_alerts, raw_fixture
from tests.support.paging import WEBHOOK_SECRET, sign
from tests.support.rota_config import rota_config

REMOTE = {"REMOTE_ADDR": "10.1.2.3"}
# Routes with credentials of their own: the webhooks, and Slack's signed commands and clicks.
WEBHOOKS = {
    "/api/v1/alertmanager",
    "/api/v1/pagerduty",
    "/api/v1/slack/commands",
    "/api/v1/slack/interactions",
}
API_TOKEN = "s3cret-api-token"
OVERRIDE = {"person": "f", "start": "2026-11-28T10:00:00Z", "end": "2026-11-28T12:00:00Z"}


def _app(make_app: Callable[..., Flask], **config: Any) -> Flask:
    return make_app(**rota_config(), pagerduty_webhook={"secret": WEBHOOK_SECRET}, **config)


def _api_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, concrete path) for every /api/v1 route but the two webhooks."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule in WEBHOOKS:
            continue
        path = re.sub(
            r"<(?:[^>:]+:)?([^>]+)>",
            lambda match: "1" if match.group(1).endswith("_id") else "ops",
            rule.rule,
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def _alertmanager(client: FlaskClient, token: str, environ: dict[str, str]) -> Any:
    return client.post(
        "/api/v1/alertmanager",
        data=raw_fixture("firing_single.json"),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
        environ_base=environ,
    )


def _overrides(client: FlaskClient) -> list[Any]:
    response = client.get("/api/v1/rotations/ops/overrides")  # from loopback: answered
    assert response.status_code == 200
    return list(response.get_json()["overrides"])


def test_api_refuses_every_route_to_a_remote_caller_without_a_token(
    make_app: Callable[..., Flask],
) -> None:
    app = _app(make_app)
    client = app.test_client()
    routes = _api_routes(app)
    assert len(routes) >= 25  # the whole API, not a sample

    for method, path in routes:
        response = client.open(path, method=method, json={}, environ_base=REMOTE)
        assert response.status_code == 403, (method, path, response.get_json())
        error = response.get_json()["error"]
        assert "api.bearer_token" in error and "ONWATCH_API_TOKEN" in error, error
        assert "api.open: true" in error, error


def test_anonymous_remote_override_and_ack_change_nothing(
    make_app: Callable[..., Flask],
) -> None:
    """The two requests of the finding."""
    client = _app(make_app).test_client()
    incident = post_alerts(client, raw_fixture("firing_single.json")).get_json()["incident_id"]

    moved = client.post("/api/v1/rotations/ops/overrides", json=OVERRIDE, environ_base=REMOTE)
    acked = client.post(
        f"/api/v1/incidents/{incident}/ack", json={"by": "mallory"}, environ_base=REMOTE
    )

    assert (moved.status_code, acked.status_code) == (403, 403)
    assert _overrides(client) == []
    detail = client.get(f"/api/v1/incidents/{incident}").get_json()
    assert detail["acknowledged_by"] is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_api_answers_loopback_callers_without_a_token(
    make_app: Callable[..., Flask], address: str
) -> None:
    client = _app(make_app).test_client()

    created = client.post(
        "/api/v1/rotations/ops/overrides", json=OVERRIDE, environ_base={"REMOTE_ADDR": address}
    )

    assert created.status_code == 201, created.get_json()
    assert len(_overrides(client)) == 1


def test_api_open_answers_everyone(make_app: Callable[..., Flask]) -> None:
    client = _app(make_app, api={"open": True}).test_client()

    assert client.get("/api/v1/oncall", environ_base=REMOTE).status_code == 200
    created = client.post("/api/v1/rotations/ops/overrides", json=OVERRIDE, environ_base=REMOTE)
    assert created.status_code == 201


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_api_token_is_accepted_with_the_scheme_in_any_case(
    make_app: Callable[..., Flask], scheme: str
) -> None:
    """RFC 7235: the auth-scheme is case-insensitive."""
    client = _app(make_app, api={"bearer_token": API_TOKEN}).test_client()
    headers = {"Authorization": f"{scheme} {API_TOKEN}"}

    response = client.post(
        "/api/v1/rotations/ops/overrides", json=OVERRIDE, headers=headers, environ_base=REMOTE
    )

    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("headers", "address"),
    [
        ({}, "10.1.2.3"),
        ({}, "127.0.0.1"),  # with a token set, loopback callers present it too
        ({"Authorization": "Bearer wrong"}, "10.1.2.3"),
        ({"Authorization": f"Basic {API_TOKEN}"}, "10.1.2.3"),
        ({"Authorization": API_TOKEN}, "10.1.2.3"),
    ],
)
def test_api_with_a_token_refuses_a_missing_or_wrong_one(
    make_app: Callable[..., Flask], headers: dict[str, str], address: str
) -> None:
    client = _app(make_app, api={"bearer_token": API_TOKEN, "open": True}).test_client()

    response = client.post(
        "/api/v1/rotations/ops/overrides",
        json=OVERRIDE,
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="onwatch"'
    assert "api.bearer_token" in response.get_json()["error"]
    assert _overrides_with_token(client) == []


def _overrides_with_token(client: FlaskClient) -> list[Any]:
    response = client.get(
        "/api/v1/rotations/ops/overrides", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert response.status_code == 200
    return list(response.get_json()["overrides"])


def test_webhooks_stay_reachable_from_the_network(make_app: Callable[..., Flask]) -> None:
    """They have credentials of their own: the webhook token and PagerDuty's signature."""
    client = _app(make_app).test_client()

    alert = _alertmanager(client, TOKEN, REMOTE)
    body = json.dumps({"event": {"id": "E1", "event_type": "pagey.ping", "data": {}}}).encode()
    pagerduty = client.post(
        "/api/v1/pagerduty",
        data=body,
        content_type="application/json",
        headers={"X-PagerDuty-Signature": sign(body, WEBHOOK_SECRET)},
        environ_base=REMOTE,
    )
    unsigned = client.post(
        "/api/v1/pagerduty", data=body, content_type="application/json", environ_base=REMOTE
    )
    wrong_token = _alertmanager(client, "nope", REMOTE)

    assert alert.status_code == 200, alert.get_json()
    assert pagerduty.status_code != 403, pagerduty.get_json()
    assert pagerduty.status_code < 300, pagerduty.get_json()
    assert unsigned.status_code == 401  # PagerDuty's own check, not the API's
    assert wrong_token.status_code == 401


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.1.2.3", False),
        ("::ffff:10.1.2.3", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
        ("localhost", False),  # a name is not an address the socket reports
    ],
)
def test_is_loopback(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback
