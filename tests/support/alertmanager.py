"""Alertmanager's side of the tests: its captured payloads and how it posts them."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from tests.support.paths import FIXTURES

TOKEN = "test-token"
SERVER_TOKEN = "server-test-token"  # the webhook token of the real servers tests start
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def raw_fixture(name: str) -> bytes:
    """The exact bytes Alertmanager 0.25 sent, from tests/fixtures/alertmanager/raw/."""
    return (FIXTURES / "raw" / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    """A captured payload as a dict, to derive variants from."""
    return json.loads(raw_fixture(name))


def post_alerts(client: FlaskClient, body: bytes | dict[str, Any], **headers: str) -> Any:
    """POST a notification the way Alertmanager does (bearer token unless overridden)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {**AUTH, **headers}
    return client.post(
        "/api/v1/alertmanager", data=data, headers=sent, content_type="application/json"
    )
