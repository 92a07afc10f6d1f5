"""The incident read API: filters, pagination, one incident in full, bad queries, its token."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.alertmanager import fixture_json, post_alerts


def _group(number: int, severity: str = "warning", service: str = "api") -> dict[str, Any]:
    payload = copy.deepcopy(fixture_json("firing_single.json"))
    name = f"Alert{number}"
    payload["groupKey"] = f'{{}}:{{alertname="{name}"}}'
    payload["groupLabels"] = {"alertname": name}
    payload["commonLabels"] = {}
    alert = payload["alerts"][0]
    alert["labels"] = {"alertname": name, "severity": severity, "service": service}
    alert["fingerprint"] = f"{number:016x}"
    return payload


@pytest.fixture
def seeded(client: FlaskClient) -> FlaskClient:
    """Seven incidents: 1-3 SEV2 checkout, 4-7 SEV3 api; 2 and 5 resolved."""
    for number in range(1, 8):
        severity, service = ("critical", "checkout") if number <= 3 else ("warning", "api")
        payload = _group(number, severity, service)
        assert post_alerts(client, payload).status_code == 200
        if number in (2, 5):
            payload["status"] = payload["alerts"][0]["status"] = "resolved"
            assert post_alerts(client, payload).status_code == 200
    return client


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.get_json()["incidents"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [7, 6, 5, 4, 3, 2, 1]),
        ({"status": "open"}, [7, 6, 4, 3, 1]),
        ({"status": "resolved"}, [5, 2]),
        ({"severity": "SEV2"}, [3, 2, 1]),
        ({"service": "api", "status": "open"}, [7, 6, 4]),
        ({"service": "nope"}, []),
    ],
)
def test_incidents_list_filters(
    seeded: FlaskClient, query: dict[str, str], expected: list[int]
) -> None:
    response = seeded.get("/api/v1/incidents", query_string=query)

    assert response.status_code == 200
    assert ids(response) == expected


def test_incidents_list_pages_with_next_link(seeded: FlaskClient) -> None:
    seen: list[int] = []
    url: str | None = "/api/v1/incidents?status=open&limit=2"
    while url:
        response = seeded.get(url)
        seen += ids(response)
        url = response.get_json()["next"]

    assert seen == [7, 6, 4, 3, 1]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=closed", "status: expected one of open, resolved"),
        ("severity=P1", "severity: expected one of SEV1, SEV2, SEV3, SEV4"),
        ("limit=0", "limit: expected a whole number from 1 up to 500"),
        ("limit=501", "limit: expected a whole number"),
        ("limit=ten", "limit: expected a whole number"),
        ("before=-3", "before: expected a whole number"),
    ],
)
def test_incidents_list_rejects_bad_query(seeded: FlaskClient, query: str, message: str) -> None:
    response = seeded.get(f"/api/v1/incidents?{query}")

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


def test_incident_detail_has_alerts_and_timeline(seeded: FlaskClient) -> None:
    detail = seeded.get("/api/v1/incidents/2").get_json()

    assert detail["status"] == "resolved"
    assert [alert["fingerprint"] for alert in detail["alerts"]] == ["0000000000000002"]
    assert [entry["kind"] for entry in detail["timeline"]] == [
        "incident_opened",
        "alert_firing",
        "not_paged",  # no rotation covers service checkout in this configuration
        "alert_resolved",
        "incident_resolved",
        "resolution_times",
        "postmortem_scheduled",
        "all_clear",
    ]


def test_incident_detail_unknown_is_404(seeded: FlaskClient) -> None:
    response = seeded.get("/api/v1/incidents/999")

    assert response.status_code == 404
    assert response.get_json() == {"error": "no incident 999"}


def test_incidents_api_token_is_required_when_configured(make_app: Callable[..., Flask]) -> None:
    client = make_app(api={"bearer_token": "reader"}).test_client()

    assert client.get("/api/v1/incidents").status_code == 401
    assert (
        client.get("/api/v1/incidents/1", headers={"Authorization": "Bearer x"}).status_code == 401
    )
    ok = client.get("/api/v1/incidents", headers={"Authorization": "Bearer reader"})
    assert ok.status_code == 200
