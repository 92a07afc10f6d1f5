"""Chunked request bodies through a real `onwatch serve` (gunicorn), which the Flask test
client cannot send: over `server.max_body_bytes` they were cut at the limit and parsed; now
they are refused with 413, on every route, and a chunked body within the limit is read whole.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.alertmanager import SERVER_TOKEN, raw_fixture
from tests.support.paging import group
from tests.support.servers import list_incidents, running_onwatch, write_config

LIMIT = 4096


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `onwatch serve` on SQLite with a small body limit, for the module."""
    directory = tmp_path_factory.mktemp("chunked")
    config = write_config(
        directory / "onwatch.yaml",
        f"sqlite:///{directory / 'onwatch.db'}",
        bearer_token=SERVER_TOKEN,
        extra=f"server:\n  max_body_bytes: {LIMIT}\n",
    )
    with running_onwatch(config, workers=1, threads=2) as base:
        yield base


def _send_chunked(base: str, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """Send `body` with Transfer-Encoding: chunked (1 KiB chunks), no Content-Length."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
    try:
        chunks = [body[i : i + 1024] for i in range(0, len(body), 1024)]
        connection.request(
            method,
            path,
            body=iter(chunks),
            headers={
                "Authorization": f"Bearer {SERVER_TOKEN}",
                "Content-Type": "application/json",
            },
            encode_chunked=True,
        )
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def _big_notification() -> bytes:
    """A valid notification of group TooBig over the limit: whole, it would be accepted; cut
    at the limit, it is not JSON."""
    payload = group("TooBig")
    payload["alerts"][0]["annotations"]["description"] = "x" * (LIMIT * 2)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/alertmanager"),
        ("POST", "/api/v1/pagerduty"),
        ("POST", "/api/v1/incidents/1/ack"),
        ("GET", "/api/v1/incidents"),
        ("GET", "/healthz"),
    ],
)
def test_chunked_body_over_the_limit_answers_413(server: str, method: str, path: str) -> None:
    status, body = _send_chunked(server, method, path, _big_notification())

    assert status == 413, body
    assert body == {"error": f"body is larger than the limit of {LIMIT} bytes"}
    titles = [incident["title"] for incident in list_incidents(server)]
    assert not any(title.startswith("TooBig") for title in titles), titles


def test_chunked_body_within_the_limit_is_taken_whole(server: str) -> None:
    notification = raw_fixture("firing_single.json")
    assert len(notification) < LIMIT

    status, body = _send_chunked(server, "POST", "/api/v1/alertmanager", notification)

    assert status == 200, body
    assert body["opened"] is True
