"""Input found by fault and fuzz runs: each is a 400 (or 404) that changes nothing, or is
stored with what changed said in the timeline; never a 500, which Alertmanager retries
forever. Every case runs on SQLite and PostgreSQL (the `client` fixture's store)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.alertmanager import fixture_json, post_alerts
from tests.support.paging import Paging, group

MAX_TRUNCATED_ALERTS = 2**31 - 1  # what PostgreSQL's INTEGER column holds
NUL = "\u0000"
FFFD = "\ufffd"


def _payload(**alert_changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(fixture_json("firing_single.json"))
    payload["alerts"][0].update(alert_changes)
    return payload


def _incidents(client: FlaskClient) -> list[dict[str, Any]]:
    incidents: list[dict[str, Any]] = client.get("/api/v1/incidents").get_json()["incidents"]
    return incidents


@pytest.mark.parametrize("field", ["startsAt", "endsAt"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_with_no_utc_equivalent_is_a_400_naming_it(
    client: FlaskClient, field: str, value: str
) -> None:
    response = post_alerts(client, _payload(**{field: value}))

    assert response.status_code == 400
    assert f"alerts[0].{field}" in response.get_json()["error"]
    assert _incidents(client) == []


@pytest.mark.parametrize("reported", [2**31, 2**63, 2**64 + 5])
def test_truncated_alerts_beyond_the_column_is_clamped_and_said(
    client: FlaskClient, reported: int
) -> None:
    payload = fixture_json("group_5.json")
    payload["truncatedAlerts"] = reported

    response = post_alerts(client, payload)

    assert response.status_code == 200, response.get_json()
    incident = client.get(f"/api/v1/incidents/{response.get_json()['incident_id']}").get_json()
    assert incident["truncated_alerts"] == MAX_TRUNCATED_ALERTS
    [note] = [e for e in incident["timeline"] if e["kind"] == "text_replaced"]
    assert f"truncatedAlerts was {reported}" in note["message"]
    assert f"recorded as {MAX_TRUNCATED_ALERTS}" in note["message"]
    # Alertmanager sends it again: nothing more is written.
    again = post_alerts(client, payload)
    assert again.get_json()["changed"] is False


def test_nul_in_labels_is_stored_replaced_and_said_in_the_timeline(client: FlaskClient) -> None:
    payload = _payload(labels={"alertname": f"Disk{NUL}Full", "severity": "critical"})

    response = post_alerts(client, payload)

    assert response.status_code == 200, response.get_json()
    incident = client.get(f"/api/v1/incidents/{response.get_json()['incident_id']}").get_json()
    [alert] = incident["alerts"]
    assert alert["alertname"] == f"Disk{FFFD}Full"
    assert alert["labels"]["alertname"] == f"Disk{FFFD}Full"
    assert incident["severity"] == "SEV2"  # graded on the stored labels
    [note] = [e for e in incident["timeline"] if e["kind"] == "text_replaced"]
    assert note["message"].endswith("labels contained NUL characters, replaced with U+FFFD")
    assert note["data"]["fingerprint"] == alert["fingerprint"]
    # The retry Alertmanager sends changes nothing and writes no second note.
    assert post_alerts(client, payload).get_json()["changed"] is False
    timeline = client.get(f"/api/v1/incidents/{incident['id']}").get_json()["timeline"]
    assert [e["kind"] for e in timeline].count("text_replaced") == 1


def test_nul_in_every_text_field_of_the_payload_is_stored(client: FlaskClient) -> None:
    payload = _payload(
        fingerprint=f"ab{NUL}cd",
        generatorURL=f"http://prometheus{NUL}/graph",
        annotations={"summary": f"disk {NUL} full", f"key{NUL}": "v"},
    )
    payload["groupKey"] = f"{{}}:{{alertname={NUL}}}"
    payload["receiver"] = f"web{NUL}hook"
    payload["commonAnnotations"] = {"summary": f"disk {NUL} full"}
    payload["externalURL"] = f"http://am{NUL}"
    payload["groupLabels"] = {"alertname": f"x{NUL}"}

    response = post_alerts(client, payload)

    assert response.status_code == 200, response.get_json()
    incident = client.get(f"/api/v1/incidents/{response.get_json()['incident_id']}").get_json()
    assert incident["group_key"] == f"{{}}:{{alertname={FFFD}}}"
    assert incident["receiver"] == f"web{FFFD}hook"
    assert FFFD in incident["title"]
    [alert] = incident["alerts"]
    assert alert["fingerprint"] == f"ab{FFFD}cd"
    assert alert["generator_url"] == f"http://prometheus{FFFD}/graph"
    assert alert["annotations"] == {"summary": f"disk {FFFD} full", f"key{FFFD}": "v"}
    notes = [e["message"] for e in incident["timeline"] if e["kind"] == "text_replaced"]
    for field in ("fingerprint", "annotations", "generatorURL"):
        assert any(f"{field} contained NUL characters" in note for note in notes), notes
    for field in ("receiver", "groupKey", "groupLabels", "commonAnnotations", "externalURL"):
        assert any(f"{field} contained NUL characters" in note for note in notes), notes
    assert post_alerts(client, payload).get_json()["changed"] is False


def test_fingerprints_that_differ_only_in_nul_are_duplicates(client: FlaskClient) -> None:
    payload = fixture_json("group_5.json")
    payload["alerts"][0]["fingerprint"] = f"a{NUL}"
    payload["alerts"][1]["fingerprint"] = f"a{FFFD}"

    response = post_alerts(client, payload)

    assert response.status_code == 400
    assert "duplicate fingerprint" in response.get_json()["error"]
    assert _incidents(client) == []


def test_an_alert_with_nul_is_paged(paging: Paging) -> None:
    incident = paging.post(group(f"Disk{NUL}Full"))

    paging.run()

    assert len(paging.triggers(f"onwatch-{incident}")) == 1
    assert paging.incident(incident)["alerts"][0]["alertname"] == f"Disk{FFFD}Full"


# --------------------------------------------------------------------------------------------
# The read API: numbers that no column holds, digits that are not ASCII.


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=%C2%B2", "limit: expected a whole number from 1 to 500"),  # "²".isdigit()
        ("limit=%D9%A3", "limit: expected a whole number from 1 to 500"),  # Arabic-Indic 3
        ("before=%C2%B2", "before: expected a whole number from 1 to 2147483647"),
        ("before=9223372036854775808", "before: expected a whole number from 1 to 2147483647"),
        ("before=2147483648", "before: expected a whole number from 1 to 2147483647"),
        ("before=" + "9" * 5000, "before: expected a whole number"),
    ],
)
def test_incident_list_numbers_out_of_range_are_400(
    client: FlaskClient, query: str, message: str
) -> None:
    assert post_alerts(client, fixture_json("firing_single.json")).status_code == 200

    response = client.get(f"/api/v1/incidents?{query}")

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


def test_incident_list_before_the_largest_id_is_fine(client: FlaskClient) -> None:
    assert post_alerts(client, fixture_json("firing_single.json")).status_code == 200

    response = client.get("/api/v1/incidents?before=2147483647")

    assert response.status_code == 200
    assert len(response.get_json()["incidents"]) == 1


def test_incident_list_filter_with_nul_is_answered(client: FlaskClient) -> None:
    response = client.get("/api/v1/incidents?service=check%00out")

    assert response.status_code == 200
    assert response.get_json()["incidents"] == []


@pytest.mark.parametrize("incident_id", ["2147483648", "9223372036854775808", "9" * 400])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "/alerts"),
        ("POST", "/ack"),
        ("POST", "/resolve"),
        ("GET", "/response"),
        ("POST", "/roles"),
        ("POST", "/updates"),
        ("POST", "/checklist/war_room"),
        ("POST", "/severity"),
        ("POST", "/classification"),
        ("GET", "/postmortem"),
        ("POST", "/postmortem"),
        ("POST", "/postmortem/drafted"),
        ("GET", "/actions"),
        ("POST", "/actions"),
    ],
)
def test_an_incident_id_no_row_can_have_is_a_404(
    client: FlaskClient, incident_id: str, method: str, path: str
) -> None:
    assert post_alerts(client, fixture_json("firing_single.json")).status_code == 200

    response = client.open(
        f"/api/v1/incidents/{incident_id}{path}", method=method, json={"by": "alice"}
    )

    assert response.status_code == 404
    assert response.is_json and "error" in response.get_json()
    assert len(_incidents(client)) == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PATCH", "/api/v1/actions/9223372036854775808"),
        ("POST", "/api/v1/actions/9223372036854775808/close"),
        ("PATCH", "/api/v1/actions/2147483648"),
    ],
)
def test_an_action_item_id_no_row_can_have_is_a_404(
    client: FlaskClient, method: str, url: str
) -> None:
    response = client.open(url, method=method, json={"by": "alice"})

    assert response.status_code == 404
    assert response.is_json


# --------------------------------------------------------------------------------------------
# Request bodies: NUL and lone surrogates are stored replaced; nesting is bounded.


def test_ack_and_resolve_store_nul_and_surrogates_replaced(client: FlaskClient) -> None:
    incident = post_alerts(client, fixture_json("firing_single.json")).get_json()["incident_id"]

    ack = client.post(
        f"/api/v1/incidents/{incident}/ack",
        data='{"by": "ali\\u0000ce"}',
        content_type="application/json",
    )
    resolved = client.post(
        f"/api/v1/incidents/{incident}/resolve",
        data='{"by": "bob\\ud800", "note": "fixed\\u0000", "classification": "noise"}',
        content_type="application/json",
    )

    assert ack.status_code == 200, ack.get_json()
    assert resolved.status_code == 200, resolved.get_json()
    view = client.get(f"/api/v1/incidents/{incident}").get_json()
    assert view["acknowledged_by"] == f"ali{FFFD}ce"
    assert view["resolved_by"] == f"bob{FFFD}"
    [entry] = [e for e in view["timeline"] if e["kind"] == "incident_resolved"]
    assert entry["message"].endswith(f"fixed{FFFD}")


def test_a_body_nested_too_deeply_is_a_400(client: FlaskClient) -> None:
    incident = post_alerts(client, fixture_json("firing_single.json")).get_json()["incident_id"]

    response = client.post(
        f"/api/v1/incidents/{incident}/ack",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.get_json()["error"].startswith("body:")
