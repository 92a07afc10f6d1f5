"""Notifications after an incident resolved: re-sends of alerts still firing after a person
resolved it by hand, new firings, and groups first seen already resolved.

Driven through the Flask test client with real Alertmanager captures, on SQLite and
PostgreSQL both; the paging ones with the real dispatcher and the fake PagerDuty.
"""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient

from tests.support.alertmanager import fixture_json, post_alerts, raw_fixture
from tests.support.clock import Clock
from tests.support.paging import Paging, group


def incident(client: FlaskClient, incident_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/incidents/{incident_id}")
    assert response.status_code == 200
    return response.get_json()


def incident_ids(client: FlaskClient) -> list[int]:
    response = client.get("/api/v1/incidents", query_string={"limit": "500"})
    return sorted(item["id"] for item in response.get_json()["incidents"])


def entries(detail: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [entry for entry in detail["timeline"] if entry["kind"] == kind]


def resolve_by_hand(client: FlaskClient, incident_id: int, by: str = "d") -> None:
    response = client.post(f"/api/v1/incidents/{incident_id}/resolve", json={"by": by})
    assert response.status_code == 200, response.get_json()


def resolved(payload: dict[str, Any]) -> dict[str, Any]:
    """The notification Alertmanager sends when the group's alerts stop firing."""
    done = copy.deepcopy(payload)
    done["status"] = "resolved"
    for alert in done["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-28T11:00:00Z"
    return done


def test_resend_after_hand_resolution_is_recorded_and_pages_nobody(paging: Paging) -> None:
    firing = group()  # SEV2 by the rules
    first = paging.post(firing)
    paging.run()
    assert paging.paged() == ["d"]
    client = paging.client
    assert client.post("/api/v1/incidents/1/ack", json={"by": "d"}).status_code == 200
    lowered = {"severity": "SEV4", "reason": "one canary only", "by": "d"}
    assert client.post("/api/v1/incidents/1/severity", json=lowered).status_code == 200
    resolve_by_hand(client, first)
    triggers = len(paging.triggers())

    paging.clock.advance(hours=16)  # repeat_interval re-sends, into the night
    again = post_alerts(client, firing).get_json()
    paging.clock.advance(hours=4)
    once_more = post_alerts(client, firing).get_json()
    paging.run()

    assert again == {
        "incident_id": 1,
        "opened": False,
        "resolved": False,
        "severity": "SEV4",  # the IC's severity stands
        "changed": True,
    }
    assert once_more == {**again, "changed": False}  # the re-send's re-send writes nothing
    assert incident_ids(client) == [1]
    assert len(paging.triggers()) == triggers  # nobody paged again
    detail = incident(client, 1)
    assert (detail["status"], detail["severity"], detail["resolved_by"]) == (
        "resolved",
        "SEV4",
        "d",
    )
    [still] = entries(detail, "alerts_still_firing")
    assert still["data"]["fingerprints"] == [firing["alerts"][0]["fingerprint"]]
    assert "Alertmanager still reports 1 alert(s) firing" in still["message"]
    assert "nobody is paged" in still["message"]
    assert detail["alerts"][0]["status"] == "firing"  # as Alertmanager reports it

    paging.clock.advance(hours=1)
    late = post_alerts(client, resolved(firing)).get_json()
    paging.run()

    assert (late["incident_id"], late["opened"], late["resolved"]) == (1, False, False)
    assert incident_ids(client) == [1]
    assert len(paging.triggers()) == triggers
    detail = incident(client, 1)
    assert detail["status"] == "resolved"
    assert detail["alerts"][0]["status"] == "resolved"
    assert detail["alerts"][0]["ends_at"] == "2026-11-28T11:00:00+00:00"
    assert len(entries(detail, "incident_resolved")) == 1  # the hand's, no second resolution


def test_new_alert_after_hand_resolution_opens_incident_linked_to_the_first(
    client: FlaskClient, clock: Clock
) -> None:
    payload = fixture_json("group_5.json")
    post_alerts(client, payload)
    resolve_by_hand(client, 1, by="alice")
    resolved_at = clock.now
    clock.advance(hours=1)
    post_alerts(client, payload)  # still firing: recorded on #1
    grown = copy.deepcopy(payload)
    newcomer = copy.deepcopy(grown["alerts"][0])
    newcomer["fingerprint"] = "00000000000000aa"
    newcomer["labels"]["instance"] = "api-6:9100"
    grown["alerts"].append(newcomer)
    clock.advance(minutes=5)

    answer = post_alerts(client, grown).get_json()

    assert (answer["incident_id"], answer["opened"]) == (2, True)
    assert incident_ids(client) == [1, 2]
    detail = incident(client, 2)
    assert detail["status"] == "open"
    assert len(detail["alerts"]) == 6
    [link] = entries(detail, "follows_incident")
    assert link["data"]["follows_incident_id"] == 1
    assert link["data"]["resolved_by"] == "alice"
    assert link["message"] == (
        f"follows incident #1, resolved by hand by alice at {resolved_at:%Y-%m-%d %H:%M} UTC "
        "while its alerts still fired"
    )
    assert [entry["kind"] for entry in detail["timeline"]][:2] == [
        "incident_opened",
        "follows_incident",
    ]
    assert incident(client, 1)["status"] == "resolved"
    # The group resolving later resolves the new incident, and opens nothing.
    assert post_alerts(client, resolved(grown)).get_json()["incident_id"] == 2
    assert incident(client, 2)["status"] == "resolved"
    assert incident_ids(client) == [1, 2]


def test_known_alert_firing_anew_after_hand_resolution_opens_linked_incident(
    client: FlaskClient, clock: Clock
) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))
    resolve_by_hand(client, 1)
    clock.advance(hours=2)
    anew = fixture_json("firing_single.json")
    anew["alerts"][0]["startsAt"] = "2026-11-28T08:40:00Z"  # it stopped and fired again

    answer = post_alerts(client, anew).get_json()

    assert (answer["incident_id"], answer["opened"], answer["severity"]) == (2, True, "SEV2")
    [link] = entries(incident(client, 2), "follows_incident")
    assert link["data"]["follows_incident_id"] == 1
    assert entries(incident(client, 1), "alerts_still_firing") == []


def test_firing_after_alertmanager_resolution_opens_unlinked_incident(
    client: FlaskClient, clock: Clock
) -> None:
    post_alerts(client, raw_fixture("firing_single.json"))
    post_alerts(client, raw_fixture("resolved_single.json"))
    clock.advance(hours=1)
    anew = fixture_json("firing_single.json")
    anew["alerts"][0]["startsAt"] = "2026-11-28T07:40:00Z"

    assert post_alerts(client, anew).get_json()["incident_id"] == 2
    assert entries(incident(client, 2), "follows_incident") == []


def test_group_first_seen_resolved_is_recorded_at_its_own_times(
    paging: Paging, clock: Clock
) -> None:
    payload = group(status="resolved")
    payload["alerts"][0]["startsAt"] = "2026-11-28T05:10:00Z"
    payload["alerts"][0]["endsAt"] = "2026-11-28T06:20:00Z"
    clock.advance(minutes=30)

    answer = post_alerts(paging.client, payload).get_json()
    paging.run()

    assert (answer["opened"], answer["resolved"]) == (True, True)
    detail = incident(paging.client, answer["incident_id"])
    assert detail["status"] == "resolved"
    assert detail["opened_at"] == "2026-11-28T05:10:00+00:00"
    assert detail["resolved_at"] == "2026-11-28T06:20:00+00:00"  # not a 0 s resolve at now
    assert [entry["kind"] for entry in detail["timeline"]] == [
        "incident_opened",
        "alert_resolved",
        "incident_resolved",
    ]  # no resolution_times (no MTTR verdict), no all-clear, no postmortem
    last = detail["timeline"][-1]
    assert last["data"]["first_seen_resolved"] is True
    assert last["message"].startswith("first seen already resolved")
    assert paging.triggers() == []  # a rotation covers it, and nobody is paged


def test_group_first_seen_resolved_without_end_time_is_resolved_when_seen(
    client: FlaskClient, clock: Clock
) -> None:
    payload = fixture_json("resolved_single.json")
    payload["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"

    answer = post_alerts(client, payload).get_json()

    detail = incident(client, answer["incident_id"])
    assert detail["opened_at"] == detail["alerts"][0]["starts_at"]
    assert detail["resolved_at"] == clock.now.isoformat()
