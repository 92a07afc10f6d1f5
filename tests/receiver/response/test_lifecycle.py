"""Whole incidents through their life, with an injected clock: the response process end to end.

Alertmanager in (real captures), PagerDuty out (the fake, through the real client), people
acting through the HTTP API, the scheduler's response job run at chosen instants. Each test
checks the checklist, the reminders, the escalations and the messages queued for each
audience. The clock starts on Saturday 2026-11-28 06:45 UTC, when the ops rotation's primary
is d, its secondary b and its escalation target f.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from receiver.notify.models import NotificationMessage
from receiver.response.reminders import run_response_reminders
from tests.support.paging import Paging, group, make_paging, paging_config

SLACK_URL = "http://127.0.0.1:9/slack"  # never contacted: these tests stop at the outbox
EXEC_URL = "http://127.0.0.1:9/exec"


def response_config(fake: Any) -> dict[str, Any]:
    """The paging config plus notification targets: the team's Slack and an exec webhook."""
    config = paging_config(fake)
    config["rotations"][0]["notify"] = ["ops-slack"]
    config["notifications"] = {
        "targets": [
            {"name": "ops-slack", "kind": "slack", "url": SLACK_URL},
            {"name": "exec-hook", "kind": "webhook", "url": EXEC_URL},
            {"name": "unset-hook", "kind": "webhook", "url": ""},  # an unset ${VAR}
        ],
        "audiences": {
            "exec": {"template": "executive", "targets": ["exec-hook"]},
            "all-hands": {"targets": ["ops-slack", "unset-hook"]},
            "leadership": {"template": "executive", "targets": ["exec-hook"]},
        },
    }
    return config


@pytest.fixture
def life(make_app: Any, store: Any, clock: Any, fake: Any) -> Paging:
    return make_paging(make_app, store, clock, fake, response_config(fake))


def api(life: Paging, method: str, path: str, **body: Any) -> Any:
    """Call the API; the JSON answer (asserting a 2xx)."""
    response = life.client.open(f"/api/v1/{path}", method=method, json=body)
    assert response.status_code < 300, response.get_json()
    return response.get_json()


def checklist(life: Paging, incident_id: int) -> dict[str, dict[str, Any]]:
    """Every checklist item by key, from the API."""
    view = api(life, "GET", f"incidents/{incident_id}/response")
    return {item["key"]: item for phase in view["phases"] for item in phase["items"]}


def phases(life: Paging, incident_id: int) -> dict[str, dict[str, Any]]:
    view = api(life, "GET", f"incidents/{incident_id}/response")
    return {phase["key"]: phase for phase in view["phases"]}


def notifications(life: Paging, topic: str | None = None) -> list[NotificationMessage]:
    with life.store.read() as session:
        statement = select(NotificationMessage).order_by(col(NotificationMessage.id))
        if topic:
            statement = statement.where(NotificationMessage.topic == topic)
        return list(session.exec(statement))


def remind(life: Paging) -> int:
    """One run of the scheduler's response job at the clock's time."""
    svc = life.app.extensions["onwatch"]
    return run_response_reminders(life.store, svc.response, life.clock.now)


def kinds(life: Paging, incident_id: int) -> list[str]:
    return [entry.kind for entry in life.timeline(incident_id)]


def test_sev1_outage_through_its_whole_life(life: Paging) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.run()
    assert sorted(life.paged()) == ["b", "d"]  # SEV1 pages every layer at once
    items = checklist(life, incident)
    assert items["channel_named"]["state"] == "pending"  # no Slack here: nothing created
    assert items["severity_determined"]["state"] == "done"
    assert items["acknowledged"]["state"] == "pending"
    assert phases(life, incident)["detection"]["due_at"] == "2026-11-28T06:50:00+00:00"

    # 06:47 d acknowledges and becomes Incident Commander; names the other roles.
    life.clock.advance(minutes=2)
    api(life, "POST", f"incidents/{incident}/ack", by="d")
    roles = api(life, "GET", f"incidents/{incident}/response")["roles"]
    assert roles["commander"]["person"] == "d" and roles["commander"]["by"] == "onwatch"
    life.clock.advance(minutes=1)
    for role, person in (("technical_lead", "b"), ("communications_lead", "e"), ("scribe", "a")):
        api(life, "POST", f"incidents/{incident}/roles", role=role, person=person, by="d")
    assert checklist(life, incident)["roles_assigned"]["at"] == "2026-11-28T06:48:00+00:00"
    # Without Slack the team opens its channel by hand, and says so.
    api(life, "POST", f"incidents/{incident}/checklist/channel_named", by="d", note="#inc-x")

    # 06:49 the first update: detection is complete inside its 5 minutes.
    life.clock.advance(minutes=1)
    posted = api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="e",
        status="investigating",
        impact="Checkout fails for every customer",
        current_action="Checking the 06:30 payments deploy",
        eta="next update 07:05 UTC",
    )
    assert posted["queued_for"] == ["exec-hook", "ops-slack"]
    assert posted["skipped_not_configured"] == ["unset-hook"]
    detection = phases(life, incident)["detection"]
    assert detection["completed_at"] == "2026-11-28T06:49:00+00:00" and detection["met"] is True
    by_target = {m.target: m for m in notifications(life, "status_update")}
    assert by_target["ops-slack"].text.startswith("[SEV1] - checkout - Investigating\n")
    assert "Impact: Checkout fails for every customer" in by_target["ops-slack"].text
    assert by_target["exec-hook"].subject.startswith("[SEV1] Executive update")
    assert by_target["exec-hook"].audience == "exec"

    # 06:50 the bridge is up (by hand); 06:53 the hypothesis: triage is complete.
    life.clock.advance(minutes=1)
    api(life, "POST", f"incidents/{incident}/checklist/war_room", by="d", note="https://meet/x")
    life.clock.advance(minutes=3)
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="e",
        status="identified",
        impact="Checkout fails for every customer",
        current_action="Rolling back payments-api 4.12.0",
        eta="07:20 UTC",
    )
    triage = phases(life, incident)["triage"]
    assert triage["completed_at"] == "2026-11-28T06:53:00+00:00" and triage["met"] is True
    assert checklist(life, incident)["war_room"]["note"] == "https://meet/x"

    # 07:08 no update for 15 minutes: the IC and the Communications Lead are reminded, once.
    life.clock.advance(minutes=15)
    assert remind(life) == 1
    assert remind(life) == 0
    [reminder] = notifications(life, "update_reminder")
    assert reminder.target == "ops-slack"  # the team's own channel
    assert reminder.text.startswith("d and e: no status update for 15 minutes")
    assert reminder.payload["recipients"] == [  # an e-mail target mails them
        {"name": "d", "email": "d@example.com"},
        {"name": "e", "email": "e@example.com"},
    ]
    assert kinds(life, incident).count("update_reminder") == 1

    # 07:15 not mitigated 30 minutes after opening: escalation to the next level (f), paged
    # although the incident is acknowledged.
    life.clock.advance(minutes=7)
    assert remind(life) == 1  # the escalation (the next update reminder is due at 07:23)
    life.run()
    assert life.paged("onwatch-1-escalation-2") == ["f"]  # level 2: after both layers
    assert "escalated" in kinds(life, incident)
    assert checklist(life, incident)["escalated_if_stuck"]["state"] == "done"

    # 07:20 mitigated: no more escalations; the update cadence still holds.
    life.clock.advance(minutes=5)
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="e",
        status="monitoring",
        impact="Checkout recovering",
        current_action="Watching error rates after the rollback",
        eta="07:45 UTC",
    )
    # A new IC takes over: detection still counts from when the first one was named.
    api(life, "POST", f"incidents/{incident}/roles", role="commander", person="a", by="d")
    assert phases(life, incident)["detection"]["completed_at"] == "2026-11-28T06:49:00+00:00"
    life.clock.advance(minutes=45)  # 08:05: an update was due at 07:35 and at 07:50
    assert remind(life) == 1  # one reminder (the latest due), no second escalation
    assert kinds(life, incident).count("escalated") == 1

    # 08:10 d resolves and marks it actionable: all-clear, MTTR met, postmortem scheduled.
    life.clock.advance(minutes=5)
    api(life, "POST", f"incidents/{incident}/resolve", by="d", classification="actionable")
    view = api(life, "GET", f"incidents/{incident}/response")
    assert view["phase"] == "resolution"
    assert view["resolution"]["time_to_resolve_s"] == 85 * 60
    assert view["resolution"]["mttr_breached"] is False
    assert view["classification"] == "actionable"
    detail = life.incident(incident)
    assert (detail["resolved_by"], detail["classification"]) == ("d", "actionable")
    all_clear = {m.target: m for m in notifications(life, "all_clear")}
    assert set(all_clear) == {"ops-slack", "exec-hook"}
    assert all_clear["ops-slack"].text.startswith("[SEV1] - checkout - Resolved\n")
    items = checklist(life, incident)
    assert items["service_restored"]["by"] == "d"
    assert items["all_clear_sent"]["state"] == "done"
    assert items["postmortem_scheduled"]["state"] == "done"
    assert items["verified"]["state"] == "pending"  # resolved by hand: verify by hand
    assert [e.message for e in life.timeline(incident, "resolution_times")] == [
        "time to acknowledge 2m, time to resolve 1h 25m: SEV1's MTTR target of 4h met"
    ]

    # The postmortem draft is pre-filled; its milestones are reminded when overdue.
    draft = life.client.get(f"/api/v1/incidents/{incident}/postmortem").get_data(as_text=True)
    for heading in ("Summary", "Impact", "Timeline", "Root cause", "What went well"):
        assert heading in draft
    assert "CheckoutDown" in draft and "Rolling back payments-api 4.12.0" in draft
    life.clock.advance(hours=48, minutes=1)
    assert remind(life) == 1
    assert notifications(life, "postmortem_reminder")[0].text.startswith("a: postmortem draft")
    api(life, "POST", f"incidents/{incident}/postmortem/drafted", by="a")
    item = api(
        life, "POST", f"incidents/{incident}/actions", title="Canary the payments deploys", by="d"
    )
    api(life, "PATCH", f"actions/{item['id']}", by="d", owner="b", due="2026-12-05")
    assert api(life, "GET", "actions?overdue=true")["action_items"] == []
    life.clock.advance(days=7)
    [overdue] = api(life, "GET", "actions?overdue=true")["action_items"]
    assert overdue["owner"] == "b" and overdue["title"] == "Canary the payments deploys"
    api(life, "POST", f"actions/{item['id']}/close", by="b")
    assert api(life, "GET", "actions?overdue=true")["action_items"] == []


def test_sev3_goes_to_the_team_and_needs_no_reminders(life: Paging) -> None:
    incident = life.post(group("SlowSearch", severity="warning"))
    life.clock.advance(minutes=3)
    api(life, "POST", f"incidents/{incident}/ack", by="d")
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="d",
        status="identified",
        impact="Search is slow for some users",
        current_action="Adding a replica",
        eta="",
    )
    [message] = notifications(life, "status_update")
    assert (message.target, message.audience) == ("ops-slack", "team")
    assert "ETA: not known yet" in message.text
    life.clock.advance(hours=2)
    assert remind(life) == 0
    items = checklist(life, incident)
    assert items["war_room"]["state"] == "not_applicable"
    assert items["escalated_if_stuck"]["state"] == "not_applicable"
    api(life, "POST", f"incidents/{incident}/resolve", by="d", classification="noise", note="flap")
    assert "postmortem_scheduled" not in kinds(life, incident)  # SEV3: none by default
    assert api(life, "GET", f"incidents/{incident}/response")["classification"] == "noise"


def test_only_the_commander_changes_the_severity_and_paging_follows(life: Paging) -> None:
    incident = life.post(group("SlowSearch", severity="warning"))  # SEV3, not acknowledged
    api(life, "POST", f"incidents/{incident}/roles", role="commander", person="a", by="a")

    refused = life.client.post(
        f"/api/v1/incidents/{incident}/severity",
        json={"severity": "SEV1", "reason": "all search down", "by": "b"},
    )
    assert refused.status_code == 409
    assert refused.get_json()["error"] == (
        "only the Incident Commander (a) can change the severity"
    )

    api(life, "POST", f"incidents/{incident}/severity", severity="SEV1", reason="all down", by="a")
    assert life.incident(incident)["severity"] == "SEV1"
    [changed] = life.timeline(incident, "severity_changed")
    assert changed.message == (
        "severity changed from SEV3 to SEV1 by a (Incident Commander): all down"
    )
    life.run()
    assert sorted(life.paged()) == ["b", "d"]  # re-planned as SEV1: every layer at once

    # The IC's choice stands: a worse alert in the group no longer raises it.
    api(life, "POST", f"incidents/{incident}/severity", severity="SEV2", reason="partial", by="a")
    life.post(group("SlowSearch", severity="warning", impact_revenue="true", fingerprint="f2"))
    assert life.incident(incident)["severity"] == "SEV2"
    [kept] = life.timeline(incident, "severity_not_raised")
    assert "suggests SEV1; the severity stays SEV2 as set by a" in kept.message


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        (
            "updates",
            {"by": "d", "status": "fixed", "impact": "x", "current_action": "y"},
            400,
            "status: expected one of investigating, identified, monitoring, resolved, got 'fixed'",
        ),
        (
            "updates",
            {"by": "d", "status": "identified", "current_action": "y"},
            400,
            "impact: expected a non-empty string",
        ),
        (
            "roles",
            {"role": "boss", "person": "a", "by": "d"},
            400,
            "role: expected one of commander, technical_lead, communications_lead, scribe, "
            "got 'boss'",
        ),
        ("checklist/coffee", {"by": "d"}, 400, None),
        (
            "checklist/acknowledged",
            {"by": "d"},
            400,
            "item: acknowledged is not ticked by hand: acknowledge the incident "
            "(POST .../ack, onwatch incident ack)",
        ),
        (
            "severity",
            {"severity": "SEV9", "reason": "x", "by": "d"},
            400,
            "severity: expected one of SEV1, SEV2, SEV3, SEV4, got 'SEV9'",
        ),
        (
            "classification",
            {"classification": "meh", "by": "d"},
            400,
            "classification: expected actionable or noise, got 'meh'",
        ),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    life: Paging, path: str, body: dict[str, Any], status: int, error: str | None
) -> None:
    incident = life.post(group("SlowSearch", severity="warning"))
    before = kinds(life, incident)

    response = life.client.post(f"/api/v1/incidents/{incident}/{path}", json=body)

    assert response.status_code == status
    if error:
        assert response.get_json() == {"error": error}
    else:
        assert response.get_json()["error"].startswith("item: unknown checklist item 'coffee'")
    assert kinds(life, incident) == before
    assert notifications(life) == []


def test_unknown_incident_is_404_and_resolved_incident_takes_no_updates(life: Paging) -> None:
    missing = life.client.post(
        "/api/v1/incidents/99/updates",
        json={"by": "d", "status": "identified", "impact": "x", "current_action": "y"},
    )
    assert missing.status_code == 404 and missing.get_json() == {"error": "no incident 99"}

    incident = life.post(group("SlowSearch", severity="warning"))
    api(life, "POST", f"incidents/{incident}/resolve", by="d")
    late = life.client.post(
        f"/api/v1/incidents/{incident}/updates",
        json={"by": "d", "status": "identified", "impact": "x", "current_action": "y"},
    )
    assert late.status_code == 409
    assert late.get_json() == {"error": f"incident {incident} is resolved: post no more updates"}


def test_a_resolved_update_resolves_with_the_all_clear(life: Paging) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.clock.advance(minutes=20)
    posted = api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="d",
        status="resolved",
        impact="Checkout was down for 20 minutes",
        current_action="Rolled back",
    )
    assert posted["resolved"] is True
    assert life.incident(incident)["status"] == "resolved"
    assert {m.target for m in notifications(life)} == {"ops-slack", "exec-hook"}
    assert {m.topic for m in notifications(life)} == {"all_clear"}


def test_the_all_clear_supersedes_updates_not_yet_delivered(life: Paging) -> None:
    incident = life.post(group("SlowSearch", severity="warning"))
    update = {"by": "d", "status": "identified", "impact": "Slow", "current_action": "Scale"}
    api(life, "POST", f"incidents/{incident}/updates", **update)
    api(life, "POST", f"incidents/{incident}/resolve", by="d")
    by_topic = {m.topic: m.status for m in notifications(life)}
    assert by_topic == {"status_update": "cancelled", "all_clear": "pending"}


def test_classifying_an_incident_alertmanager_resolved(life: Paging) -> None:
    incident = life.post(group("SlowSearch", severity="warning"))
    life.post(group("SlowSearch", severity="warning", status="resolved"))
    answer = api(life, "POST", f"incidents/{incident}/resolve", by="d", classification="noise")
    assert answer["changed"] is True
    assert life.incident(incident)["classification"] == "noise"


def test_alertmanager_resolution_is_verified_by_monitoring(life: Paging) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.clock.advance(hours=5)  # past SEV1's 4-hour target
    life.post(group("CheckoutDown", impact_revenue="true", status="resolved"))
    items = checklist(life, incident)
    assert items["verified"]["state"] == "done" and items["verified"]["by"] == "Alertmanager"
    view = api(life, "GET", f"incidents/{incident}/response")
    assert view["resolution"]["mttr_breached"] is True
    [times] = life.timeline(incident, "resolution_times")
    assert times.message.endswith("SEV1's MTTR target of 4h BREACHED")
    assert view["phases"][0]["items"][2]["state"] == "pending"  # no Slack: no channel created


def test_mitigation_ticked_by_hand_stops_the_no_progress_escalation(life: Paging) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.run()
    life.clock.advance(minutes=2)
    api(life, "POST", f"incidents/{incident}/ack", by="d")
    life.clock.advance(minutes=8)
    api(
        life,
        "POST",
        f"incidents/{incident}/checklist/mitigation_attempted",
        by="d",
        note="rolled back the deploy",
    )
    life.clock.advance(minutes=25)  # 35 minutes after opening
    remind(life)
    assert "escalated" not in kinds(life, incident)
    item = checklist(life, incident)["escalated_if_stuck"]
    assert item["state"] == "not_applicable"


def test_stuck_escalation_climbs_while_the_previous_one_is_undelivered(life: Paging) -> None:
    incident = life.post(group("SlowCheckout", impact_critical_workflow="true"))  # SEV2
    life.run()  # primary d paged (level 0)
    life.clock.advance(minutes=2)
    api(life, "POST", f"incidents/{incident}/ack", by="d")
    life.fake.set_down(True)  # PagerDuty is down: escalations stay undelivered
    life.clock.advance(minutes=28)
    remind(life)  # 30 minutes: level 1 (secondary)
    life.run()
    life.clock.advance(minutes=30)
    remind(life)  # 60 minutes: level 2 (escalation target), although level 1 is pending
    escalated = [e.data["level"] for e in life.timeline(incident, "escalated")]
    assert escalated == [1, 2]


def test_a_configured_template_that_fails_does_not_block_the_update(
    make_app: Any, store: Any, clock: Any, fake: Any, tmp_path: Any
) -> None:
    template = tmp_path / "internal.j2"
    # Fine on the sample incidents checked at start; fails on an ETA of one word.
    template.write_text("{% if update %}next: {{ update.eta.split()[1] }}{% endif %}\n")
    config = response_config(fake)
    config["notifications"]["templates"] = {"internal": str(template)}
    life = make_paging(make_app, store, clock, fake, config)
    incident = life.post(group("SlowSearch", severity="warning"))
    posted = api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="d",
        status="identified",
        impact="Search is slow",
        current_action="Adding a replica",
        eta="soon",
    )
    assert posted["queued_for"] == ["ops-slack"]
    [message] = notifications(life, "status_update")
    assert message.text.startswith("[SEV3] - checkout - Identified\n")  # the built-in one
    [entry] = life.timeline(incident, "status_update")
    assert "the configured template failed, the built-in one was used" in entry.message


def test_the_team_hears_its_incident_at_every_severity(life: Paging) -> None:
    # SEV1's audiences (exec, all-hands) happen to include the team's Slack; SEV2's
    # (leadership, affected teams) do not: the team must still hear its own incident.
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.clock.advance(minutes=2)
    api(life, "POST", f"incidents/{incident}/ack", by="d")  # d leads
    api(
        life,
        "POST",
        f"incidents/{incident}/severity",
        severity="SEV2",
        reason="PayPal works",
        by="d",
    )
    life.clock.advance(minutes=3)
    posted = api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="d",
        status="identified",
        impact="Card payments fail for 30% of customers",
        current_action="Rolling back payments-api",
    )
    assert posted["queued_for"] == ["exec-hook", "ops-slack"]
    by_target = {m.target: m for m in notifications(life, "status_update")}
    assert by_target["ops-slack"].audience == "team"
    assert by_target["ops-slack"].text.startswith("[SEV2] - checkout - Identified\n")
    assert by_target["exec-hook"].audience == "leadership"

    api(life, "POST", f"incidents/{incident}/resolve", by="d")
    all_clear = {m.target: m.audience for m in notifications(life, "all_clear")}
    assert all_clear == {"exec-hook": "leadership", "ops-slack": "team"}


def test_the_executive_update_shows_the_change_of_severity(life: Paging) -> None:
    incident = life.post(group("SlowCheckout", impact_critical_workflow="true"))  # SEV2
    life.clock.advance(minutes=2)
    api(life, "POST", f"incidents/{incident}/ack", by="d")
    life.clock.advance(minutes=1)
    api(
        life,
        "POST",
        f"incidents/{incident}/severity",
        severity="SEV1",
        reason="card payments\nfail for everyone",
        by="d",
    )
    life.clock.advance(minutes=2)
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="d",
        status="investigating",
        impact="Card payments fail for every customer",
        current_action="Checking the payments deploy",
    )
    [executive] = [m for m in notifications(life, "status_update") if m.target == "exec-hook"]
    timeline = executive.text[executive.text.index("Timeline\n") :].splitlines()
    assert timeline[1:5] == [
        "- 06:45 UTC: Opened",
        "- 06:47 UTC: Acknowledged by d (2m after opening)",
        "- 06:48 UTC: Severity raised from SEV2 to SEV1 by d (card payments fail for everyone)",
        "- 06:50 UTC: Investigating (update by d)",
    ]


def test_the_executive_update_says_what_the_customer_communication_tick_said(
    life: Paging,
) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.clock.advance(minutes=2)
    api(
        life,
        "POST",
        f"incidents/{incident}/checklist/customer_communication",
        by="e",
        note="drafted",
    )
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="e",
        status="investigating",
        impact="Checkout fails for every customer",
        current_action="Checking the deploy",
    )
    [executive] = [m for m in notifications(life, "status_update") if m.target == "exec-hook"]
    assert "Customers informed" not in executive.text
    assert (
        'Customer communication\n"Customer communication drafted if needed" ticked 06:47 UTC '
        "by e: drafted\n" in executive.text
    )


def test_the_all_clear_and_postmortem_state_the_impact_at_its_worst(life: Paging) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    update = {"by": "d", "current_action": "Rolling back"}
    life.clock.advance(minutes=5)
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        status="identified",
        impact="Checkout fails for every customer",
        **update,
    )
    life.clock.advance(minutes=10)
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        status="monitoring",
        impact="errors back to baseline",
        **update,
    )
    api(life, "POST", f"incidents/{incident}/resolve", by="d")
    all_clear = {m.target: m.text for m in notifications(life, "all_clear")}
    assert (
        all_clear["ops-slack"]
        .splitlines()[1]
        .startswith("Impact: Checkout fails for every customer (at its worst;")
    )
    assert (
        "Business impact at its worst\nCheckout fails for every customer\n"
        in all_clear["exec-hook"]
    )
    draft = life.client.get(f"/api/v1/incidents/{incident}/postmortem").get_data(as_text=True)
    assert (
        "- **Users affected:** Checkout fails for every customer (at its worst: update of "
        "2026-11-28 06:50 UTC by d)\n" in draft
    )


def test_role_holders_are_configured_people_or_marked_external(life: Paging) -> None:
    incident = life.post(group("SlowSearch", severity="warning"))
    path = f"/api/v1/incidents/{incident}/roles"
    before = kinds(life, incident)
    for body, error in (
        (
            {"role": "commander", "person": "nosuchperson", "by": "d"},
            "person: 'nosuchperson' is not one of the configured people (people:); to name "
            'someone outside the rota, say so: --external on the command line, "external": '
            "true in the API",
        ),
        ({"role": "commander", "person": " ", "by": "d"}, "person: expected a non-empty name"),
        ({"role": "commander", "by": "d"}, "person: expected a non-empty name"),
        (
            {"role": "commander", "person": "Vic", "by": "d", "external": "yes"},
            "external: expected true or false",
        ),
    ):
        refused = life.client.post(path, json=body)
        assert refused.status_code == 400, body
        assert refused.get_json() == {"error": error}
    assert kinds(life, incident) == before

    named = api(
        life,
        "POST",
        f"incidents/{incident}/roles",
        role="technical_lead",
        person="Vic",
        by="d",
        external=True,
    )
    assert named["message"] == "Vic is now Technical Lead, named by d (outside the rota)"
    [entry] = life.timeline(incident, "role_assigned")
    assert entry.data["external"] is True and entry.data["person"] == "Vic"
    named = api(life, "POST", f"incidents/{incident}/roles", role="scribe", person="f", by="d")
    assert named["message"] == "f is now Scribe, named by d"


def test_response_text_with_nul_is_stored_replaced(life: Paging) -> None:
    # PostgreSQL's text cannot hold NUL: each of these once answered 500 there.
    incident = life.post(group())
    nul = "\u0000"

    api(
        life,
        "POST",
        f"incidents/{incident}/roles",
        role="scribe",
        person=f"e{nul}",
        by=f"d{nul}",
        external=True,
    )
    api(life, "POST", f"incidents/{incident}/checklist/war_room", by="d", note=f"bridge{nul}")
    api(
        life,
        "POST",
        f"incidents/{incident}/updates",
        by="d",
        status="investigating",
        impact=f"checkout{nul} slow",
        current_action="looking",
    )

    view = api(life, "GET", f"incidents/{incident}/response")
    assert view["roles"]["scribe"] == {
        **view["roles"]["scribe"],
        "person": "e\ufffd",
        "by": "d\ufffd",
    }
    assert view["updates"][0]["impact"] == "checkout\ufffd slow"
    assert checklist(life, incident)["war_room"]["note"] == "bridge\ufffd"


def test_the_executive_all_clear_shows_the_change_of_severity(life: Paging) -> None:
    incident = life.post(group("CheckoutDown", impact_revenue="true"))
    life.clock.advance(minutes=2)
    api(life, "POST", f"incidents/{incident}/ack", by="d")
    api(
        life,
        "POST",
        f"incidents/{incident}/severity",
        severity="SEV2",
        reason="PayPal works",
        by="d",
    )
    life.clock.advance(minutes=3)
    api(life, "POST", f"incidents/{incident}/resolve", by="d")
    [executive] = [m for m in notifications(life, "all_clear") if m.target == "exec-hook"]
    assert "- 06:47 UTC: Severity lowered from SEV1 to SEV2 by d (PayPal works)\n" in executive.text
