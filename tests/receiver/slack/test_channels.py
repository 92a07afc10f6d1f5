"""Incident channels in Slack, end to end: a real Alertmanager capture opens an incident, the
Slack dispatcher makes its channel in a fake Slack over HTTP, people act from Slack."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlmodel import Session

from receiver.delivery.outbox import CANCELLED, FAILED, PENDING
from receiver.slack.text import slack_name
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import group
from tests.support.slack import SLACK_USERS, SlackHarness

D = SLACK_USERS["d@example.com"]  # primary on call at the clock's start (week of Nov 23)


def checklist_item(h: SlackHarness, incident_id: int, key: str) -> dict[str, object]:
    body = h.client.get(f"/api/v1/incidents/{incident_id}/response").get_json()
    items = [item for phase in body["phases"] for item in phase["items"]]
    return next(item for item in items if item["key"] == key)


def test_channel_lifecycle_end_to_end(harness: SlackHarness) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    incident = h.paging.incident(incident_id)
    assert checklist_item(h, incident_id, "channel_named")["state"] == "pending"

    h.run()
    name = slack_name(incident["channel"])
    assert name == "inc-20261128-higherrorrate-checkout"
    channel = h.slack.channel_named(name)
    assert channel is not None and not channel.is_private
    assert f"onwatch #{incident_id}" in channel.topic and "SEV" in channel.topic
    opening = channel.messages[0]
    assert "HighErrorRate" in opening["text"] and "runbook" in opening["text"]
    buttons = opening["blocks"][1]["elements"]
    assert [b["action_id"] for b in buttons] == ["onwatch_ack", "onwatch_resolve"]
    announced = h.slack.channel_named("incidents")
    assert announced is not None and f"<#{channel.id}>" in announced.messages[0]["text"]
    stored = h.channel(incident_id)
    assert stored is not None and stored.channel_id == channel.id and stored.name == name
    item = checklist_item(h, incident_id, "channel_named")
    assert item["state"] == "done" and item["by"] == "Slack"

    h.paging.run()  # d is paged: invited and named in the channel
    h.run()
    assert D in channel.members
    assert any(f"paged <@{D}>" in m["text"] for m in channel.messages)

    answer = h.command("ack", user=D, channel=channel.id)
    assert answer.status_code == 200
    assert answer.get_json()["response_type"] == "in_channel", answer.get_json()
    assert h.paging.incident(incident_id)["acknowledged_by"] == "d"
    triggers = [m for m in h.paging.messages(incident_id) if m.action == "trigger"]
    assert not [m for m in triggers if m.status == PENDING]  # escalation stopped
    assert any(m.status == CANCELLED for m in triggers)

    answer = h.command(
        "update investigating checkout fails for 12% | rolling back | 30 minutes",
        user=D,
        channel=channel.id,
    )
    assert answer.get_json()["response_type"] == "in_channel", answer.get_json()
    h.run()
    texts = [m["text"] for m in channel.messages]
    assert any(f"acknowledged by <@{D}>" in t for t in texts)
    update = next(t for t in texts if "rolling back" in t)
    assert "checkout fails for 12%" in update and "nvestigating" in update

    h.paging.post(group("HighErrorRate", status="resolved"))
    h.run()
    assert "resolved" in channel.messages[-1]["text"].lower()  # the all-clear
    assert not channel.archived
    assert checklist_item(h, incident_id, "channel_archived")["state"] == "pending"

    h.clock.advance(hours=24)
    h.run()
    assert channel.archived
    assert checklist_item(h, incident_id, "channel_archived")["state"] == "done"
    assert h.slack.called("conversations.delete") == []


def test_slack_down_for_the_whole_opening_creates_the_channel_once(harness: SlackHarness) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.slack.set_down(True)
    for _ in range(3):
        h.run()
        h.clock.advance(minutes=10)
    assert h.channel(incident_id).channel_id == ""  # type: ignore[union-attr]
    assert checklist_item(h, incident_id, "channel_named")["state"] == "pending"
    h.slack.set_down(False)
    for _ in range(3):
        h.run()
        h.clock.advance(minutes=10)
    assert len(h.slack.ok("conversations.create")) == 1
    assert len(h.slack.called("conversations.create")) == 1
    channel = h.slack_channel(incident_id)
    assert channel is not None and len(channel.messages) == 1  # the opening, once
    assert {c.status for c in h.calls(incident_id)} == {"sent"}


def test_ratelimited_is_retried_after_its_retry_after(harness: SlackHarness) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.slack.fail_next(1, status=429, error="ratelimited", retry_after="120")
    h.run()
    create = next(c for c in h.calls(incident_id) if c.action == "create")
    assert create.status == PENDING and create.attempts == 1
    assert create.next_attempt_at >= h.clock() + __import__("datetime").timedelta(seconds=120)
    h.clock.advance(seconds=60)
    h.run()
    assert len(h.slack.called("conversations.create")) == 1  # still waiting for Retry-After
    h.clock.advance(seconds=61)
    h.run()
    assert len(h.slack.ok("conversations.create")) == 1


def test_name_taken_gets_a_suffix_and_the_incident_records_it(harness: SlackHarness) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    wanted = slack_name(h.paging.incident(incident_id)["channel"])
    h.slack.taken.add(wanted)
    h.run()
    stored = h.channel(incident_id)
    assert stored is not None and stored.name == wanted + "-2"
    assert h.slack.channel_named(wanted + "-2") is not None
    entry = h.paging.timeline(incident_id, "slack_channel_created")[0]
    assert "taken" in entry.message and stored.channel_id in entry.message


def test_a_permanent_refusal_fails_at_once_and_shows(harness: SlackHarness) -> None:
    h = harness
    h.slack.refuse("conversations.create", "missing_scope")
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    h.clock.advance(hours=1)
    h.run()
    assert len(h.slack.called("conversations.create")) == 1  # not retried
    failed = h.paging.timeline(incident_id, "slack_failed")
    assert len(failed) == 1 and "missing_scope" in failed[0].message  # said once
    assert ("create", FAILED) in h.outcomes
    item = checklist_item(h, incident_id, "channel_named")
    assert item["state"] == "pending" and "missing_scope" in str(item["note"])
    # What was to be said in the channel fails too, visibly, instead of waiting for ever.
    assert {c.status for c in h.calls(incident_id)} == {FAILED}
    before = len(h.calls(incident_id))
    h.client.post(f"/api/v1/incidents/{incident_id}/ack", json={"by": "d"})
    assert len(h.calls(incident_id)) == before  # nothing more is queued for a channel never made


def test_without_slack_the_channel_items_stay_open_with_a_note(
    make_app: Callable[..., Flask], fake: FakePagerDuty
) -> None:
    from tests.support.paging import paging_config

    client = make_app(**paging_config(fake)).test_client()
    from tests.support.alertmanager import post_alerts

    incident_id = post_alerts(client, group("HighErrorRate")).get_json()["incident_id"]
    body = client.get(f"/api/v1/incidents/{incident_id}/response").get_json()
    items = {i["key"]: i for p in body["phases"] for i in p["items"]}
    for key in ("channel_named", "channel_archived"):
        assert items[key]["state"] == "pending"
        assert "Slack is off" in items[key]["note"]
    ticked = client.post(
        f"/api/v1/incidents/{incident_id}/checklist/channel_named",
        json={"by": "d", "note": "made #inc by hand"},
    )
    assert ticked.status_code == 200, ticked.get_json()


def test_finished_slack_calls_are_pruned_with_the_outboxes(harness: SlackHarness) -> None:
    from datetime import timedelta

    from receiver.delivery.retention import prune_finished_messages

    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    h.paging.post(group("HighErrorRate", status="resolved"))
    h.clock.advance(days=1, minutes=1)
    h.run()
    assert h.channel(incident_id).archived_at is not None  # type: ignore[union-attr]
    assert h.calls(incident_id)
    h.clock.advance(days=31)
    prune_finished_messages(h.paging.store, now=h.clock(), older_than=timedelta(days=30))
    assert h.calls(incident_id) == []
    assert h.channel(incident_id).archived_at is not None  # type: ignore[union-attr]


def test_role_holders_are_invited_and_mentioned_and_the_topic_names_the_ic(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    channel = h.slack_channel(incident_id)
    assert channel is not None and "IC: not named yet" in channel.topic
    b = SLACK_USERS["b@example.com"]
    assert h.command(f"role commander <@{b}>", user=D, channel=channel.id).status_code == 200
    assert h.command(f"role comms <@{D}>", user=b, channel=channel.id).status_code == 200
    h.run()
    assert {b, D} <= channel.members
    texts = [m["text"] for m in channel.messages]
    assert any(t.startswith(f"<@{b}> is now Incident Commander") for t in texts)
    assert any(t.startswith(f"<@{D}> is now Communications Lead") for t in texts)
    assert "IC: b" in channel.topic


def test_a_no_progress_escalation_is_posted(harness: SlackHarness) -> None:
    from receiver.response.reminders import run_response_reminders

    h = harness
    incident_id = h.paging.post(group("CheckoutDown", impact_revenue="true"))  # SEV1
    h.run()
    h.command(f"ack {incident_id}", user=D)
    h.clock.advance(minutes=31)
    svc = h.paging.app.extensions["onwatch"]
    run_response_reminders(h.paging.store, svc.response, h.clock())
    h.run()
    channel = h.slack_channel(incident_id)
    assert channel is not None
    assert any("no progress: escalating to ops" in m["text"] for m in channel.messages)


def test_a_worse_alert_raising_the_severity_is_posted_and_the_topic_follows(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    before = h.paging.incident(incident_id)["severity"]
    channel = h.slack_channel(incident_id)
    assert channel is not None and before in channel.topic
    h.clock.advance(minutes=1)
    h.paging.post(group("HighErrorRate", fingerprint="f" * 16, impact_revenue="true"))
    assert h.paging.incident(incident_id)["severity"] == "SEV1" != before
    h.run()
    assert any(f"severity raised from {before} to SEV1" in m["text"] for m in channel.messages)
    assert channel.topic.startswith("SEV1 | open")


def test_what_happens_after_the_resolution_is_posted_before_the_archive(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    h.paging.post(group("HighErrorRate", status="resolved"))
    h.run()
    h.clock.advance(minutes=5)
    named = h.client.post(
        f"/api/v1/incidents/{incident_id}/roles", json={"role": "scribe", "person": "a", "by": "d"}
    )
    assert named.status_code == 200, named.get_json()
    h.run()  # not held back behind the archive, due a day later
    channel = h.slack_channel(incident_id)
    assert channel is not None and not channel.archived
    assert "is now Scribe" in channel.messages[-1]["text"]
    h.clock.advance(days=1)
    h.run()
    assert channel.archived
    h.client.post(
        f"/api/v1/incidents/{incident_id}/roles", json={"role": "scribe", "person": "b", "by": "d"}
    )
    pending = [c for c in h.calls(incident_id) if c.status == PENDING]
    assert pending == []  # nothing is queued for an archived channel


def test_a_create_whose_answer_was_lost_adopts_the_channel_slack_made(
    harness: SlackHarness,
) -> None:
    h = harness
    for n in range(3):  # other channels, so that the search goes over pages
        h.slack.make_channel(f"general-{n}", creator="UHUMAN001", created=0)
    h.slack.page_size = 2
    h.slack.lose_next_create(500)
    incident_id = h.paging.post(group("HighErrorRate"))
    wanted = slack_name(h.paging.incident(incident_id)["channel"])
    h.run()
    made = h.slack.channel_named(wanted)
    assert made is not None  # Slack made it, onwatch never heard
    assert h.channel(incident_id).channel_id == ""  # type: ignore[union-attr]
    for _ in range(3):
        h.clock.advance(minutes=10)
        h.run()
    stored = h.channel(incident_id)
    assert stored is not None and (stored.name, stored.channel_id) == (wanted, made.id)
    assert h.slack.channel_named(wanted + "-2") is None  # no second channel
    assert len(h.slack.called("conversations.list")) >= 2  # paged
    assert len(made.messages) == 1 and "HighErrorRate" in made.messages[0]["text"]
    entry = h.paging.timeline(incident_id, "slack_channel_created")[0]
    assert "lost" in entry.message and made.id in entry.message
    assert checklist_item(h, incident_id, "channel_named")["state"] == "done"


@pytest.mark.parametrize("whose", ["someone else's", "the bot's, from before the incident"])
def test_a_retried_create_takes_a_suffix_when_the_channel_is_not_its_own(
    harness: SlackHarness, whose: str
) -> None:
    from tests.support.fake_slack import BOT_USER

    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    wanted = slack_name(h.paging.incident(incident_id)["channel"])
    if whose == "someone else's":
        other = h.slack.make_channel(wanted, creator="UHUMAN001", created=h.clock().timestamp())
    else:
        other = h.slack.make_channel(wanted, creator=BOT_USER, created=h.clock().timestamp() - 3600)
    h.slack.fail_next(1, status=500)  # the first attempt fails: the second is a retry
    h.run()
    h.clock.advance(minutes=10)
    h.run()
    assert h.slack.called("conversations.list")  # it did look
    stored = h.channel(incident_id)
    assert stored is not None and stored.name == wanted + "-2" and stored.channel_id != other.id
    assert other.messages == []


def test_a_retried_create_never_adopts_another_incidents_channel(harness: SlackHarness) -> None:
    from receiver.slack.models import SlackChannel
    from tests.support.fake_slack import BOT_USER

    h = harness
    first = h.paging.post(group("CheckoutDown"))
    h.run()
    second = h.paging.post(group("HighErrorRate"))
    wanted = slack_name(h.paging.incident(second)["channel"])
    # A channel of that name the bot made just now, which onwatch holds as the first's.
    other = h.slack.make_channel(wanted, creator=BOT_USER, created=h.clock().timestamp())

    def hold(session: Session) -> None:
        row = session.get(SlackChannel, first)
        assert row is not None
        row.channel_id = other.id
        session.add(row)

    h.paging.store.write(hold)
    h.slack.fail_next(1, status=500)
    h.run()
    h.clock.advance(minutes=10)
    h.run()
    stored = h.channel(second)
    assert stored is not None and stored.name == wanted + "-2" and stored.channel_id != other.id


def test_the_topic_follows_the_acknowledgement_the_updates_and_the_resolution(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    channel = h.slack_channel(incident_id)
    assert channel is not None and " | open | " in channel.topic
    h.command("ack", user=D, channel=channel.id)
    h.run()
    assert " | acknowledged | " in channel.topic
    h.command("update identified bad deploy | rolling back", user=D, channel=channel.id)
    h.run()
    assert " | identified | " in channel.topic
    h.command("update monitoring error rate back to 0.1% | watching", user=D, channel=channel.id)
    h.run()
    assert " | monitoring | " in channel.topic
    h.paging.post(group("HighErrorRate", status="resolved"))
    h.run()
    assert " | resolved | " in channel.topic


def test_the_opening_message_is_redrawn_however_the_incident_was_acknowledged_and_resolved(
    harness: SlackHarness,
) -> None:
    h = harness
    incident_id = h.paging.post(group("HighErrorRate"))
    h.run()
    channel = h.slack_channel(incident_id)
    assert channel is not None
    opening = channel.messages[0]
    text = opening["text"]
    acked = h.client.post(f"/api/v1/incidents/{incident_id}/ack", json={"by": "d"})
    assert acked.status_code == 200, acked.get_json()
    h.run()
    updated = h.slack.ok("chat.update")
    assert len(updated) == 1 and updated[0].args["ts"] == opening["ts"]
    assert opening["text"] == text  # the same message, its text kept
    assert f"Acknowledged by <@{D}>" in opening["blocks"][1]["elements"][0]["text"]
    assert [b["action_id"] for b in opening["blocks"][2]["elements"]] == ["onwatch_resolve"]

    h.paging.post(group("HighErrorRate", status="resolved"))
    h.run()
    assert len(h.slack.ok("chat.update")) == 2
    assert [b["type"] for b in opening["blocks"]] == ["section", "context"]  # no buttons left
    assert "Resolved by Alertmanager" in opening["blocks"][1]["elements"][0]["text"]
