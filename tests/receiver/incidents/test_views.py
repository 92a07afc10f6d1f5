"""The incident read API: filters, pagination, one incident in full, bad queries, its token."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from receiver.incidents.models import TimelineEntry
from receiver.store.database import Store
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
        ("limit=0", "limit: expected a whole number from 1 to 500"),
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


def _big_group(alerts: int) -> dict[str, Any]:
    """One Alertmanager group of `alerts` alerts, from the real capture."""
    payload = copy.deepcopy(fixture_json("firing_single.json"))
    [alert] = payload["alerts"]
    payload["alerts"] = [
        {**alert, "fingerprint": f"{n:016x}", "labels": {**alert["labels"], "instance": f"i{n}"}}
        for n in range(alerts)
    ]
    return payload


def _add_notes(store: Store, incident_id: int, count: int) -> None:
    """`count` more timeline entries: the alerts of one notification share one entry."""
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def work(session: Session) -> None:
        for n in range(count):
            session.add(
                TimelineEntry(incident_id=incident_id, at=at, kind="note", message=f"{n}", data={})
            )

    store.write(work)


def test_incident_detail_shows_the_first_page_of_a_big_groups_alerts(client: FlaskClient) -> None:
    incident = post_alerts(client, _big_group(250)).get_json()["incident_id"]

    detail = client.get(f"/api/v1/incidents/{incident}").get_json()

    assert len(detail["alerts"]) == 100 and detail["alerts_count"] == 250
    assert detail["alerts"][0]["fingerprint"] == f"{0:016x}"
    assert detail["alerts_next"] == f"/api/v1/incidents/{incident}/alerts?after=100&limit=100"
    # The alerts that opened the incident share one timeline entry.
    assert len(detail["timeline"]) == detail["timeline_count"] == 3
    assert len(detail["timeline"][1]["data"]["fingerprints"]) == 250
    assert detail["timeline_next"] is None
    fingerprints = [alert["fingerprint"] for alert in detail["alerts"]]
    url = detail["alerts_next"]
    while url:
        page = client.get(url).get_json()
        assert page["count"] == 250 and len(page["alerts"]) <= 100
        fingerprints += [alert["fingerprint"] for alert in page["alerts"]]
        url = page["next"]
    assert fingerprints == [f"{n:016x}" for n in range(250)]


def test_incident_alerts_and_timeline_pages_take_limit_and_after(
    client: FlaskClient, store: Store
) -> None:
    incident = post_alerts(client, _big_group(7)).get_json()["incident_id"]
    _add_notes(store, incident, 6)

    first = client.get(f"/api/v1/incidents/{incident}/alerts?limit=3").get_json()
    last = client.get(f"/api/v1/incidents/{incident}/alerts?limit=3&after=6").get_json()
    timeline = client.get(f"/api/v1/incidents/{incident}/timeline?limit=2&after=1").get_json()

    assert [a["fingerprint"] for a in first["alerts"]] == [f"{n:016x}" for n in range(3)]
    assert first["next"] == f"/api/v1/incidents/{incident}/alerts?after=3&limit=3"
    assert [a["fingerprint"] for a in last["alerts"]] == [f"{6:016x}"] and last["next"] is None
    assert [e["kind"] for e in timeline["timeline"]] == ["alert_firing", "not_paged"]
    assert timeline["count"] == 9 and timeline["next"].endswith("?after=3&limit=2")


@pytest.mark.parametrize("listing", ["alerts", "timeline"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit: expected a whole number from 1 to 500"),
        ("limit=501", "limit: expected a whole number from 1 to 500"),
        ("limit=%C2%B2", "limit: expected a whole number from 1 to 500"),
        ("after=-1", "after: expected a whole number from 0 to 2147483647"),
        ("after=2147483648", "after: expected a whole number from 0 to 2147483647"),
    ],
)
def test_incident_alerts_and_timeline_pages_reject_bad_query(
    client: FlaskClient, listing: str, query: str, message: str
) -> None:
    incident = post_alerts(client, _big_group(2)).get_json()["incident_id"]

    response = client.get(f"/api/v1/incidents/{incident}/{listing}?{query}")

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


@pytest.mark.parametrize("listing", ["alerts", "timeline"])
def test_incident_alerts_and_timeline_of_an_unknown_incident_are_404(
    client: FlaskClient, listing: str
) -> None:
    response = client.get(f"/api/v1/incidents/999/{listing}")

    assert response.status_code == 404
    assert response.get_json() == {"error": "no incident 999"}


def test_incident_detail_stays_small_however_big_the_group(
    client: FlaskClient, store: Store
) -> None:
    # 10,000 alerts once made this a 5.6 MB, one-second answer: alerts and timeline are paged.
    incident = post_alerts(client, _big_group(600)).get_json()["incident_id"]
    _add_notes(store, incident, 599)

    response = client.get(f"/api/v1/incidents/{incident}")

    detail = response.get_json()
    assert (len(detail["alerts"]), detail["alerts_count"]) == (100, 600)
    assert (len(detail["timeline"]), detail["timeline_count"]) == (500, 602)
    assert detail["timeline"][0]["kind"] == "incident_opened"
    assert len(response.data) < 400_000
    rest = client.get(detail["timeline_next"]).get_json()
    assert [e["message"] for e in rest["timeline"]][-1] == "598" and rest["next"] is None
    assert len(rest["timeline"]) == 102
