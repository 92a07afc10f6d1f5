"""Alertmanager notifications become incidents: grouping, resolution, idempotence, severity.

Driven through the Flask test client with the real captured payloads, on SQLite and
PostgreSQL both.
"""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient

from tests.support.alertmanager import fixture_json, post_alerts, raw_fixture
from tests.support.clock import Clock


def incidents(client: FlaskClient, **query: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/incidents", query_string={"limit": "500", **query})
    assert response.status_code == 200
    return response.get_json()["incidents"]


def incident(client: FlaskClient, incident_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/incidents/{incident_id}")
    assert response.status_code == 200
    return response.get_json()


def kinds(detail: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in detail["timeline"]]


def test_ingest_firing_alert_opens_graded_incident(client: FlaskClient) -> None:
    response = post_alerts(client, raw_fixture("firing_single.json"))

    assert response.status_code == 200
    assert response.get_json() == {
        "incident_id": 1,
        "opened": True,
        "resolved": False,
        "severity": "SEV2",
        "changed": True,
    }
    detail = incident(client, 1)
    assert detail["status"] == "open"
    assert detail["severity"] == "SEV2"
    assert detail["service"] == "checkout"
    assert detail["title"] == "HighErrorRate: Checkout 5xx error rate above 5%"
    assert detail["channel"] == "#inc-20261128-higherrorrate-checkout"
    [alert] = detail["alerts"]
    assert alert["fingerprint"] == "9b59d5d54a0f729b"
    assert alert["status"] == "firing"
    assert alert["rule"] == "severity-critical"
    assert alert["ends_at"] is None
    assert kinds(detail) == ["incident_opened", "alert_firing", "not_paged"]
    assert detail["timeline"][2]["message"] == (
        "no rotation covers service checkout: nobody is paged"
    )
    assert 'rule "severity-critical"' in detail["timeline"][1]["message"]


def test_ingest_resolved_group_resolves_incident(client: FlaskClient, clock: Clock) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))
    clock.advance(minutes=2)

    response = post_alerts(client, raw_fixture("resolved_single.json"))

    assert response.get_json()["resolved"] is True
    detail = incident(client, 1)
    assert detail["status"] == "resolved"
    assert detail["resolved_at"] == clock.now.isoformat()
    assert detail["alerts"][0]["status"] == "resolved"
    assert detail["alerts"][0]["ends_at"] == "2026-11-28T06:43:12.392000+00:00"
    assert kinds(detail)[-5:] == [
        "alert_resolved",
        "incident_resolved",
        "resolution_times",  # what follows any resolution: times against the MTTR target,
        "postmortem_scheduled",  # for SEV1-2 the postmortem,
        "all_clear",  # and the all-clear
    ]


def test_ingest_same_payload_twice_changes_nothing(client: FlaskClient, clock: Clock) -> None:
    for name in ("group_5.json", "group_5_partial_resolved.json"):
        post_alerts(client, raw_fixture(name))
        before = incident(client, 1)
        clock.advance(minutes=5)

        again = post_alerts(client, raw_fixture(name))

        assert again.status_code == 200
        assert again.get_json()["changed"] is False
        assert incident(client, 1) == before
    assert len(incidents(client)) == 1


def test_ingest_partial_resolution_keeps_incident_open(client: FlaskClient) -> None:
    post_alerts(client, raw_fixture("group_5.json"))

    post_alerts(client, raw_fixture("group_5_partial_resolved.json"))

    detail = incident(client, 1)
    assert detail["status"] == "open"
    statuses = {alert["labels"]["instance"]: alert["status"] for alert in detail["alerts"]}
    assert statuses == {
        "api-1:9100": "firing",
        "api-2:9100": "firing",
        "api-3:9100": "firing",
        "api-4:9100": "firing",
        "api-5:9100": "resolved",
    }
    # The five alerts that opened the incident share one entry; the one resolution has its own.
    assert kinds(detail).count("alert_firing") == 1
    assert kinds(detail).count("alert_resolved") == 1
    firing = next(entry for entry in detail["timeline"] if entry["kind"] == "alert_firing")
    assert len(firing["data"]["fingerprints"]) == 5


def test_alerts_of_one_notification_share_one_timeline_entry_per_change(
    client: FlaskClient,
) -> None:
    payload = fixture_json("group_5.json")
    payload["alerts"][0]["labels"]["severity"] = "critical"  # graded apart from the others

    post_alerts(client, payload)

    detail = incident(client, 1)
    (entry,) = [e for e in detail["timeline"] if e["kind"] == "alert_firing"]
    fingerprints = [alert["fingerprint"] for alert in payload["alerts"]]
    assert entry["data"]["fingerprints"] == fingerprints
    grades = {grade["rule"]: grade for grade in entry["data"]["grades"]}
    assert grades["severity-critical"]["fingerprints"] == fingerprints[:1]
    assert sum(len(grade["fingerprints"]) for grade in grades.values()) == 5
    assert entry["message"].startswith('5 alerts firing. 1 graded SEV2 by rule "severity-critical"')
    assert f"({fingerprints[4]})" in entry["message"]  # five are named: all of them
    # Every alert keeps its own grade and evidence on its row.
    rows = {alert["fingerprint"]: alert for alert in detail["alerts"]}
    assert rows[fingerprints[0]]["rule"] == "severity-critical"

    resolved = fixture_json("group_5.json")
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = alert["startsAt"]
    post_alerts(client, resolved)

    detail = incident(client, 1)
    (entry,) = [e for e in detail["timeline"] if e["kind"] == "alert_resolved"]
    assert entry["data"]["fingerprints"] == fingerprints
    assert entry["message"].startswith("5 alerts resolved: ")


def test_ingest_group_never_splits_across_notifications(client: FlaskClient) -> None:
    payload = fixture_json("group_5.json")
    first, rest = copy.deepcopy(payload), copy.deepcopy(payload)
    first["alerts"], rest["alerts"] = payload["alerts"][:2], payload["alerts"][2:]

    post_alerts(client, first)
    post_alerts(client, rest)

    [only] = incidents(client)
    assert len(incident(client, only["id"])["alerts"]) == 5


def test_ingest_different_groups_never_merge(client: FlaskClient) -> None:
    same_key_other_receiver = fixture_json("firing_single.json")
    same_key_other_receiver["receiver"] = "webhook-team-b"

    post_alerts(client, raw_fixture("firing_single.json"))
    post_alerts(client, raw_fixture("group_5.json"))
    post_alerts(client, same_key_other_receiver)

    assert sorted(item["id"] for item in incidents(client)) == [1, 2, 3]
    assert [len(incident(client, n)["alerts"]) for n in (1, 2, 3)] == [1, 5, 1]


def test_ingest_group_firing_again_after_resolution_opens_new_incident(
    client: FlaskClient, clock: Clock
) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))
    post_alerts(client, raw_fixture("resolved_single.json"))
    clock.advance(hours=1)

    response = post_alerts(client, raw_fixture("firing_single.json"))

    assert response.get_json()["opened"] is True
    assert response.get_json()["incident_id"] == 2
    assert [item["status"] for item in incidents(client)] == ["open", "resolved"]
    # Same group, same day: the channel name stays unique.
    assert incident(client, 2)["channel"] == "#inc-20261128-higherrorrate-checkout-2"


def test_ingest_late_resolved_resend_does_not_reopen(client: FlaskClient) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))
    post_alerts(client, raw_fixture("resolved_single.json"))

    response = post_alerts(client, raw_fixture("resolved_single.json"))

    assert response.get_json() == {
        "incident_id": 1,
        "opened": False,
        "resolved": False,
        "severity": "SEV2",
        "changed": False,
    }
    assert len(incidents(client)) == 1


def test_ingest_resolved_group_never_seen_is_recorded(client: FlaskClient) -> None:
    response = post_alerts(client, raw_fixture("resolved_single.json"))

    assert response.get_json()["opened"] is True
    detail = incident(client, 1)
    assert detail["status"] == "resolved"
    assert kinds(detail) == ["incident_opened", "alert_resolved", "incident_resolved"]


def test_ingest_truncated_group_records_count_and_resolves_on_group_status(
    client: FlaskClient,
) -> None:
    post_alerts(client, raw_fixture("truncated.json"))
    detail = incident(client, 1)
    assert detail["truncated_alerts"] == 3
    assert "alerts_truncated" in kinds(detail)

    resolved = fixture_json("truncated.json")
    resolved["status"] = "resolved"
    resolved["alerts"] = resolved["alerts"][:1]  # the list is cut; the group status is not
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-28T06:50:00Z"
    post_alerts(client, resolved)

    detail = incident(client, 1)
    assert detail["status"] == "resolved"
    assert {alert["status"] for alert in detail["alerts"]} == {"resolved"}


def test_ingest_worse_alert_raises_severity_in_timeline(client: FlaskClient) -> None:
    post_alerts(client, raw_fixture("group_5.json"))  # severity=warning: SEV3
    worse = fixture_json("group_5.json")
    worse["alerts"][2]["labels"]["impact_revenue"] = "true"
    worse["alerts"][2]["fingerprint"] = "00000000000000aa"

    post_alerts(client, worse)

    detail = incident(client, 1)
    assert detail["severity"] == "SEV1"
    [raised] = [entry for entry in detail["timeline"] if entry["kind"] == "severity_raised"]
    assert raised["data"]["previous"] == "SEV3"
    assert raised["data"]["severity"] == "SEV1"
    assert raised["data"]["rule"] == "revenue-impact"


def test_ingest_severity_never_lowered_by_alerts(client: FlaskClient) -> None:
    critical = fixture_json("group_5.json")
    critical["alerts"][0]["labels"]["severity"] = "critical"
    post_alerts(client, critical)
    assert incident(client, 1)["severity"] == "SEV2"

    only_warnings = fixture_json("group_5_partial_resolved.json")
    only_warnings["alerts"][0]["status"] = "resolved"
    only_warnings["alerts"][0]["endsAt"] = "2026-11-28T06:50:00Z"
    post_alerts(client, only_warnings)

    assert incident(client, 1)["severity"] == "SEV2"


def test_ingest_configured_rule_grades_and_routes(make_app: Any) -> None:
    app = make_app(
        rules=[
            {
                "name": "checkout-is-revenue",
                "match": ['service="checkout"', 'env="prod"'],
                "severity": "SEV1",
                "service": "payments",
            }
        ]
    )
    client = app.test_client()

    post_alerts(client, raw_fixture("firing_single.json"))

    detail = incident(client, 1)
    assert (detail["severity"], detail["service"]) == ("SEV1", "payments")
    assert detail["alerts"][0]["matched"] == ['service="checkout"', 'env="prod"']


def test_ingest_keeps_unicode_and_long_text_intact(client: FlaskClient) -> None:
    payload = fixture_json("unicode_long.json")

    post_alerts(client, raw_fixture("unicode_long.json"))

    [alert] = incident(client, 1)["alerts"]
    assert alert["labels"] == payload["alerts"][0]["labels"]
    assert alert["annotations"] == payload["alerts"][0]["annotations"]
    assert incident(client, 1)["channel"] == "#inc-20261128-storagenearlyfull-lager-uberwachung"


def test_ingest_labels_only_alert_gets_catch_all(client: FlaskClient) -> None:
    post_alerts(client, raw_fixture("minimal_labels_only.json"))

    detail = incident(client, 1)
    assert (detail["severity"], detail["service"]) == ("SEV3", "minimal")
    assert detail["alerts"][0]["rule"] == "unclassified"
    assert detail["alerts"][0]["starts_at"] == "2026-11-28T06:43:20.839509+00:00"


def test_ingest_says_when_impact_users_percent_is_not_a_number(client: FlaskClient) -> None:
    payload = fixture_json("firing_single.json")
    payload["alerts"][0]["labels"]["impact_users_percent"] = "abc"
    assert post_alerts(client, payload).status_code == 200
    assert post_alerts(client, payload).status_code == 200  # a re-send says nothing again

    detail = incident(client, 1)
    notes = [e["message"] for e in detail["timeline"] if e["kind"] == "label_not_understood"]
    assert notes == [
        'alert HighErrorRate (9b59d5d54a0f729b): impact_users_percent="abc" is not a number'
        " (digits with an optional fraction, such as 12.5): the users-percent rules did not apply"
    ]
