"""Notifiers against a local endpoint on loopback: the wire formats, every answer class,
Retry-After, header secrets, Slack's block limits, and the webhook URL kept out of details.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from receiver.delivery.outcome import Delivery
from receiver.notify.notifiers import (
    Notice,
    SlackNotifier,
    WebhookNotifier,
    build_notifier,
    redact,
)
from receiver.notify.notifiers.slack import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    TEXT_LIMIT,
    TRUNCATED,
    escape,
    mrkdwn_sections,
    slack_message,
)
from receiver.notify.settings import NotificationTargetSettings
from tests.support.notify_server import SLACK_PATH, NotifyServer

FAST_S = 2.0  # a failing send comes back at once: the dispatcher retries, not the notifier


def notice(**overrides: Any) -> Notice:
    """A status update with sensible defaults; tests override what they are about."""
    values: dict[str, Any] = {
        "topic": "status_update",
        "subject": "[SEV2] checkout: 5xx ratio above 5%",
        "text": "*Status:* investigating\n*Impact:* 4% of checkouts fail",
        "payload": {"status": "investigating", "at": datetime(2026, 11, 28, 7, 0, tzinfo=UTC)},
        "dedup_key": "onwatch-42-update-1",
        "incident_id": 42,
        "audience": "team",
    }
    values.update(overrides)
    return Notice(**values)


@pytest.fixture
def server() -> Iterator[NotifyServer]:
    with NotifyServer() as running:
        yield running


def timed(notifier: Any, sent: Notice) -> tuple[Delivery, float]:
    started = time.monotonic()
    delivery = notifier.send(sent)
    return delivery, time.monotonic() - started


def target(kind: str, url: str | None, **headers: str) -> NotificationTargetSettings:
    return NotificationTargetSettings.model_validate(
        {"name": "team-chat", "kind": kind, "url": url, "headers": headers}
    )


# ------------------------------------------------------------------------------------------
# Webhook


def test_webhook_notifier_posts_the_documented_document(server):
    notifier = build_notifier(target("webhook", server.hook_url, Authorization="Bearer s3cret"))

    delivery = notifier.send(notice())

    assert delivery == Delivery(ok=True, detail="the notification webhook answered 200")
    [request] = server.received
    assert request.method == "POST" and request.path == "/hooks/onwatch"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.json == {
        "topic": "status_update",
        "subject": "[SEV2] checkout: 5xx ratio above 5%",
        "text": "*Status:* investigating\n*Impact:* 4% of checkouts fail",
        "incident_id": 42,
        "audience": "team",
        "dedup_key": "onwatch-42-update-1",
        "payload": {"status": "investigating", "at": "2026-11-28 07:00:00+00:00"},
    }


def test_webhook_notifier_sends_a_message_without_incident(server):
    WebhookNotifier(server.hook_url).send(notice(incident_id=None, audience=""))

    body = server.received[0].json
    assert body["incident_id"] is None and body["audience"] == ""


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (408, True), (429, True), (500, True), (503, True)],
)
def test_webhook_notifier_answers_are_classified(server, status, retryable):
    server.answer(status, b'{"message": "no"}', {"Content-Type": "application/json"})

    delivery = WebhookNotifier(server.hook_url).send(notice())

    assert not delivery.ok and delivery.retryable is retryable
    assert delivery.retry_after is None
    assert delivery.detail == f"the notification webhook answered {status}: no"


def test_webhook_notifier_honours_retry_after_seconds_and_dates(server):
    server.answer(429, "slow down", {"Retry-After": "17"})
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    server.answer(503, "", {"Retry-After": later})
    notifier = WebhookNotifier(server.hook_url)

    seconds, date = notifier.send(notice()), notifier.send(notice())

    assert seconds.retryable and seconds.retry_after == 17.0
    assert seconds.detail == "the notification webhook answered 429: slow down"
    assert date.retryable and date.retry_after is not None and 100 < date.retry_after <= 120


def test_webhook_notifier_down_is_retryable_fast_and_names_no_url(server):
    server.set_down(True)

    delivery, elapsed = timed(WebhookNotifier(server.hook_url, timeout=1), notice())

    assert not delivery.ok and delivery.retryable
    assert delivery.detail == "the notification webhook unreachable: ConnectionError"
    assert elapsed < FAST_S


def test_webhook_notifier_keeps_an_echoed_url_out_of_the_detail(server):
    server.answer(404, f"no route for POST {server.hook_url}?token=x")

    delivery = WebhookNotifier(server.hook_url).send(notice())

    assert server.hook_url not in delivery.detail and "/hooks/onwatch" not in delivery.detail
    assert delivery.detail == (
        "the notification webhook answered 404: no route for POST <redacted URL>?token=x"
    )


# ------------------------------------------------------------------------------------------
# Slack: the message


def test_slack_notifier_posts_a_header_and_mrkdwn_section(server):
    delivery = SlackNotifier(server.slack_url).send(notice())

    assert delivery == Delivery(ok=True, detail="Slack answered 200")
    [request] = server.received
    assert request.path == SLACK_PATH
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "text": "[SEV2] checkout: 5xx ratio above 5%\n"
        "*Status:* investigating\n*Impact:* 4% of checkouts fail",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "[SEV2] checkout: 5xx ratio above 5%"},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Status:* investigating\n*Impact:* 4% of checkouts fail",
                },
            },
        ],
    }


def test_slack_notifier_sends_configured_headers(server):
    notifier = build_notifier(target("slack", server.slack_url, **{"X-Proxy-Token": "pr0xy"}))

    assert notifier.send(notice()).ok
    assert server.received[0].headers["x-proxy-token"] == "pr0xy"


def test_slack_text_cannot_mention_or_link():
    message = slack_message(notice(subject="a < b", text="<!channel> p99 > 2s & rising"))

    assert message["text"] == "a &lt; b\n&lt;!channel&gt; p99 &gt; 2s &amp; rising"
    assert message["blocks"][0]["text"]["text"] == "a < b"  # plain_text shows it as written
    assert message["blocks"][1]["text"]["text"] == "&lt;!channel&gt; p99 &gt; 2s &amp; rising"


def test_slack_header_is_one_line_of_at_most_150_characters():
    message = slack_message(notice(subject="S" * 200 + "\nsecond line"))

    header = message["blocks"][0]["text"]["text"]
    assert len(header) == HEADER_LIMIT and header == "S" * 149 + "…"
    assert "\n" not in slack_message(notice(subject="one\ntwo"))["blocks"][0]["text"]["text"]


def test_slack_empty_subject_or_text_has_no_empty_block():
    no_subject = slack_message(notice(subject="", text="body"))
    no_text = slack_message(notice(subject="subject", text=""))

    assert [b["type"] for b in no_subject["blocks"]] == ["section"] and no_subject["text"] == "body"
    assert [b["type"] for b in no_text["blocks"]] == ["header"] and no_text["text"] == "subject"


def test_slack_long_text_is_split_over_sections_between_lines(server):
    lines = [f"{i:04d} " + "x" * 95 for i in range(90)]  # 90 lines of 100 characters
    text = "\n".join(lines)

    SlackNotifier(server.slack_url).send(notice(text=text))

    blocks = server.received[0].json["blocks"]
    sections = [b["text"]["text"] for b in blocks[1:]]
    assert [b["type"] for b in blocks] == ["header"] + ["section"] * 4
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert [len(s.split("\n")) for s in sections] == [29, 29, 29, 3]  # whole lines only
    assert "\n".join(sections) == text


def test_slack_overlong_line_is_cut_at_spaces_and_never_inside_an_entity():
    words = " ".join(["word"] * 1000)  # 4999 characters on one line
    ampersands = escape("x" + "&" * 4000)  # 20001 characters: entities across every cut

    spaced = mrkdwn_sections(words)
    entities = mrkdwn_sections(ampersands)

    assert all(len(s) <= SECTION_LIMIT for s in spaced + entities)
    assert " ".join(spaced) == words and all(s.endswith("word") for s in spaced)
    assert "".join(entities) == ampersands
    assert all(s.endswith("&amp;") for s in entities)
    assert all(s.startswith("&amp;") for s in entities[1:])


def test_slack_text_beyond_slacks_total_is_cut_and_says_so(server):
    # 60 lines of 2,999: Slack would refuse the whole as msg_blocks_too_long (a permanent 400).
    text = "\n".join(f"{i:02d} " + "y " * 1498 for i in range(60))

    SlackNotifier(server.slack_url).send(notice(text=text))

    body = server.received[0].json
    sections = [b["text"]["text"] for b in body["blocks"][1:]]
    assert sum(map(len, sections)) <= TEXT_LIMIT
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    assert sections[-1].endswith(TRUNCATED)
    assert text.startswith("\n".join(sections).removesuffix(TRUNCATED))
    assert len(body["text"]) <= len(body["blocks"][0]["text"]["text"]) + 1 + TEXT_LIMIT


# ------------------------------------------------------------------------------------------
# Slack: the answers


@pytest.mark.parametrize(
    ("error", "status", "retryable"),
    [
        ("invalid_payload", 400, False),
        ("too_many_attachments", 400, False),
        ("action_prohibited", 403, False),
        ("posting_to_general_channel_denied", 403, False),
        ("no_service", 404, False),
        ("channel_is_archived", 410, False),
        ("rollup_error", 500, True),
    ],
)
def test_slack_errors_are_classified_with_slacks_own_words(server, error, status, retryable):
    server.slack_error(error)

    delivery = SlackNotifier(server.slack_url).send(notice())

    assert not delivery.ok and delivery.retryable is retryable
    assert delivery.detail == f"Slack answered {status}: {error}"


def test_slack_rate_limit_is_retryable_after_retry_after(server):
    server.answer(429, "rate_limited", {"Retry-After": "30"})

    delivery = SlackNotifier(server.slack_url).send(notice())

    assert delivery.retryable and delivery.retry_after == 30.0
    assert delivery.detail == "Slack answered 429: rate_limited"


def test_slack_json_error_body_is_read_too(server):
    server.answer(400, '{"ok": false, "error": "invalid_blocks"}')

    assert SlackNotifier(server.slack_url).send(notice()).detail == (
        "Slack answered 400: invalid_blocks"
    )


def test_slack_down_is_retryable_fast_and_names_no_url(server):
    server.set_down(True)

    delivery, elapsed = timed(SlackNotifier(server.slack_url, timeout=1), notice())

    assert delivery.retryable and delivery.detail == "Slack unreachable: ConnectionError"
    assert elapsed < FAST_S


def test_slack_url_never_in_a_detail_or_repr(server):
    server.answer(404, f"no_service: {SLACK_PATH} (POST {server.slack_url})")
    notifier = build_notifier(target("slack", server.slack_url))

    delivery = notifier.send(notice())

    assert "s3cretWebhookToken" not in delivery.detail
    assert delivery.detail == "Slack answered 404: no_service: <redacted URL> (POST <redacted URL>)"
    assert "s3cret" not in repr(notifier)


def test_slack_back_up_after_down(server):
    notifier = SlackNotifier(server.slack_url, timeout=1)
    server.set_down(True)
    assert notifier.send(notice()).retryable

    server.set_down(False)

    assert notifier.send(notice()).ok and len(server.received) == 1


# ------------------------------------------------------------------------------------------
# Building


def test_build_notifier_chooses_by_kind():
    webhook = build_notifier(target("webhook", "https://hooks.example.com/x"))
    slack = build_notifier(target("slack", "https://hooks.slack.com/services/T/B/x"))

    assert isinstance(webhook, WebhookNotifier) and webhook.kind == "webhook"
    assert isinstance(slack, SlackNotifier) and slack.kind == "slack"


@pytest.mark.parametrize("url", [None, ""])
def test_build_notifier_refuses_a_target_without_url(url):
    settings = target("slack", url)

    assert not settings.enabled
    with pytest.raises(ValueError, match='"team-chat" has no url'):
        build_notifier(settings)


def test_redact_removes_the_url_and_its_path():
    url = "https://hooks.slack.com/services/T1/B2/abcdefgh"

    assert redact(f"POST {url} failed", url) == "POST <redacted URL> failed"
    assert redact("GET /services/T1/B2/abcdefgh 404", url) == "GET <redacted URL> 404"
    assert redact("nothing here", "") == "nothing here"
