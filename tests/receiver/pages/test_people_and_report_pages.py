"""A person's page (upcoming shifts, this month's load) and the burden report in the page."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.alertmanager import post_alerts, raw_fixture
from tests.support.pages import csrf_token, give_password, password_web, sign_in
from tests.support.rota_config import rota_config


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    app = make_app(**rota_config(), web=password_web())
    give_password(app, "a")
    client = app.test_client()
    assert post_alerts(client, raw_fixture("firing_single.json")).status_code == 200
    assert sign_in(client, "a") == 303
    return client


def _text(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return html.unescape(answer.get_data(as_text=True))


def test_person_page_upcoming_shifts_and_load(client: FlaskClient) -> None:
    page = _text(client, "/people/a")
    assert "a@example.com" in page and "Europe/London" in page
    assert "Shifts in the next 4 weeks" in page
    assert "2026-11 so far" in page
    assert client.get("/people/nobody").status_code == 404


def test_burden_report_in_the_page(client: FlaskClient) -> None:
    page = _text(client, "/reports/burden?month=2026-11")
    assert "On-call burden 2026-11" in page and "Verdict" in page
    assert "<svg" in page  # the charts, inline
    assert 'href="/reports/burden?month=2026-10"' in page
    assert client.get("/reports/burden?month=2026-13").status_code == 400
    assert client.get("/reports/burden?month=9999-12").status_code == 400


PAGES = (
    "/",
    "/fragments/open",
    "/incidents",
    "/incidents?status=resolved&severity=SEV2&service=checkout&from=2026-11-01&until=2026-12-01",
    "/incidents/1",
    "/incidents/1/timeline",
    "/incidents/1/preview?status=monitoring&impact=x&current_action=y",
    "/rotations/ops",
    "/rotations/ops?from=2026-10-26&weeks=12",
    "/rotations/ops/escalation",
    "/reports/burden",
    "/reports/burden?month=2026-11",
    *(f"/people/{name}" for name in "abcdefg"),
)


def test_every_page_answers_before_and_after_the_incident_is_resolved(
    client: FlaskClient,
) -> None:
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    token = csrf_token(client, "/incidents/1")
    for path, form in (
        ("/incidents/1/ack", {}),
        ("/incidents/1/updates", {"status": "monitoring", "impact": "x", "current_action": "y"}),
        ("/incidents/1/resolve", {"classification": "noise", "note": "flapping"}),
    ):
        assert client.post(path, data={**form, "csrf_token": token}).status_code == 303
    for path in PAGES:
        assert client.get(path).status_code == 200, path
