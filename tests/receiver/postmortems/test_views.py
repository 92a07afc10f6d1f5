"""Postmortem action items over HTTP: due dates within the instant range, text with NUL.

The clock is tests.support.clock's START, 2026-11-28 06:45 UTC.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.alertmanager import fixture_json, post_alerts


@pytest.fixture
def incident(client: FlaskClient) -> int:
    response = post_alerts(client, fixture_json("firing_single.json"))
    assert response.status_code == 200
    return int(response.get_json()["incident_id"])


def add_item(client: FlaskClient, incident: int, **body: Any) -> Any:
    return client.post(f"/api/v1/incidents/{incident}/actions", json={"by": "d", **body})


@pytest.mark.parametrize(
    ("due", "message"),
    [
        ("9999-12-31T23:59:59-01:00", 'due: "9999-12-31T23:59:59-01:00" is out of range'),
        ("0001-01-01T00:00:00+01:00", 'due: "0001-01-01T00:00:00+01:00" is out of range'),
        ("3000-01-01", 'due: "3000-01-01" is out of range: expected an instant within 5 years'),
        ("2026-12-15T09:00:00", 'due: "2026-12-15T09:00:00" has no time zone offset'),
    ],
)
def test_action_item_due_date_out_of_range_is_a_400_and_stores_nothing(
    client: FlaskClient, incident: int, due: str, message: str
) -> None:
    response = add_item(client, incident, title="Add a runbook", due=due)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)
    assert client.get(f"/api/v1/incidents/{incident}/actions").get_json()["action_items"] == []


def test_action_item_due_date_is_checked_when_assigned_too(
    client: FlaskClient, incident: int
) -> None:
    item = add_item(client, incident, title="Add a runbook").get_json()

    response = client.patch(f"/api/v1/actions/{item['id']}", json={"by": "d", "due": "3000-01-01"})

    assert response.status_code == 400
    assert response.get_json()["error"].startswith('due: "3000-01-01" is out of range')
    [stored] = client.get(f"/api/v1/incidents/{incident}/actions").get_json()["action_items"]
    assert stored["due_at"] is None


def test_action_item_text_with_nul_is_stored_replaced(client: FlaskClient, incident: int) -> None:
    response = add_item(client, incident, title="Fix\u0000 the alert", owner="e\u0000")

    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["title"], response.get_json()["owner"]) == (
        "Fix\ufffd the alert",
        "e\ufffd",
    )
    listed = client.get("/api/v1/actions?owner=e%00").get_json()["action_items"]
    assert [item["title"] for item in listed] == ["Fix\ufffd the alert"]


def test_milestone_note_with_nul_is_stored(client: FlaskClient, incident: int) -> None:
    scheduled = client.post(f"/api/v1/incidents/{incident}/postmortem", json={"by": "d\u0000"})
    assert scheduled.status_code == 201, scheduled.get_json()

    response = client.post(
        f"/api/v1/incidents/{incident}/postmortem/exception",
        json={"by": "d\u0000", "note": "vendor\u0000 fix pending"},
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["changed"] is True
