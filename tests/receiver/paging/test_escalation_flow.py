"""Escalation end to end with an injected clock: Alertmanager in, PagerDuty (fake) out.

The clock starts on Saturday 2026-11-28 06:45 UTC (London: the same), when the ops rotation's
primary is d and its secondary b; f is its escalation target. Each test posts real
Alertmanager captures to the receiver, moves the clock, runs the dispatcher (the real
PagerDuty Events pager over HTTP) and looks at what the fake PagerDuty received, at the
page ledger and at the incident API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlmodel import Session, col, update

from receiver.incidents.models import IncidentRecord
from receiver.paging.pagers import Delivery, PageRequest
from receiver.paging.planner import queue_escalation
from receiver.store.database import Store
from tests.support.alertmanager import raw_fixture
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import (
    WEBHOOK_SECRET,
    Paging,
    events,
    group,
    make_paging,
    paging_config,
    rest_paging_config,
    sign,
)

FIRING_KEY = "onwatch-1"


def _escalate(paging: Paging, minutes: float) -> list[str]:
    """Move the clock, run the dispatcher; who was newly paged."""
    before = len(paging.paged())
    paging.clock.advance(minutes=minutes)
    paging.run()
    return paging.paged()[before:]


def test_sev2_pages_primary_then_secondary_then_escalation_target(paging: Paging) -> None:
    incident = paging.post(raw_fixture("firing_single.json"))
    assert incident == 1
    paging.run()
    [trigger] = paging.triggers()
    event = trigger.body
    assert event["dedup_key"] == FIRING_KEY and event["routing_key"] == "R" * 32
    payload = event["payload"]
    assert payload["severity"] == "error" and payload["source"] == "checkout"
    assert payload["summary"].startswith("[SEV2] HighErrorRate")
    details = payload["custom_details"]
    assert details["on_call"] == {"name": "d", "email": "d@example.com"}
    assert details["rule"] == "severity-critical" and details["matched"]
    assert details["escalation_level"] == 0
    assert {link["href"] for link in event["links"]} == {
        "https://runbooks.example.com/checkout/high-error-rate",
        "http://prometheus.example.com:9090/graph?g0.expr=job%3Acheckout_5xx%3Aratio_rate5m"
        "+%3E+0.05&g0.tab=1",
    }

    assert _escalate(paging, 4 + 59 / 60) == []  # nothing before the ack timeout
    assert _escalate(paging, 1 / 60) == ["b"]
    assert _escalate(paging, 5) == ["f"]
    assert _escalate(paging, 60) == []  # no repeat by default
    assert len(paging.fake.incidents_for(FIRING_KEY)) == 1

    assert [(p.person, p.severity) for p in paging.ledger()] == [
        ("d", "SEV2"),
        ("b", "SEV2"),
        ("f", "SEV2"),
    ]
    pages = paging.incident(incident)["pages"]
    assert [(p["target"], p["recipient"], p["status"]) for p in pages] == [
        ("primary", "d", "sent"),
        ("secondary", "b", "sent"),
        ("escalation", "f", "sent"),
    ]
    kinds = [e["kind"] for e in paging.incident(incident)["timeline"]]
    assert kinds.count("paged") == 3 and "paging_planned" in kinds


def test_repeat_loops_the_whole_chain(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake, repeat=1, ack_timeout={"SEV2": "10m"})
    paging = make_paging(make_app, store, clock, fake, config)
    paging.post(group())
    paging.run()
    for _ in range(6):
        _escalate(paging, 10)
    assert paging.paged() == ["d", "b", "f", "d", "b", "f"]
    assert _escalate(paging, 60) == []


def test_sev1_pages_primary_and_secondary_at_once(paging: Paging) -> None:
    paging.post(group(impact_revenue="true"))
    paging.run()
    assert sorted(paging.paged()) == ["b", "d"]
    assert {r.body["payload"]["severity"] for r in paging.triggers()} == {"critical"}
    assert _escalate(paging, 5) == ["f"]


def test_sev1_repeat_round_pages_primary_and_secondary_at_once_again(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake, paging_config(fake, repeat=1))
    paging.post(group(impact_revenue="true"))
    paging.run()
    assert sorted(paging.paged()) == ["b", "d"]
    assert _escalate(paging, 5) == ["f"]
    # The repeat round: both layers together again, not the secondary 5 minutes later.
    assert sorted(_escalate(paging, 5)) == ["b", "d"]
    assert _escalate(paging, 5) == ["f"]
    assert _escalate(paging, 60) == []


def test_sev4_pages_nobody_until_the_next_business_day(paging: Paging) -> None:
    incident = paging.post(group(severity="info"))
    paging.run()
    assert paging.triggers() == []
    [queued] = paging.timeline(incident, "page_queued")
    # Saturday now; d (on call, London) hears on Monday at 09:00 London time.
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert queued.data["due"] == monday.isoformat()
    assert paging.incident(incident)["pages"][0]["due_at"] == monday.isoformat()
    paging.clock.now = monday - timedelta(seconds=1)
    paging.run()
    assert paging.triggers() == []
    paging.clock.now = monday
    paging.run()
    [trigger] = paging.triggers()
    assert trigger.body["payload"]["severity"] == "info"
    assert paging.paged() == ["e"]  # whoever is primary then: the new week's e


def test_sev4_waits_for_nine_in_the_on_call_persons_own_zone(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake)
    config["rotations"].append(
        {
            "name": "payments",
            "time_zone": "America/New_York",
            "services": ["payments"],
            "shift_length": "1w",
            "handoff": {"weekday": "monday", "time": "09:00"},
            "start": "2026-11-02",
            "members": ["g"],
            "layers": [{"name": "primary"}],
            "paging": config["rotations"][0]["paging"],
        }
    )
    paging = make_paging(make_app, store, clock, fake, config)
    incident = paging.post(group(severity="info", service="payments"))
    due = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    assert paging.incident(incident)["pages"][0]["due_at"] == due.isoformat()
    clock.now = due - timedelta(minutes=1)
    paging.run()
    assert paging.triggers() == []
    clock.now = due
    paging.run()
    assert paging.paged() == ["g"]


def test_severity_raise_replans_the_escalation(paging: Paging) -> None:
    incident = paging.post(group(severity="warning", fingerprint="00000000000000aa"))
    paging.run()
    assert paging.paged() == ["d"]
    assert paging.triggers()[0].body["payload"]["severity"] == "warning"
    paging.clock.advance(minutes=1)
    raised = paging.post(group(severity="critical", fingerprint="00000000000000aa"))
    assert raised == incident
    paging.run()
    # Re-planned as SEV2: d again at once (same PagerDuty incident, now "error")...
    assert paging.paged() == ["d", "d"]
    assert paging.triggers()[-1].body["payload"]["severity"] == "error"
    [pd_incident] = paging.fake.incidents_for(f"onwatch-{incident}")
    assert pd_incident.events == 2  # one PagerDuty incident, updated
    # ... and b after SEV2's 5 minutes rather than SEV3's 15.
    assert _escalate(paging, 5) == ["b"]
    statuses = [(p["severity"], p["status"]) for p in _pages(paging, incident)]
    assert ("SEV3", "cancelled") in statuses
    assert not [s for s in statuses if s == ("SEV3", "pending")]


def _pages(paging: Paging, incident: int) -> list[dict[str, Any]]:
    return [
        {**view, "severity": row.severity}
        for view, row in zip(
            paging.incident(incident)["pages"], paging.messages(incident), strict=True
        )
    ]


def test_acknowledge_through_the_api_stops_escalation(paging: Paging) -> None:
    incident = paging.post(group())
    paging.run()
    paging.clock.advance(minutes=2)
    response = paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["changed"] is True and body["time_to_acknowledge_s"] == 120.0
    paging.run()
    acks = [r for r in events(paging.fake) if r.body["event_action"] == "acknowledge"]
    assert [r.body["dedup_key"] for r in acks] == [f"onwatch-{incident}"]
    assert paging.fake.incidents_for(f"onwatch-{incident}")[0].status == "acknowledged"
    assert _escalate(paging, 60) == []
    assert paging.paged() == ["d"]

    view = paging.incident(incident)
    assert view["acknowledged_by"] == "d"
    pages = [(p["action"], p["target"], p["status"]) for p in view["pages"]]
    assert ("trigger", "secondary", "cancelled") in pages
    assert ("trigger", "escalation", "cancelled") in pages
    assert ("acknowledge", "primary", "sent") in pages  # where the page it follows went
    [entry] = [e for e in view["timeline"] if e["kind"] == "acknowledged"]
    assert (
        entry["data"]["time_to_acknowledge_s"] == 120.0
        and "after 2m (time to acknowledge)" in entry["message"]
    )
    # Acknowledging again changes nothing and tells PagerDuty nothing more.
    again = paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "b"})
    assert again.get_json()["changed"] is False
    paging.run()
    assert len([r for r in events(paging.fake) if r.body["event_action"] == "acknowledge"]) == 1


def _webhook_event(event_type: str, key: str, agent: str = "Dana Oncall") -> bytes:
    return json.dumps(
        {
            "event": {
                "id": f"01{uuid.uuid4().hex[:24].upper()}",  # a new event each time
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": "2026-11-28T06:48:00.000Z",
                "agent": {"id": "PLH1HKV", "summary": agent, "type": "user_reference"},
                "client": None,
                "data": {"id": "Q000002", "type": "incident", "incident_key": key},
            }
        }
    ).encode()


def test_acknowledge_in_pagerduty_stops_escalation(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake)
    for person in config["people"]:
        if person["name"] == "d":
            person["pagerduty_user_id"] = "PLH1HKV"  # the agent of `_webhook_event`
    paging = make_paging(make_app, store, clock, fake, config)
    incident = paging.post(group())
    paging.run()
    paging.clock.advance(minutes=3)
    body = _webhook_event("incident.acknowledged", f"onwatch-{incident}")
    response = paging.client.post(
        "/api/v1/pagerduty",
        data=body,
        headers={"X-PagerDuty-Signature": sign(body, WEBHOOK_SECRET)},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert _escalate(paging, 60) == []
    assert [r.body["event_action"] for r in events(paging.fake)] == ["trigger"]  # PD knows
    view = paging.incident(incident)
    assert view["acknowledged_by"] == "d"
    [entry] = [e for e in view["timeline"] if e["kind"] == "acknowledged"]
    assert entry["data"] == {"by": "d", "source": "pagerduty", "time_to_acknowledge_s": 180.0}


def test_alertmanager_resolution_cancels_escalation_and_resolves_in_pagerduty(
    paging: Paging,
) -> None:
    incident = paging.post(raw_fixture("firing_single.json"))
    paging.run()
    paging.clock.advance(minutes=2)
    assert paging.post(raw_fixture("resolved_single.json")) == incident
    paging.run()
    resolves = [r for r in events(paging.fake) if r.body["event_action"] == "resolve"]
    assert [r.body["dedup_key"] for r in resolves] == [FIRING_KEY]
    assert paging.fake.incidents_for(FIRING_KEY)[0].status == "resolved"
    assert _escalate(paging, 60) == []
    pages = [(p["action"], p["target"], p["status"]) for p in paging.incident(incident)["pages"]]
    assert pages == [
        ("trigger", "primary", "sent"),
        ("trigger", "secondary", "cancelled"),
        ("trigger", "escalation", "cancelled"),
        ("resolve", "primary", "sent"),
    ]


def test_resolution_before_any_page_went_out_tells_pagerduty_nothing(paging: Paging) -> None:
    paging.post(raw_fixture("firing_single.json"))
    paging.post(raw_fixture("resolved_single.json"))
    paging.run()
    assert events(paging.fake) == []


def test_acknowledgement_while_the_page_is_on_its_way_still_reaches_pagerduty(
    paging: Paging,
) -> None:
    """The ack lands between the trigger's send and its outcome being recorded."""
    real = paging.dispatcher.pagers["ops"]
    incident = paging.post(group())

    class AckDuringSend:
        kind = real.kind

        def send(self, request: PageRequest) -> Delivery:
            delivery = real.send(request)
            if request.action == "trigger":
                paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"})
            return delivery

    paging.dispatcher.pagers = {"ops": AckDuringSend()}
    paging.run()
    assert [p.person for p in paging.ledger()] == ["d"]  # d was paged: it counts
    paging.run()
    assert paging.fake.incidents_for(f"onwatch-{incident}")[0].status == "acknowledged"
    assert _escalate(paging, 60) == []


def test_sev4_queue_follows_an_override_to_the_overriding_persons_zone(paging: Paging) -> None:
    created = paging.client.post(
        "/api/v1/rotations/ops/overrides",
        json={
            "person": "g",
            "layer": "primary",
            "start": "2026-11-28T06:00:00Z",
            "end": "2026-11-30T18:00:00Z",
            "reason": "d is away",
            "force": True,
        },
    )
    assert created.status_code == 201, created.get_json()
    incident = paging.post(group(severity="info"))
    due = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday 09:00 for g, in New York
    assert paging.incident(incident)["pages"][0]["due_at"] == due.isoformat()
    paging.clock.now = due
    paging.run()
    assert paging.paged() == ["g"]


# --------------------------------------------------------------------------------------------
# Escalation on no progress (queue_escalation): pages a level now, acknowledged or not


NO_PROGRESS = "not mitigated after 30m"


def _queue_escalation(
    paging: Paging, incident_id: int, level: int, reason: str = NO_PROGRESS
) -> str | None:
    """queue_escalation in its own transaction, as the job that notices no progress runs it."""
    context = paging.app.extensions["onwatch"].paging

    def work(session: Session) -> str | None:
        incident = session.get(IncidentRecord, incident_id)
        assert incident is not None
        return queue_escalation(
            session, incident, level=level, context=context, now=paging.clock(), reason=reason
        )

    return paging.store.write(work)


def _ack(paging: Paging, incident: int, by: str = "d") -> None:
    response = paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": by})
    assert response.status_code == 200


def _resolve(paging: Paging, incident: int, by: str = "d") -> None:
    response = paging.client.post(f"/api/v1/incidents/{incident}/resolve", json={"by": by})
    assert response.status_code == 200


def test_escalation_pages_the_next_level_although_acknowledged(paging: Paging) -> None:
    incident = paging.post(group())
    paging.run()
    _ack(paging, incident)
    paging.clock.advance(minutes=30)
    assert _queue_escalation(paging, incident, 1) == "ops secondary"
    [message] = [m for m in paging.messages(incident) if m.action == "escalate"]
    assert (message.target, message.level, message.status) == ("secondary", 1, "pending")
    assert message.next_attempt_at == paging.clock()  # due now, not after a timeout
    assert message.details == {
        "dedup_key": f"onwatch-{incident}-escalation-1",
        "reason": NO_PROGRESS,
    }
    [escalated] = paging.timeline(incident, "escalated")
    assert escalated.message == f"no progress: escalating to ops secondary (level 1): {NO_PROGRESS}"

    paging.run()
    key = f"onwatch-{incident}-escalation-1"
    # An incident of its own at PagerDuty, which notifies whoever the one service's policy
    # names (onwatch means b; test_routing shows b's own service waking b).
    assert paging.paged(key) == ["b"]
    [trigger] = paging.triggers(key)
    assert trigger.body["payload"]["custom_details"]["escalation_level"] == 1
    assert trigger.body["payload"]["custom_details"]["reason"] == NO_PROGRESS
    assert [pd.status for pd in paging.fake.incidents_for(key)] == ["triggered"]
    assert [(p.person, p.severity) for p in paging.ledger()] == [("d", "SEV2"), ("b", "SEV2")]
    paged = paging.timeline(incident, "paged")[-1]
    assert paged.message == (
        "paged b (secondary) via pagerduty-events (escalation level 1); routing_key: "
        "PagerDuty's escalation policy, not onwatch's rota, picks who is woken"
    )
    assert paging.outcomes[-1] == ("ops", "sent")


def test_escalation_asked_twice_pages_once(paging: Paging) -> None:
    incident = paging.post(group())
    paging.run()
    assert _queue_escalation(paging, incident, 1) == "ops secondary"
    paging.run()
    paging.clock.advance(minutes=1)
    assert _queue_escalation(paging, incident, 1, reason="asked again") == "ops secondary"
    paging.run()
    assert len([m for m in paging.messages(incident) if m.action == "escalate"]) == 1
    assert len(paging.timeline(incident, "escalated")) == 1
    assert paging.paged(f"onwatch-{incident}-escalation-1") == ["b"]


def test_escalation_beyond_the_chain_is_exhausted_once(paging: Paging) -> None:
    incident = paging.post(group())
    assert _queue_escalation(paging, incident, 2) == "ops escalation"  # f, the last level
    assert _queue_escalation(paging, incident, 3) is None
    assert _queue_escalation(paging, incident, 3) is None
    [entry] = paging.timeline(incident, "escalation_exhausted")
    assert (
        entry.message
        == f"no progress, and nobody left to escalate to (ops has no level 3): {NO_PROGRESS}"
    )
    assert entry.data["level"] == 3
    assert [m.level for m in paging.messages(incident) if m.action == "escalate"] == [2]


def test_escalation_without_a_rotation_is_exhausted(paging: Paging) -> None:
    incident = paging.post(group(service="nobody-owns-this"))
    assert _queue_escalation(paging, incident, 0) is None
    [entry] = paging.timeline(incident, "escalation_exhausted")
    assert "no rotation covers service nobody-owns-this" in entry.message
    assert paging.messages(incident) == []


def test_escalation_levels_follow_the_plan_for_sev1_and_sev4(paging: Paging) -> None:
    sev1 = paging.post(group("Sev1", impact_revenue="true"))  # primary and secondary at once
    assert _queue_escalation(paging, sev1, 1) == "ops secondary"
    assert _queue_escalation(paging, sev1, 2) == "ops escalation"
    sev4 = paging.post(group("Sev4", severity="info"))  # pages nobody by itself: SEV3's chain
    assert _queue_escalation(paging, sev4, 0) == "ops primary"
    paging.run()  # a SEV4 escalation pages now, not on the next business day
    assert paging.paged(f"onwatch-{sev4}-escalation-0") == ["d"]
    assert paging.paged(f"onwatch-{sev1}-escalation-2") == ["f"]


def test_acknowledgement_keeps_a_pending_escalation_and_resolution_cancels_it(
    paging: Paging,
) -> None:
    incident = paging.post(group())
    paging.run()
    _queue_escalation(paging, incident, 2)
    _ack(paging, incident)
    statuses = {(m.action, m.target): m.status for m in paging.messages(incident)}
    assert statuses[("escalate", "escalation")] == "pending"
    assert statuses[("trigger", "secondary")] == "cancelled"
    _resolve(paging, incident)
    [escalation] = [m for m in paging.messages(incident) if m.action == "escalate"]
    assert escalation.status == "cancelled" and "resolved by d" in escalation.last_error
    paging.run()
    assert paging.paged() == ["d"]
    assert paging.timeline(incident, "paged")[-1].data["person"] == "d"


def test_escalation_due_after_a_resolution_is_not_sent(paging: Paging) -> None:
    """Had a resolution left it pending, the dispatcher drops it rather than page."""
    incident = paging.post(group())
    paging.run()
    _queue_escalation(paging, incident, 1)
    paging.store.write(
        lambda session: session.execute(
            update(IncidentRecord)
            .where(col(IncidentRecord.id) == incident)
            .values(status="resolved")
        )
    )
    paging.run()
    [escalation] = [m for m in paging.messages(incident) if m.action == "escalate"]
    assert (escalation.status, escalation.last_error) == ("cancelled", "the incident is resolved")
    assert paging.paged() == ["d"]


def test_resolution_resolves_the_escalation_incident_too(paging: Paging) -> None:
    incident = paging.post(group())
    paging.run()
    _ack(paging, incident)
    _queue_escalation(paging, incident, 1)
    paging.run()
    paging.clock.advance(minutes=10)
    _resolve(paging, incident)
    paging.run()
    resolves = [
        r.body["dedup_key"] for r in events(paging.fake) if r.body["event_action"] == "resolve"
    ]
    assert sorted(resolves) == [f"onwatch-{incident}", f"onwatch-{incident}-escalation-1"]
    assert {pd.key: pd.status for pd in paging.fake.incidents} == {
        f"onwatch-{incident}": "resolved",
        f"onwatch-{incident}-escalation-1": "resolved",
    }


def test_escalation_at_night_counts_towards_the_night_load(paging: Paging) -> None:
    paging.clock.now = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # e is primary, asleep
    first = paging.post(group("Night0"))
    paging.post(group("Night1"))
    paging.run()
    _ack(paging, first, by="e")
    paging.clock.advance(minutes=1)  # before Night1's own escalation moves on
    assert _queue_escalation(paging, first, 0) == "ops primary"
    paging.run()
    assert [(p.person, p.night) for p in paging.ledger()] == [("e", True)] * 3
    assert "(escalation level 0) at night" in paging.timeline(first, "paged")[-1].message
    [crossed] = paging.timeline(first, "night_load_exceeded")
    assert crossed.data["night_pages"] == 3


def test_escalation_through_the_rest_pager_reassigns_the_pagerduty_incident(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake, rest_paging_config(fake))
    incident = paging.post(group())
    paging.run()
    _ack(paging, incident)
    paging.run()
    clock.advance(minutes=30)
    assert _queue_escalation(paging, incident, 1) == "ops secondary"
    paging.run()
    [pd_incident] = fake.incidents  # the same PagerDuty incident, handed to b
    assert pd_incident.assignment_history == (("PALICE1",), ("PBOB001",))
    assert [p.person for p in paging.ledger()] == ["d", "b"]
    _resolve(paging, incident)
    paging.run()
    assert [pd.status for pd in fake.incidents] == ["resolved"]
    # Resolving the incident resolved the escalation too: nothing else to tell PagerDuty.
    assert [m.action for m in paging.messages(incident)].count("resolve") == 1
    assert paging.timeline(incident, "page_failed") == []


def test_escalation_through_the_rest_pager_without_a_confirmed_trigger_opens_its_own(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake, rest_paging_config(fake))
    fake.fail_next(1, 500)  # the first trigger never made it: no PagerDuty incident to hand on
    incident = paging.post(group())
    paging.run()
    _ack(paging, incident)
    assert _queue_escalation(paging, incident, 1) == "ops secondary"
    paging.run()
    [pd_incident] = fake.incidents
    assert pd_incident.key == f"onwatch-{incident}-escalation-1"
    assert pd_incident.assignees == ("PBOB001",)
    _resolve(paging, incident)
    paging.run()
    assert [pd.status for pd in fake.incidents] == ["resolved"]  # found by its own id
    not_told = [e.data["action"] for e in paging.timeline(incident, "pager_not_told")]
    assert not_told == ["acknowledge", "resolve"]  # the first trigger's, which never arrived
    assert paging.timeline(incident, "page_failed") == []
