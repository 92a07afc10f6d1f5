"""Driving an incident from Slack: `/onwatch` and the buttons, signed with the signing secret,
acting as the onwatch person the Slack user is, through the API's own use cases."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.fake_slack import FakeSlack
from tests.support.paging import group, make_paging
from tests.support.slack import SLACK_USERS, SlackHarness, slack_config

D, B = SLACK_USERS["d@example.com"], SLACK_USERS["b@example.com"]


def test_a_forged_signature_is_refused_and_changes_nothing(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    answer = harness.command(f"ack {incident_id}", user=D, secret="not-the-secret")
    assert answer.status_code == 401
    assert "signature" in answer.get_json()["error"]
    assert harness.paging.incident(incident_id)["acknowledged_at"] is None


def test_a_replayed_request_older_than_5_minutes_is_refused(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    stale = harness.clock().timestamp() - 5 * 60 - 1
    answer = harness.command(f"ack {incident_id}", user=D, at=stale)
    assert answer.status_code == 401
    assert harness.paging.incident(incident_id)["acknowledged_at"] is None


def test_an_unsigned_request_from_anywhere_is_refused(harness: SlackHarness) -> None:
    answer = harness.client.post(
        "/api/v1/slack/commands",
        data="text=help",
        content_type="application/x-www-form-urlencoded",
        headers={"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
    )
    assert answer.status_code == 401


def test_a_signed_command_passes_the_api_guard_without_the_api_token(
    make_app: Callable[..., Flask],
    store: Store,
    clock: Clock,
    fake: FakePagerDuty,
    slack: FakeSlack,
) -> None:
    config = {**slack_config(fake, slack), "api": {"bearer_token": "api-token-of-onwatch"}}
    paging = make_paging(make_app, store, clock, fake, config)
    harness = SlackHarness(paging, slack, dispatcher=None, outcomes=[])  # type: ignore[arg-type]
    assert paging.client.get("/api/v1/incidents").status_code == 401  # the guard is on
    answer = harness.command("help", user=D)
    assert answer.status_code == 200 and "/onwatch" in answer.get_json()["text"]
    forged = harness.command("help", user=D, secret="wrong")
    assert forged.status_code == 401


def test_an_unknown_slack_user_is_told_who_they_are_not(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    answer = harness.command(f"ack {incident_id}", user="UNOBODY01")
    body = answer.get_json()
    assert answer.status_code == 200 and body["response_type"] == "ephemeral"
    assert "UNOBODY01" in body["text"] and "people" in body["text"]
    assert harness.paging.incident(incident_id)["acknowledged_at"] is None


def test_an_unknown_command_is_named(harness: SlackHarness) -> None:
    body = harness.command("reboot everything", user=D).get_json()
    assert body["response_type"] == "ephemeral" and "'reboot'" in body["text"]


def test_elsewhere_a_command_takes_the_incident_id(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    missing = harness.command("ack", user=D).get_json()
    assert "needs an incident" in missing["text"]
    assert harness.command("ack 999999", user=D).get_json()["text"].endswith("no incident 999999")
    done = harness.command(f"ack {incident_id}", user=D).get_json()
    assert done["response_type"] == "in_channel"
    assert harness.paging.incident(incident_id)["acknowledged_by"] == "d"


def test_a_rule_refusal_is_an_ephemeral_message(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    harness.command(f"ack {incident_id}", user=D)  # d leads: the IC by default
    body = harness.command(f"severity {incident_id} SEV1 checkout down", user=B).get_json()
    assert body["response_type"] == "ephemeral"
    assert "only the Incident Commander (d)" in body["text"]
    assert harness.paging.incident(incident_id)["severity"] != "SEV1"


def test_role_names_a_person_by_their_slack_mention(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    body = harness.command(f"role {incident_id} comms <@{B}|b>", user=D).get_json()
    assert body["response_type"] == "in_channel", body
    assert "b is now Communications Lead" in body["text"]


def test_the_acknowledge_button_acknowledges_and_answers_through_response_url(
    harness: SlackHarness,
) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    answer = harness.click("onwatch_ack", incident_id, user=D)
    assert answer.status_code == 200
    told = harness.wait_for_response_url()
    assert "acknowledged by d" in told[0]["text"]
    assert harness.paging.incident(incident_id)["acknowledged_by"] == "d"


def test_status_and_oncall_answer_without_changing_anything(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    status = harness.command(f"status {incident_id}", user=D).get_json()
    assert "not acknowledged" in status["text"]
    oncall = harness.command("oncall ops", user=D).get_json()
    assert "ops primary: d" in oncall["text"]
    assert "no rotation 'nope'" in harness.command("oncall nope", user=D).get_json()["text"]


def test_work_slower_than_slacks_3_seconds_is_reported_through_response_url(
    harness: SlackHarness,
) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    harness.slack.slow("users.info", 3.0)  # who d is in onwatch is not known yet
    started = time.monotonic()
    answer = harness.command(f"ack {incident_id}", user=D)
    assert time.monotonic() - started < 3.0
    assert answer.get_json() == {"response_type": "ephemeral", "text": "working on it…"}
    told = harness.wait_for_response_url()
    assert told[0]["text"] == f"incident #{incident_id} acknowledged by d"
    assert told[0]["response_type"] == "in_channel"
    assert harness.paging.incident(incident_id)["acknowledged_by"] == "d"


def test_text_every_database_cannot_store_is_made_storable(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    body = harness.command(
        f"update {incident_id} investigating users see \x00 errors | rolling back", user=D
    ).get_json()
    assert body["response_type"] == "in_channel", body


def test_update_alone_opens_the_form_and_its_submission_posts_the_update(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    channel = h.slack_channel(incident_id)
    assert channel is not None
    answer = h.command("update", user=D, channel=channel.id, trigger_id="T-42")
    assert answer.status_code == 200 and answer.get_data() == b""  # Slack shows the form
    opened = h.slack.ok("views.open")
    assert len(opened) == 1 and opened[0].args["trigger_id"] == "T-42"
    view = opened[0].args["view"]
    assert view["private_metadata"] == str(incident_id)
    assert [b["block_id"] for b in view["blocks"]] == ["status", "impact", "action", "eta"]

    submitted = h.submit(
        view,
        {"status": "identified", "impact": "checkout fails for 12%", "action": "rolling back"},
        user=D,
    )
    assert submitted.status_code == 200 and submitted.get_data() == b""  # the form closes
    body = h.client.get(f"/api/v1/incidents/{incident_id}/response").get_json()
    update = body["updates"][-1]
    assert (update["status"], update["impact"], update["current_action"], update["by"]) == (
        "identified",
        "checkout fails for 12%",
        "rolling back",
        "d",
    )
    h.run()
    assert any("rolling back" in m["text"] for m in channel.messages)  # the internal template


def test_a_refused_form_field_is_named_beside_the_field_and_nothing_is_posted(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.command(f"update {incident_id}", user=D)
    view = h.slack.ok("views.open")[0].args["view"]
    no_impact = h.submit(view, {"status": "investigating", "action": "looking"}, user=D)
    assert no_impact.status_code == 200
    assert no_impact.get_json()["response_action"] == "errors"
    assert "who is affected" in no_impact.get_json()["errors"]["impact"]
    bad_status = h.submit(view, {"status": "panicking", "impact": "x", "action": "y"}, user=D)
    assert "expected one of" in bad_status.get_json()["errors"]["status"]
    stranger = h.submit(view, {"status": "identified", "impact": "x", "action": "y"}, user="UX1")
    assert "UX1" in stranger.get_json()["errors"]["status"]
    long = h.submit(view, {"status": "identified", "impact": "x" * 1001, "action": "y"}, user=D)
    assert long.get_json()["errors"] == {"impact": "at most 1000 characters"}
    body = h.client.get(f"/api/v1/incidents/{incident_id}/response").get_json()
    assert body["updates"] == []


def test_a_forged_form_submission_is_refused(harness: SlackHarness) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    harness.command(f"update {incident_id}", user=D)
    view = harness.slack.ok("views.open")[0].args["view"]
    payload = {"type": "view_submission", "user": {"id": D}, "view": view}
    forged = harness.signed(
        "/api/v1/slack/interactions", {"payload": __import__("json").dumps(payload)}, secret="x"
    )
    assert forged.status_code == 401


def test_a_click_replaces_the_opening_message_with_who_acted_and_the_buttons_left(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    channel = h.slack_channel(incident_id)
    assert channel is not None
    opening = channel.messages[0]
    shown = {"text": opening["text"], "blocks": opening["blocks"], "ts": "1.1"}
    h.click("onwatch_ack", incident_id, user=D, message=shown)
    replaced = h.wait_for_response_url()[0]
    assert replaced["replace_original"] is True
    assert replaced["blocks"][0] == opening["blocks"][0]  # the opening text kept
    assert f"Acknowledged by <@{D}>" in replaced["blocks"][1]["elements"][0]["text"]
    assert [b["action_id"] for b in replaced["blocks"][2]["elements"]] == ["onwatch_resolve"]

    h.click("onwatch_resolve", incident_id, user=D, message={**shown, "blocks": replaced["blocks"]})
    resolved = h.wait_for_response_url(2)[1]
    assert resolved["replace_original"] is True
    assert f"Resolved by <@{D}>" in resolved["blocks"][1]["elements"][0]["text"]
    assert [b["type"] for b in resolved["blocks"]] == ["section", "context"]  # no buttons left
    assert h.paging.incident(incident_id)["status"] == "resolved"


def test_a_refused_click_is_told_to_the_clicker_alone(harness: SlackHarness) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.click("onwatch_ack", incident_id, user="UNOBODY01", message={"text": "x", "blocks": []})
    told = h.wait_for_response_url()
    refusal = next(t for t in told if "UNOBODY01" in t.get("text", ""))
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert h.paging.incident(incident_id)["acknowledged_at"] is None


def test_a_form_slack_will_not_open_is_answered_with_the_one_line_form(
    harness: SlackHarness,
) -> None:
    incident_id = harness.paging.post(group("HighErrorRate"))
    body = harness.command(f"update {incident_id}", user=D, trigger_id="").get_json()
    assert body["response_type"] == "ephemeral"
    assert "invalid_trigger_id" in body["text"] and "update <status>" in body["text"]
