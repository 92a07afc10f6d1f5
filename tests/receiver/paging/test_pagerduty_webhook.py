"""`POST /api/v1/pagerduty`: PagerDuty v3 webhooks, signed for real, flowing into incidents.

A signed event acknowledges, resolves, or notes a reassignment or escalation on the matching
incident (found by the dedup key onwatch gave PagerDuty, or by the PagerDuty incident id the
REST pager recorded). A forged, missing or stale signature gets 401 and changes nothing;
an event for an incident onwatch does not know gets 200 and is ignored; a malformed body
with a valid signature gets a 400 JSON error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select
from werkzeug.test import TestResponse

from receiver.incidents.models import IncidentRecord
from receiver.paging.models import PagerDutyEventRecord
from receiver.paging.planner import queue_escalation
from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import (
    WEBHOOK_SECRET,
    Paging,
    events,
    group,
    make_paging,
    paging_config,
    sign,
)

NEW_SECRET = "pd-webhook-secret-rotated"
# The default agent of `v3_event`: a PagerDuty user who is none of the configured people.
DANA = "pagerduty:PLH1HKV"
DANA_DESCRIBED = "PLH1HKV (Dana Oncall, who is not one of the configured people)"


def v3_event(
    event_type: str,
    *,
    key: str = "onwatch-1",
    pagerduty_id: str = "Q1ZDJMSJ2F8OHU",
    event_id: str | None = None,
    occurred_at: str = "2026-11-28T06:48:04.203Z",
    agent_id: str = "PLH1HKV",
    agent_name: str = "Dana Oncall",
) -> dict[str, Any]:
    """A PagerDuty v3 webhook body, shaped like PagerDuty's documented samples.

    Each call is a new event (a new `event.id`, as PagerDuty gives each event) unless
    `event_id` is given: onwatch answers an id it has applied already as a replay. The agent
    (PagerDuty user `agent_id`, display name `agent_name`) is by default no configured person.
    """
    return {
        "event": {
            "id": event_id or f"01{uuid.uuid4().hex[:24].upper()}",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": occurred_at,
            "agent": {
                "html_url": f"https://acme.pagerduty.com/users/{agent_id}",
                "id": agent_id,
                "self": f"https://api.pagerduty.com/users/{agent_id}",
                "summary": agent_name,
                "type": "user_reference",
            },
            "client": None,
            "data": {
                "id": pagerduty_id,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{pagerduty_id}",
                "html_url": f"https://acme.pagerduty.com/incidents/{pagerduty_id}",
                "number": 2,
                "status": "acknowledged",
                "incident_key": key,
                "created_at": "2026-11-28T06:45:01Z",
                "title": "[SEV2] HighErrorRate: Checkout 5xx error rate above 5%",
                "service": {
                    "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
                    "id": "PF9KMXH",
                    "self": "https://api.pagerduty.com/services/PF9KMXH",
                    "summary": "checkout",
                    "type": "service_reference",
                },
                "assignees": [
                    {
                        "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
                        "id": "PTUXL6G",
                        "self": "https://api.pagerduty.com/users/PTUXL6G",
                        "summary": "Bea Backup",
                        "type": "user_reference",
                    }
                ],
                "escalation_policy": {
                    "id": "PUS0KTE",
                    "summary": "Default",
                    "type": "escalation_policy_reference",
                },
                "teams": [],
                "priority": None,
                "urgency": "high",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }


def deliver(
    paging: Paging, body: bytes | dict[str, Any], *secrets: str, header: str | None = None
) -> TestResponse:
    """POST a webhook the way PagerDuty does, signed with `secrets` (or an explicit header)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"User-Agent": "PagerDuty-Webhook/V3.0"}
    signature = header if header is not None else sign(raw, *secrets)
    if signature:
        headers["X-PagerDuty-Signature"] = signature
    return paging.client.post(
        "/api/v1/pagerduty", data=raw, headers=headers, content_type="application/json"
    )


@pytest.fixture
def paged(paging: Paging) -> int:
    """Incident 1, paged to d."""
    incident = paging.post(group())
    paging.run()
    paging.clock.advance(minutes=3)
    return incident


def test_webhook_acknowledged_acknowledges_and_stops_escalation(paging: Paging, paged: int) -> None:
    response = deliver(paging, v3_event("incident.acknowledged"), WEBHOOK_SECRET)
    assert response.status_code == 200
    assert response.get_json() == {"incident_id": paged, "event_type": "incident.acknowledged"}
    view = paging.incident(paged)
    assert view["acknowledged_by"] == DANA
    [entry] = [e for e in view["timeline"] if e["kind"] == "acknowledged"]
    assert entry["message"].startswith(f"acknowledged in PagerDuty by {DANA_DESCRIBED} after 3m")
    assert entry["data"]["time_to_acknowledge_s"] == 180
    paging.clock.advance(hours=1)
    paging.run()
    assert len(paging.triggers()) == 1
    # PagerDuty sends the same event again (it retries): nothing changes.
    assert deliver(paging, v3_event("incident.acknowledged"), WEBHOOK_SECRET).status_code == 200
    acks = [e for e in paging.incident(paged)["timeline"] if e["kind"] == "acknowledged"]
    assert len(acks) == 1


def test_webhook_resolved_resolves_without_echoing_to_pagerduty(paging: Paging, paged: int) -> None:
    assert deliver(paging, v3_event("incident.resolved"), WEBHOOK_SECRET).status_code == 200
    view = paging.incident(paged)
    assert view["status"] == "resolved"
    assert all(a["status"] == "resolved" for a in view["alerts"])
    [entry] = [e for e in view["timeline"] if e["kind"] == "incident_resolved"]
    assert entry["message"] == f"resolved in PagerDuty by {DANA_DESCRIBED}"
    assert view["resolved_by"] == DANA
    paging.clock.advance(hours=1)
    paging.run()
    assert [r.body["event_action"] for r in events(paging.fake)] == ["trigger"]


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("incident.reassigned", "pagerduty_reassigned"),
        ("incident.escalated", "pagerduty_escalated"),
    ],
)
def test_webhook_reassigned_and_escalated_go_to_the_timeline(
    paging: Paging, paged: int, event_type: str, kind: str
) -> None:
    assert deliver(paging, v3_event(event_type), WEBHOOK_SECRET).status_code == 200
    [entry] = [e for e in paging.incident(paged)["timeline"] if e["kind"] == kind]
    assert f"to Bea Backup by {DANA_DESCRIBED}" in entry["message"]
    assert entry["data"] == {"pagerduty_incident": "Q1ZDJMSJ2F8OHU"}
    assert paging.incident(paged)["acknowledged_at"] is None


def test_webhook_with_two_signatures_during_secret_rotation(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake)
    config["pagerduty_webhook"] = {"secret": NEW_SECRET}
    paging = make_paging(make_app, store, clock, fake, config)
    incident = paging.post(group())
    body = v3_event("incident.acknowledged")
    # PagerDuty signs with the old and the new secret while both are valid.
    assert deliver(paging, body, WEBHOOK_SECRET, NEW_SECRET).status_code == 200
    assert paging.incident(incident)["acknowledged_by"] == DANA


@pytest.mark.parametrize(
    "header",
    [
        "",  # missing
        "v1=" + "0" * 64,  # forged
        "v1=not-hex-at-all",
        "v0=whatever",
        "sha256=" + "0" * 64,
    ],
)
def test_webhook_unsigned_or_forged_is_refused_and_changes_nothing(
    paging: Paging, paged: int, header: str
) -> None:
    before = paging.incident(paged)
    response = deliver(paging, v3_event("incident.resolved"), header=header)
    assert response.status_code == 401
    assert "error" in response.get_json()
    assert paging.incident(paged) == before


def test_webhook_signed_with_another_secret_or_for_another_body_is_refused(
    paging: Paging, paged: int
) -> None:
    before = paging.incident(paged)
    body = json.dumps(v3_event("incident.resolved")).encode()
    assert deliver(paging, body, "someone-elses-secret").status_code == 401
    other = json.dumps(v3_event("incident.acknowledged")).encode()
    assert deliver(paging, body, header=sign(other, WEBHOOK_SECRET)).status_code == 401
    assert paging.incident(paged) == before


def test_webhook_without_a_configured_secret_refuses_everything(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake)
    del config["pagerduty_webhook"]
    paging = make_paging(make_app, store, clock, fake, config)
    paging.post(group())
    response = deliver(paging, v3_event("incident.resolved"), WEBHOOK_SECRET)
    assert response.status_code == 401
    assert paging.incident(1)["status"] == "open"


def test_webhook_for_an_escalations_own_incident_acts_on_the_onwatch_incident(
    paging: Paging, paged: int
) -> None:
    event = v3_event("incident.acknowledged", key=f"onwatch-{paged}-escalation-2")
    response = deliver(paging, event, WEBHOOK_SECRET)
    assert response.get_json() == {"incident_id": paged, "event_type": "incident.acknowledged"}
    assert paging.incident(paged)["acknowledged_by"] == DANA


def test_webhook_resolving_an_escalation_page_keeps_the_incident_open(
    paging: Paging, paged: int
) -> None:
    event = v3_event("incident.resolved", key=f"onwatch-{paged}-escalation-1")
    assert deliver(paging, event, WEBHOOK_SECRET).status_code == 200
    view = paging.incident(paged)
    assert view["status"] == "open"
    [entry] = [e for e in view["timeline"] if e["kind"] == "pagerduty_escalation_resolved"]
    assert entry["message"].endswith(f"by {DANA_DESCRIBED}; the incident stays open")


def test_webhook_resolution_resolves_the_escalations_own_pagerduty_incidents(
    paging: Paging, paged: int
) -> None:
    def escalate(session):  # type: ignore[no-untyped-def]
        incident = session.get(IncidentRecord, paged)
        svc = paging.app.extensions["onwatch"]
        queue_escalation(
            session,
            incident,
            level=1,
            context=svc.paging,
            now=paging.clock.now,
            reason="no progress",
        )

    paging.store.write(escalate)
    paging.run()
    assert deliver(paging, v3_event("incident.resolved"), WEBHOOK_SECRET).status_code == 200
    paging.run()
    resolves = [
        r.body["dedup_key"] for r in events(paging.fake) if r.body["event_action"] == "resolve"
    ]
    assert resolves == [f"onwatch-{paged}-escalation-1"]  # PagerDuty resolved onwatch-1 itself


@pytest.mark.parametrize(
    "key", ["onwatch-999", "someone-elses-key", "onwatch-night-load-d", "onwatch-1-escalation-"]
)
def test_webhook_for_an_unknown_incident_is_ignored(paging: Paging, paged: int, key: str) -> None:
    before = paging.incident(paged)
    response = deliver(
        paging, v3_event("incident.resolved", key=key, pagerduty_id="PUNKNWN"), WEBHOOK_SECRET
    )
    assert response.status_code == 200
    assert "ignored" in response.get_json()
    assert paging.incident(paged) == before


def test_webhook_event_types_onwatch_does_not_use_are_ignored(paging: Paging, paged: int) -> None:
    response = deliver(paging, v3_event("incident.annotated"), WEBHOOK_SECRET)
    assert response.status_code == 200 and "ignored" in response.get_json()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe garbage",
        b"[]",
        b'{"event": "x"}',
        b'{"event": {"event_type": "incident.resolved"}}',
        b'{"event": {"event_type": "incident.resolved", "data": []}}',
    ],
)
def test_webhook_malformed_body_with_a_valid_signature_is_a_400(
    paging: Paging, paged: int, body: bytes
) -> None:
    before = paging.incident(paged)
    response = deliver(paging, body, WEBHOOK_SECRET)
    assert response.status_code == 400
    assert isinstance(response.get_json()["error"], str)
    assert paging.incident(paged) == before


def test_webhook_without_an_agent_is_applied_as_pagerduty(paging: Paging, paged: int) -> None:
    for agent in (None, "PagerDuty auto-resolve"):
        body = v3_event("incident.acknowledged")
        body["event"]["agent"] = agent
        assert deliver(paging, body, WEBHOOK_SECRET).status_code == 200
    assert paging.incident(paged)["acknowledged_by"] == "PagerDuty"


def test_webhook_finds_a_rest_pager_incident_by_its_pagerduty_id(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake)
    config["rotations"][0]["paging"] = {
        "pager": "pagerduty-rest",
        "pagerduty": {
            "api_token": fake.api_token,
            "from_email": "onwatch@example.com",
            "service_id": fake.service_id,
            "api_url": fake.url,
        },
    }
    users = {"d": "PALICE1", "b": "PBOB001", "f": "PCHIDI1"}
    for person in config["people"]:
        person["pagerduty_user_id"] = users.get(person["name"], "PNOBODY")
    paging = make_paging(make_app, store, clock, fake, config)
    incident = paging.post(group())
    paging.run()
    clock.advance(minutes=5)
    paging.run()  # escalation reassigns the same PagerDuty incident to b
    [pd_incident] = fake.incidents
    assert pd_incident.assignment_history == (("PALICE1",), ("PBOB001",))
    body = v3_event("incident.acknowledged", key="", pagerduty_id=pd_incident.id)
    assert deliver(paging, body, WEBHOOK_SECRET).status_code == 200
    assert paging.incident(incident)["acknowledged_by"] == DANA


# --------------------------------------------------------------------------------------------
# Replays, stale events and hostile fields of signed events.


def test_a_replayed_event_is_answered_200_and_changes_nothing(paging: Paging, paged: int) -> None:
    body = v3_event("incident.reassigned", event_id="01REPLAYEDREASSIGNMENT0001")

    answers = [deliver(paging, body, WEBHOOK_SECRET) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200] * 4
    assert answers[0].get_json() == {"incident_id": paged, "event_type": "incident.reassigned"}
    assert all(answer.get_json()["replay"] is True for answer in answers[1:])
    timeline = paging.incident(paged)["timeline"]
    assert [e["kind"] for e in timeline].count("pagerduty_reassigned") == 1


def test_an_event_replayed_after_a_new_one_is_still_a_replay(paging: Paging, paged: int) -> None:
    first = v3_event("incident.escalated", event_id="01FIRSTESCALATION000000001")
    assert deliver(paging, first, WEBHOOK_SECRET).status_code == 200
    assert deliver(paging, v3_event("incident.escalated"), WEBHOOK_SECRET).status_code == 200

    assert deliver(paging, first, WEBHOOK_SECRET).get_json()["replay"] is True
    timeline = paging.incident(paged)["timeline"]
    assert [e["kind"] for e in timeline].count("pagerduty_escalated") == 2


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("2026-11-28T05:47:00Z", 'event.occurred_at: "2026-11-28T05:47:00Z" is out of range'),
        ("2026-11-28T07:49:00Z", 'event.occurred_at: "2026-11-28T07:49:00Z" is out of range'),
        ("2026-11-28T06:48:00", 'event.occurred_at: "2026-11-28T06:48:00" has no time zone'),
        ("9999-12-31T23:59:59-01:00", "event.occurred_at: "),
        ("yesterday", 'event.occurred_at: "yesterday" is not a date'),
    ],
)
def test_an_event_that_did_not_happen_within_the_hour_is_a_400(
    paging: Paging, paged: int, occurred_at: str, message: str
) -> None:
    # The clock says 06:48 (the fixture advanced it 3 minutes from 06:45).
    before = paging.incident(paged)
    body = v3_event("incident.resolved", occurred_at=occurred_at)

    response = deliver(paging, body, WEBHOOK_SECRET)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)
    assert paging.incident(paged) == before


def test_an_event_near_the_edge_of_the_hour_is_applied(paging: Paging, paged: int) -> None:
    body = v3_event("incident.acknowledged", occurred_at="2026-11-28T05:49:00Z")

    assert deliver(paging, body, WEBHOOK_SECRET).status_code == 200
    assert paging.incident(paged)["acknowledged_by"] == DANA


@pytest.mark.parametrize("event_id", [None, "", 7, "x" * 101])
def test_an_event_without_a_usable_id_is_a_400(
    paging: Paging, paged: int, event_id: object
) -> None:
    body = v3_event("incident.resolved")
    body["event"]["id"] = event_id

    response = deliver(paging, body, WEBHOOK_SECRET)

    assert response.status_code == 400
    assert response.get_json()["error"].startswith("event.id: expected PagerDuty's event id")
    assert paging.incident(paged)["status"] == "open"


def test_remembered_events_older_than_the_window_are_pruned(paging: Paging, paged: int) -> None:
    assert deliver(paging, v3_event("incident.escalated"), WEBHOOK_SECRET).status_code == 200
    paging.clock.advance(hours=2)
    later = v3_event("incident.escalated", occurred_at=paging.clock.now.isoformat())

    assert deliver(paging, later, WEBHOOK_SECRET).status_code == 200

    with paging.store.read() as session:
        remembered = session.exec(select(PagerDutyEventRecord.event_id)).all()
    assert remembered == [later["event"]["id"]]


@pytest.mark.parametrize(
    "key",
    [
        "onwatch-9223372036854775808",
        "onwatch-2147483648",
        "onwatch-2147483648-escalation-1",
        "onwatch-" + "9" * 5000,
        "onwatch-\u0663",  # an Arabic-Indic 3: \d matches it, int() reads it
    ],
)
def test_a_key_no_incident_can_have_is_ignored(paging: Paging, paged: int, key: str) -> None:
    before = paging.incident(paged)
    body = v3_event("incident.resolved", key=key, pagerduty_id="PUNKNWN")

    response = deliver(paging, body, WEBHOOK_SECRET)

    assert response.status_code == 200
    assert "ignored" in response.get_json()
    assert paging.incident(paged) == before


def test_nul_in_pagerduty_text_is_stored_replaced(paging: Paging, paged: int) -> None:
    body = v3_event("incident.reassigned", pagerduty_id="Q1Z\u0000J")
    body["event"]["agent"]["summary"] = "Dana\u0000Oncall"
    body["event"]["data"]["assignees"][0]["summary"] = "Bea\u0000Backup"

    response = deliver(paging, body, WEBHOOK_SECRET)

    assert response.status_code == 200, response.get_json()
    [entry] = [e for e in paging.incident(paged)["timeline"] if e["kind"] == "pagerduty_reassigned"]
    assert entry["message"] == (
        "reassigned in PagerDuty to Bea\ufffdBackup by PLH1HKV (Dana\ufffdOncall, who is not one "
        "of the configured people)"
    )


def test_a_signed_body_nested_too_deeply_is_a_400(paging: Paging, paged: int) -> None:
    body = b'{"event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = deliver(paging, body, WEBHOOK_SECRET)

    assert response.status_code == 400


# --------------------------------------------------------------------------------------------
# Who acted: the PagerDuty user mapped to the configured person.


def _people_with_pagerduty_ids(fake: FakePagerDuty) -> dict[str, Any]:
    """`paging_config` where d is PagerDuty user PALICE1 and f (the escalation target) PCHIDI1."""
    config = paging_config(fake)
    users = {"d": "PALICE1", "f": "PCHIDI1"}
    for person in config["people"]:
        if person["name"] in users:
            person["pagerduty_user_id"] = users[person["name"]]
    return config


@pytest.fixture
def mapped(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> Paging:
    """Paging where d and f have PagerDuty user ids; incident 1 paged to d 3 minutes ago."""
    paging = make_paging(make_app, store, clock, fake, _people_with_pagerduty_ids(fake))
    paging.post(group())
    paging.run()
    paging.clock.advance(minutes=3)
    return paging


def test_acknowledgement_by_a_pagerduty_user_records_the_configured_person(
    mapped: Paging,
) -> None:
    event = v3_event("incident.acknowledged", agent_id="PCHIDI1", agent_name="Chidi Okafor")

    assert deliver(mapped, event, WEBHOOK_SECRET).status_code == 200

    view = mapped.incident(1)
    assert view["acknowledged_by"] == "f"
    [entry] = [e for e in view["timeline"] if e["kind"] == "acknowledged"]
    assert entry["message"].startswith("acknowledged in PagerDuty by f after 3m")
    assert entry["data"]["by"] == "f"
    roles = mapped.client.get("/api/v1/incidents/1/response").get_json()["roles"]
    assert roles["commander"]["person"] == "f"
    # f leads: the Incident Commander check passes for f, and not for the display name.
    change = {"severity": "SEV1", "reason": "the whole checkout is down"}
    path = "/api/v1/incidents/1/severity"
    assert mapped.client.post(path, json={**change, "by": "Chidi Okafor"}).status_code == 409
    assert mapped.client.post(path, json={**change, "by": "f"}).status_code == 200


def test_resolution_by_a_pagerduty_user_records_the_configured_person(mapped: Paging) -> None:
    event = v3_event("incident.resolved", agent_id="PALICE1", agent_name="Alice Doe")

    assert deliver(mapped, event, WEBHOOK_SECRET).status_code == 200

    view = mapped.incident(1)
    assert view["status"] == "resolved" and view["resolved_by"] == "d"
    [entry] = [e for e in view["timeline"] if e["kind"] == "incident_resolved"]
    assert entry["message"] == "resolved in PagerDuty by d"


def test_acknowledgement_by_an_unknown_pagerduty_user_is_recorded_by_id(mapped: Paging) -> None:
    event = v3_event("incident.acknowledged", agent_id="PXXXX99", agent_name="Chidi Okafor")

    assert deliver(mapped, event, WEBHOOK_SECRET).status_code == 200

    view = mapped.incident(1)
    assert view["acknowledged_by"] == "pagerduty:PXXXX99"
    [entry] = [e for e in view["timeline"] if e["kind"] == "acknowledged"]
    assert entry["message"].startswith(
        "acknowledged in PagerDuty by PXXXX99 (Chidi Okafor, who is not one of the configured "
        "people) after 3m"
    )
    roles = mapped.client.get("/api/v1/incidents/1/response").get_json()["roles"]
    assert roles["commander"]["person"] == "pagerduty:PXXXX99"


def test_an_agent_that_is_no_user_is_recorded_by_its_summary(mapped: Paging) -> None:
    event = v3_event("incident.resolved", agent_id="PF9KMXH", agent_name="checkout")
    event["event"]["agent"]["type"] = "service_reference"

    assert deliver(mapped, event, WEBHOOK_SECRET).status_code == 200

    assert mapped.incident(1)["resolved_by"] == "checkout"
