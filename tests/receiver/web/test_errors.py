"""What every route answers in the cases no view handles itself: no static files, 503 bodies
without the database's address, 413 for bodies over the limit also when they come chunked,
and unexpected errors logged without the data they were about.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from receiver.app import create_app
from receiver.config.settings import Settings
from receiver.services import services
from receiver.store.database import StoreUnavailable
from tests.support.alertmanager import TOKEN, fixture_json, raw_fixture
from tests.support.rota_config import rota_config

LIMIT = 2000
AUTH = {"Authorization": f"Bearer {TOKEN}"}


# --------------------------------------------------------------------------------------------
# No static route


def test_no_static_files_are_served(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flask's default `/static/<path>` served the working directory's static/ to anyone."""
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "x").write_text("secret notes")
    monkeypatch.chdir(tmp_path)

    response = app.test_client().get("/static/x")

    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert set(response.get_json()) == {"error"}
    assert "static" not in app.url_map._rules_by_endpoint  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# 503 without the database's address


def test_503_bodies_do_not_name_the_database(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.model_validate(
        {
            # Port 1 on loopback: nothing listens, psycopg's message names host and port.
            "database": {"url": "postgresql+psycopg://postgres@127.0.0.1:1/none"},
            "webhook": {"bearer_token": TOKEN},
        }
    )
    client = create_app(settings, registry=CollectorRegistry()).test_client()
    caplog.set_level(logging.INFO)

    answers = [
        client.get("/api/v1/incidents"),
        client.post("/api/v1/incidents/1/ack", json={"by": "d"}),
        client.post(
            "/api/v1/alertmanager",
            data=raw_fixture("firing_single.json"),
            headers=AUTH,
            content_type="application/json",
        ),
    ]

    for response in answers:
        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert "127.0.0.1" not in body and "port" not in body and "refused" not in body, body
        assert "database unavailable" in response.get_json()["error"]
    assert answers[0].get_json() == {
        "error": "store unavailable, retry later: database unavailable"
    }
    # The detail is in the server's log, for the operator.
    assert 'connection to server at "127.0.0.1", port 1 failed' in caplog.text


def test_store_unavailable_message_is_safe_and_keeps_the_detail() -> None:
    exc = StoreUnavailable("database unavailable", detail="host db.internal port 5432: refused")

    assert str(exc) == "database unavailable"
    assert exc.detail == "host db.internal port 5432: refused"
    assert StoreUnavailable("database is locked").detail == "database is locked"


# --------------------------------------------------------------------------------------------
# Unexpected errors: the statement in the log, never the values

SECRET_LABEL = "customer-db-7.secret.example"
SECRET_ANNOTATION = "password=hunter2 leaked in a runbook"


def test_unhandled_database_error_logs_the_statement_not_the_values(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def fails() -> Any:
        # NOT NULL violations: PostgreSQL's DETAIL quotes the whole failing row.
        statement = text(
            "INSERT INTO incident (group_identity, receiver, title) "
            "VALUES (:identity, :receiver, :title)"
        )
        values = {"identity": SECRET_LABEL, "receiver": "am", "title": SECRET_ANNOTATION}
        services().store.write(lambda session: session.execute(statement, values))

    app.add_url_rule("/fails", view_func=fails)
    caplog.set_level(logging.DEBUG)

    response = app.test_client().get("/fails")

    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error: see the onwatch log"}
    assert "INSERT INTO incident (group_identity, receiver, title)" in caplog.text
    assert "IntegrityError" in caplog.text  # what went wrong stays visible
    assert "Traceback (most recent call last)" in caplog.text
    assert SECRET_LABEL not in caplog.text
    assert "hunter2" not in caplog.text
    assert SECRET_LABEL not in response.get_data(as_text=True)


def test_unhandled_error_of_our_own_is_logged_in_full(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    def fails() -> Any:
        raise RuntimeError("a bug, named")

    app.add_url_rule("/fails", view_func=fails)

    response = app.test_client().get("/fails")

    assert response.status_code == 500
    assert "RuntimeError: a bug, named" in caplog.text
    assert "in fails" in caplog.text  # the frame


# --------------------------------------------------------------------------------------------
# Bodies over server.max_body_bytes: 413 on every route, chunked or not


def _chunked(client: Any, method: str, path: str, body: bytes, **headers: str) -> Any:
    """A request as gunicorn hands over a chunked one: no Content-Length, and
    `wsgi.input_terminated` (the server ends the stream at the last chunk)."""
    return client.open(
        path,
        method=method,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json", **headers},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.fixture
def limited(make_app: Callable[..., Flask]) -> Flask:
    return make_app(server={"max_body_bytes": LIMIT}, **rota_config())


def _big_payload() -> bytes:
    """A valid Alertmanager notification over LIMIT bytes: cut at the limit it would not parse,
    and a parser that got the whole would accept it."""
    payload = fixture_json("firing_single.json")
    payload["alerts"][0]["annotations"]["description"] = "x" * (LIMIT * 2)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/alertmanager"),
        ("POST", "/api/v1/rotations/ops/overrides"),
        ("POST", "/api/v1/pagerduty"),
        ("GET", "/api/v1/oncall"),  # a route that never reads a body
        ("GET", "/healthz"),
        ("GET", "/nowhere"),
    ],
)
def test_chunked_body_over_the_limit_is_refused(limited: Flask, method: str, path: str) -> None:
    client = limited.test_client()

    response = _chunked(client, method, path, _big_payload(), **AUTH)

    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.get_json() == {"error": f"body is larger than the limit of {LIMIT} bytes"}
    assert client.get("/api/v1/incidents").get_json()["incidents"] == []


@pytest.mark.parametrize("chunked", [True, False])
def test_body_over_the_limit_is_refused_before_any_view_runs(limited: Flask, chunked: bool) -> None:
    client = limited.test_client()
    override = {"person": "f", "start": "2026-11-28T10:00:00Z", "end": "2026-11-28T12:00:00Z"}
    body = json.dumps({**override, "reason": "r" * LIMIT}).encode()

    if chunked:
        response = _chunked(client, "POST", "/api/v1/rotations/ops/overrides", body)
    else:
        response = client.post(
            "/api/v1/rotations/ops/overrides", data=body, content_type="application/json"
        )

    assert response.status_code == 413
    overrides = client.get("/api/v1/rotations/ops/overrides").get_json()["overrides"]
    assert overrides == []


def test_chunked_body_within_the_limit_is_read_whole(limited: Flask) -> None:
    client = limited.test_client()
    body = raw_fixture("firing_single.json")
    assert len(body) < LIMIT

    response = _chunked(client, "POST", "/api/v1/alertmanager", body, **AUTH)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["opened"] is True


def test_chunked_body_exactly_at_the_limit_is_accepted(limited: Flask) -> None:
    client = limited.test_client()
    override = {"person": "f", "start": "2026-11-28T10:00:00Z", "end": "2026-11-28T12:00:00Z"}
    body = json.dumps({**override, "reason": ""}).encode()
    padding = LIMIT - len(body)
    body = json.dumps({**override, "reason": "r" * padding}).encode()
    assert len(body) == LIMIT

    response = _chunked(client, "POST", "/api/v1/rotations/ops/overrides", body)

    assert response.status_code == 201, response.get_json()
