"""Pagers against a fake PagerDuty on loopback (real pdpyras over HTTP), and paging settings.

Every answer class is covered: success, permanent 4xx with PagerDuty's own words, 429 with
Retry-After, 5xx, and nobody listening. Each failing send must come back at once: the
outbox retries, pdpyras must not (it would retry a 429 forever, sleeping in between).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from receiver.config.base import parse_duration
from receiver.delivery.outcome import retry_after_seconds
from receiver.paging.pagers import (
    Delivery,
    DryRunPager,
    PageAction,
    PageRequest,
    Recipient,
    WebhookPager,
    build_pager,
)
from receiver.paging.pagers._pdpyras import DEPRECATION_MESSAGE
from receiver.paging.pagers.pagerduty_events import PagerDutyEventsPager
from receiver.paging.pagers.pagerduty_rest import PagerDutyRestPager
from receiver.paging.settings import PagerSettings, PagingSettings
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.servers import REPO_ROOT

ROUTING_KEY = "R" * 32
FAST_S = 2.0  # a send that fails must return at once; pdpyras's back-off would take longer
ALICE = Recipient("alice", "alice@example.com", "PALICE1")
BOB = Recipient("bob", "bob@example.com", "PBOB001")
CHIDI = Recipient("chidi", "chidi@example.com", "PCHIDI1")


def page(action: PageAction = PageAction.TRIGGER, **overrides: Any) -> PageRequest:
    """A request with sensible defaults; tests override what they are about."""
    values: dict[str, Any] = {
        "action": action,
        "dedup_key": "onwatch-42",
        "summary": "checkout: 5xx ratio above 5%",
        "severity": "SEV2",
        "source": "checkout",
        "recipient": ALICE if action is PageAction.TRIGGER else None,
        "details": {"rule": "high-error-rate", "why": 'service="checkout" matched'},
        "links": (
            ("https://runbooks.example.com/checkout", "Runbook"),
            ("http://prometheus:9090/graph?g0.expr=x", "Source"),
        ),
    }
    values.update(overrides)
    return PageRequest(**values)


@pytest.fixture
def fake() -> Iterator[FakePagerDuty]:
    with FakePagerDuty(from_emails=("onwatch@example.com",)) as server:
        yield server


@pytest.fixture
def events(fake: FakePagerDuty) -> Iterator[PagerDutyEventsPager]:
    pager = PagerDutyEventsPager(ROUTING_KEY, base_url=fake.url, timeout=5)
    yield pager
    pager.close()


@pytest.fixture
def rest(fake: FakePagerDuty) -> Iterator[PagerDutyRestPager]:
    pager = PagerDutyRestPager(
        fake.api_token, "onwatch@example.com", fake.service_id, base_url=fake.url, timeout=5
    )
    yield pager
    pager.close()


def timed_send(pager: Any, request: PageRequest) -> tuple[Delivery, float]:
    started = time.monotonic()
    delivery = pager.send(request)
    return delivery, time.monotonic() - started


# ------------------------------------------------------------------------------------------
# Events API v2


def test_events_trigger_is_accepted_and_opens_one_incident(fake, events):
    delivery = events.send(page())

    assert delivery.ok and not delivery.retryable
    [incident] = fake.incidents_for("onwatch-42")
    assert incident.status == "triggered"
    event = incident.payload
    assert event["routing_key"] == ROUTING_KEY
    assert event["payload"]["source"] == "checkout"
    assert event["payload"]["summary"] == "checkout: 5xx ratio above 5%"


def test_events_trigger_carries_details_recipient_level_and_links(fake, events):
    events.send(page(level=1, recipient=BOB))

    event = fake.incidents_for("onwatch-42")[0].payload
    assert event["payload"]["custom_details"] == {
        "rule": "high-error-rate",
        "why": 'service="checkout" matched',
        "on_call": {"name": "bob", "email": "bob@example.com"},
        "escalation_level": 1,
    }
    assert event["links"] == [
        {"href": "https://runbooks.example.com/checkout", "text": "Runbook"},
        {"href": "http://prometheus:9090/graph?g0.expr=x", "text": "Source"},
    ]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("SEV1", "critical"), ("SEV2", "error"), ("SEV3", "warning"), ("SEV4", "info")],
)
def test_events_severity_mapping(fake, events, severity, expected):
    assert events.send(page(severity=severity)).ok
    assert fake.incidents_for("onwatch-42")[0].severity == expected


def test_events_summary_is_cut_to_1024_characters(fake, events):
    delivery = events.send(page(summary="x" * 5000))

    assert delivery.ok  # the fake, like PagerDuty, refuses a longer summary
    assert fake.incidents_for("onwatch-42")[0].title == "x" * 1024


def test_events_details_that_are_not_json_are_sent_as_text(fake, events):
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert events.send(page(details={"since": when})).ok
    details = fake.incidents_for("onwatch-42")[0].payload["payload"]["custom_details"]
    assert details["since"] == str(when)


def test_events_repeated_trigger_is_one_incident(fake, events):
    for _ in range(3):
        assert events.send(page()).ok

    [incident] = fake.incidents_for("onwatch-42")
    assert incident.events == 3


def test_events_acknowledge_then_resolve_follow_the_incident(fake, events):
    events.send(page())

    assert events.send(page(PageAction.ACKNOWLEDGE)).ok
    assert fake.incidents_for("onwatch-42")[0].status == "acknowledged"
    assert events.send(page(PageAction.RESOLVE)).ok
    assert fake.incidents_for("onwatch-42")[0].status == "resolved"
    ack, resolve = (r.body for r in fake.requests[1:])
    assert ack == {
        "event_action": "acknowledge",
        "dedup_key": "onwatch-42",
        "routing_key": ROUTING_KEY,
    }
    assert resolve["event_action"] == "resolve"


def test_events_trigger_after_resolve_opens_a_new_incident(fake, events):
    events.send(page())
    events.send(page(PageAction.RESOLVE))
    events.send(page())

    assert [i.status for i in fake.incidents_for("onwatch-42")] == ["resolved", "triggered"]


def test_events_400_is_permanent_with_pagerdutys_message(fake):
    pager = PagerDutyEventsPager("too-short", base_url=fake.url)
    try:
        delivery = pager.send(page())
    finally:
        pager.close()

    assert not delivery.ok and not delivery.retryable
    assert delivery.detail.startswith("PagerDuty answered 400: Event object is invalid")
    assert "routing_key" in delivery.detail
    assert "too-short" not in delivery.detail  # never the credential itself
    assert fake.incidents == []


def test_events_429_is_retryable_with_retry_after_in_one_attempt(fake, events):
    fake.fail_next(100, 429, retry_after=7)

    delivery, elapsed = timed_send(events, page())

    assert not delivery.ok and delivery.retryable
    assert delivery.retry_after == 7
    assert delivery.detail.startswith("PagerDuty answered 429")
    assert len(fake.requests) == 1  # pdpyras would retry a 429 forever, sleeping in between
    assert elapsed < FAST_S


def test_events_429_retry_after_as_http_date(fake, events):
    later = datetime.now(UTC) + timedelta(seconds=120)
    fake.fail_next(1, 429, retry_after=format_datetime(later, usegmt=True))

    delivery = events.send(page())

    assert delivery.retryable
    assert delivery.retry_after is not None and 100 < delivery.retry_after <= 120


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_events_5xx_is_retryable_in_one_attempt(fake, events, status):
    fake.fail_next(100, status)

    delivery, elapsed = timed_send(events, page())

    assert not delivery.ok and delivery.retryable and delivery.retry_after is None
    assert delivery.detail.startswith(f"PagerDuty answered {status}")
    assert len(fake.requests) == 1  # pdpyras's Events session presets up to 6 retries
    assert elapsed < FAST_S


def test_events_server_down_is_retryable_and_fast(fake, events):
    fake.set_down(True)

    delivery, elapsed = timed_send(events, page())

    assert not delivery.ok and delivery.retryable
    assert delivery.detail == "PagerDuty unreachable: ConnectionError"
    assert elapsed < FAST_S


def test_events_recovers_when_the_server_comes_back(fake, events):
    fake.set_down(True)
    assert events.send(page()).retryable
    fake.set_down(False)

    assert events.send(page()).ok
    assert len(fake.incidents_for("onwatch-42")) == 1


def test_events_timeout_is_retryable(fake):
    blocker = threading.Event()
    original = fake.handle

    def slow(*args: Any) -> Any:
        blocker.wait(2)
        return original(*args)

    fake.handle = slow  # type: ignore[method-assign]
    pager = PagerDutyEventsPager(ROUTING_KEY, base_url=fake.url, timeout=0.2)
    try:
        delivery, elapsed = timed_send(pager, page())
    finally:
        blocker.set()
        pager.close()

    assert delivery.retryable and delivery.detail == "PagerDuty unreachable: ReadTimeout"
    assert elapsed < FAST_S


# ------------------------------------------------------------------------------------------
# REST API


def test_rest_trigger_creates_an_incident_assigned_to_the_recipient(fake, rest):
    delivery = rest.send(page(severity="SEV1"))

    [incident] = fake.incidents_for("onwatch-42")
    assert delivery.ok and delivery.reference == incident.id
    assert incident.assignees == ("PALICE1",)
    assert incident.severity == "high"
    assert incident.title == "checkout: 5xx ratio above 5%"
    body = incident.payload["incident"]
    assert body["service"] == {"id": fake.service_id, "type": "service_reference"}
    assert body["incident_key"] == "onwatch-42"
    assert "rule: high-error-rate" in body["body"]["details"]
    assert "Runbook: https://runbooks.example.com/checkout" in body["body"]["details"]
    [request] = fake.requests
    assert request.headers["from"] == "onwatch@example.com"
    assert request.headers["authorization"] == f"Token token={fake.api_token}"


@pytest.mark.parametrize(
    ("severity", "urgency"), [("SEV1", "high"), ("SEV2", "high"), ("SEV3", "low"), ("SEV4", "low")]
)
def test_rest_urgency_follows_severity(fake, rest, severity, urgency):
    assert rest.send(page(severity=severity)).ok
    assert fake.incidents_for("onwatch-42")[0].severity == urgency


def test_rest_title_is_cut_to_1024_characters(fake, rest):
    assert rest.send(page(summary="y" * 3000)).ok
    assert fake.incidents_for("onwatch-42")[0].title == "y" * 1024


def test_rest_escalation_reassigns_the_incident(fake, rest):
    first = rest.send(page())

    second = rest.send(page(level=1, recipient=BOB, reference=first.reference))

    assert second.ok and second.reference == first.reference
    [incident] = fake.incidents_for("onwatch-42")
    assert incident.assignees == ("PBOB001",)
    assert incident.assignment_history == (("PALICE1",), ("PBOB001",))


def test_rest_duplicate_incident_key_is_success(fake, rest):
    first = rest.send(page())

    again = rest.send(page())  # a repeated delivery: the outbox lost the first answer

    assert again.ok and again.reference == first.reference
    assert len(fake.incidents_for("onwatch-42")) == 1
    # Created; refused as a duplicate; the open incident looked up.
    assert [(r.method, r.status) for r in fake.requests] == [
        ("POST", 201),
        ("POST", 400),
        ("GET", 200),
    ]
    # A repeated primary page must not take the incident back from whoever has it now.
    assert fake.incidents_for("onwatch-42")[0].assignees == ("PALICE1",)


def test_rest_escalation_without_reference_finds_and_reassigns(fake, rest):
    rest.send(page())

    delivery = rest.send(page(level=2, recipient=CHIDI))

    assert delivery.ok
    [incident] = fake.incidents_for("onwatch-42")
    assert delivery.reference == incident.id and incident.assignees == ("PCHIDI1",)


def test_rest_acknowledge_and_resolve_with_reference(fake, rest):
    reference = rest.send(page()).reference

    ack = rest.send(page(PageAction.ACKNOWLEDGE, reference=reference))
    assert ack.ok and fake.incidents_for("onwatch-42")[0].status == "acknowledged"
    resolved = rest.send(page(PageAction.RESOLVE, reference=reference))
    assert resolved.ok and fake.incidents_for("onwatch-42")[0].status == "resolved"


def test_rest_acknowledge_and_resolve_look_the_incident_up_by_key(fake, rest):
    rest.send(page())

    assert rest.send(page(PageAction.ACKNOWLEDGE)).ok
    assert rest.send(page(PageAction.RESOLVE)).ok
    assert fake.incidents_for("onwatch-42")[0].status == "resolved"


def test_rest_repeated_resolve_is_harmless(fake, rest):
    reference = rest.send(page()).reference
    rest.send(page(PageAction.RESOLVE, reference=reference))

    again = rest.send(page(PageAction.RESOLVE, reference=reference))
    without_reference = rest.send(page(PageAction.RESOLVE))

    assert again.ok and "already resolved" in again.detail
    assert without_reference.ok


def test_rest_trigger_after_resolve_opens_a_new_incident(fake, rest):
    first = rest.send(page()).reference
    rest.send(page(PageAction.RESOLVE, reference=first))

    second = rest.send(page())

    assert second.ok and second.reference != first
    assert len(fake.incidents_for("onwatch-42")) == 2


def test_rest_resolve_of_an_unknown_incident_is_permanent(fake, rest):
    delivery = rest.send(page(PageAction.RESOLVE))

    assert not delivery.ok and not delivery.retryable
    assert delivery.detail == "PagerDuty has no incident with incident_key onwatch-42"


def test_rest_400_is_permanent_with_pagerdutys_message(fake, rest):
    stranger = Recipient("zed", "zed@example.com", "PNOBODY")

    delivery = rest.send(page(recipient=stranger))

    assert not delivery.ok and not delivery.retryable
    assert delivery.detail == (
        "PagerDuty answered 400: Invalid Input Provided (User PNOBODY not found.)"
    )


def test_rest_bad_token_is_permanent(fake):
    pager = PagerDutyRestPager("wrong-token", "onwatch@example.com", fake.service_id, fake.url)
    try:
        delivery = pager.send(page())
    finally:
        pager.close()

    assert not delivery.ok and not delivery.retryable
    assert delivery.detail == "PagerDuty answered 401: Authentication failed"
    assert "wrong-token" not in delivery.detail


def test_rest_recipient_without_pagerduty_user_id_is_permanent(fake, rest):
    delivery = rest.send(page(recipient=Recipient("dana", "dana@example.com", "")))

    assert not delivery.ok and not delivery.retryable
    assert "dana has no pagerduty_user_id" in delivery.detail
    assert fake.requests == []


def test_rest_429_is_retryable_in_one_attempt(fake, rest):
    fake.fail_next(100, 429, retry_after=30)

    delivery, elapsed = timed_send(rest, page())

    assert delivery.retryable and delivery.retry_after == 30
    assert delivery.detail == "PagerDuty answered 429: Rate Limit Exceeded"
    assert len(fake.requests) == 1
    assert elapsed < FAST_S


@pytest.mark.parametrize("status", [500, 503])
def test_rest_5xx_is_retryable_in_one_attempt(fake, rest, status):
    fake.fail_next(100, status)

    delivery, elapsed = timed_send(rest, page())

    assert delivery.retryable and len(fake.requests) == 1
    assert elapsed < FAST_S


def test_rest_failure_while_reassigning_is_retryable(fake, rest):
    reference = rest.send(page()).reference
    fake.fail_next(1, 503)

    delivery = rest.send(page(level=1, recipient=BOB, reference=reference))

    assert delivery.retryable
    assert fake.incidents_for("onwatch-42")[0].assignees == ("PALICE1",)


def test_rest_server_down_is_retryable_and_fast(fake, rest):
    fake.set_down(True)

    delivery, elapsed = timed_send(rest, page())

    assert delivery.retryable and delivery.detail == "PagerDuty unreachable: ConnectionError"
    assert elapsed < FAST_S


# ------------------------------------------------------------------------------------------
# Webhook


class _Hook:
    """A tiny JSON receiver for the webhook pager: records bodies, answers scripted statuses."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.answers: list[tuple[int, dict[str, str], bytes]] = []


@contextmanager
def webhook_receiver() -> Iterator[tuple[_Hook, str]]:
    hook = _Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hook.bodies.append(json.loads(raw))
            hook.headers.append(dict(self.headers.items()))
            status, extra, body = hook.answers.pop(0) if hook.answers else (204, {}, b"")
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield hook, f"http://127.0.0.1:{server.server_address[1]}/page"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_webhook_posts_the_documented_document():
    with webhook_receiver() as (hook, url):
        pager = WebhookPager(url, {"Authorization": "Bearer s3cret"})
        delivery = pager.send(page(level=1, reference="P000001"))
        pager.close()

    assert delivery.ok
    assert hook.bodies == [
        {
            "action": "trigger",
            "dedup_key": "onwatch-42",
            "summary": "checkout: 5xx ratio above 5%",
            "severity": "SEV2",
            "source": "checkout",
            "recipient": {
                "name": "alice",
                "email": "alice@example.com",
                "pagerduty_user_id": "PALICE1",
            },
            "level": 1,
            "details": {"rule": "high-error-rate", "why": 'service="checkout" matched'},
            "links": [
                {"href": "https://runbooks.example.com/checkout", "text": "Runbook"},
                {"href": "http://prometheus:9090/graph?g0.expr=x", "text": "Source"},
            ],
            "reference": "P000001",
        }
    ]
    assert hook.headers[0]["Authorization"] == "Bearer s3cret"


def test_webhook_resolve_has_no_recipient():
    with webhook_receiver() as (hook, url):
        assert WebhookPager(url).send(page(PageAction.RESOLVE)).ok

    assert hook.bodies[0]["action"] == "resolve" and hook.bodies[0]["recipient"] is None


@pytest.mark.parametrize(
    ("status", "retryable", "retry_after"),
    [
        (400, False, None),
        (404, False, None),
        (408, True, None),
        (429, True, 12.0),
        (500, True, None),
    ],
)
def test_webhook_answers_are_classified(status, retryable, retry_after):
    with webhook_receiver() as (hook, url):
        hook.answers.append(
            (status, {"Retry-After": "12"} if retry_after else {}, b'{"message": "no"}')
        )
        delivery = WebhookPager(url).send(page())

    assert not delivery.ok
    assert delivery.retryable is retryable and delivery.retry_after == retry_after
    assert delivery.detail == f"the webhook answered {status}: no"


def test_webhook_down_is_retryable_and_fast():
    with webhook_receiver() as (_, url):
        pass  # stopped: nobody listens on that port any more

    delivery, elapsed = timed_send(WebhookPager(url, timeout=1), page())

    assert delivery.retryable and delivery.detail == "the webhook unreachable: ConnectionError"
    assert elapsed < FAST_S


# ------------------------------------------------------------------------------------------
# Dry run, building, Retry-After, warnings


def test_dry_run_records_and_logs_without_details(caplog):
    pager = DryRunPager()
    caplog.set_level(logging.INFO, logger="receiver.paging.pagers.dry_run")

    delivery = pager.send(page(details={"token": "s3cret"}))

    assert delivery.ok
    assert [r.dedup_key for r in pager.sent] == ["onwatch-42"]
    [record] = caplog.records
    assert "onwatch-42" in record.getMessage() and "alice" in record.getMessage()
    assert "s3cret" not in record.getMessage()


def test_build_pager_chooses_by_kind(fake):
    assert isinstance(build_pager(PagingSettings()), DryRunPager)
    pagerduty = {
        "routing_key": ROUTING_KEY,
        "api_token": fake.api_token,
        "from_email": "onwatch@example.com",
        "service_id": fake.service_id,
        "events_url": fake.url,
        "api_url": fake.url,
    }
    built_events = build_pager(
        PagerSettings.model_validate({"pager": "pagerduty-events", "pagerduty": pagerduty})
    )
    built_rest = build_pager(
        PagerSettings.model_validate({"pager": "pagerduty-rest", "pagerduty": pagerduty})
    )
    built_webhook = build_pager(
        PagerSettings.model_validate({"pager": "webhook", "webhook": {"url": "http://x/"}})
    )

    assert isinstance(built_events, PagerDutyEventsPager)
    assert isinstance(built_rest, PagerDutyRestPager)
    assert isinstance(built_webhook, WebhookPager)
    assert built_events.send(page()).ok and built_rest.send(page(dedup_key="onwatch-43")).ok
    assert {i.api for i in fake.incidents} == {"events", "rest"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("30", 30.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("Sun, 01 Mar 2026 12:01:00 GMT", 60.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds(header, expected):
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(header, now=now) == expected


def _python(code: str) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: in this one pdpyras is imported already and would not warn again.
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_importing_the_adapters_hides_only_pdpyras_deprecation_notice():
    result = _python(
        "import warnings\n"
        "import receiver.paging.pagers.pagerduty_events, receiver.paging.pagers.pagerduty_rest\n"
        "warnings.warn('another warning', UserWarning)\n"
        "warnings.warn('The package \"pdpyras\" is deprecated, and so is this', UserWarning)\n"
    )

    assert "will no longer receive updates" not in result.stderr
    assert "another warning" in result.stderr
    assert "and so is this" in result.stderr  # the filter matches the exact text only


def test_pdpyras_imported_directly_still_warns():
    result = _python("import pdpyras")

    # The filter's text is pdpyras's exactly: if an upgrade rewords it, this fails first.
    assert DEPRECATION_MESSAGE in result.stderr


def test_fake_pagerduty_leaves_no_thread_behind():
    before = set(threading.enumerate())
    with FakePagerDuty() as server:
        pager = PagerDutyEventsPager(ROUTING_KEY, base_url=server.url)
        pager.send(page())
        server.set_down(True)
        server.set_down(False)
        pager.send(page())
        pager.close()

    assert set(threading.enumerate()) - before == set()


# ------------------------------------------------------------------------------------------
# Paging settings


def test_paging_defaults():
    paging = PagingSettings()

    assert paging.pager == "dry-run"
    assert paging.repeat == 0
    assert paging.page_all_layers_at_once == ["SEV1"]
    assert paging.ack_timeout_for("SEV1") == timedelta(minutes=5)
    assert paging.ack_timeout_for("SEV2") == timedelta(minutes=5)
    assert paging.ack_timeout_for("SEV3") == timedelta(minutes=15)
    assert paging.ack_timeout_for("SEV4") is None  # SEV4 pages nobody
    assert paging.pages_all_layers_at_once("SEV1") and not paging.pages_all_layers_at_once("SEV2")


def test_paging_full_section():
    paging = PagingSettings.model_validate(
        {
            "pager": "pagerduty-events",
            "pagerduty": {"routing_key": ROUTING_KEY, "api_token": "", "from_email": ""},
            "webhook": {"url": "", "headers": {}},
            "ack_timeout": {"SEV1": "90s", "SEV3": "1h"},
            "repeat": 2,
            "page_all_layers_at_once": ["SEV1", "SEV2"],
        }
    )

    assert paging.ack_timeout_for("SEV1") == timedelta(seconds=90)
    assert paging.ack_timeout_for("SEV2") == timedelta(minutes=5)  # not given: the default
    assert paging.ack_timeout_for("SEV3") == timedelta(hours=1)
    assert paging.pagerduty.api_token is None  # an unset ${VAR} is "not given"
    assert paging.pagerduty.events_url == "https://events.pagerduty.com"
    assert ROUTING_KEY not in repr(paging)


def test_paging_ack_timeout_for_rejects_unknown_severity():
    with pytest.raises(ValueError, match="unknown severity"):
        PagingSettings().ack_timeout_for("SEV9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5", "0m", "5 minutes", "1y", "-5m", ""])
def test_paging_bad_duration_names_the_severity(text):
    with pytest.raises(ValidationError) as caught:
        PagingSettings.model_validate({"ack_timeout": {"SEV2": text}})

    [error] = caught.value.errors()
    assert error["loc"] == ("ack_timeout",)
    assert "SEV2: expected a duration such as" in error["msg"]


def test_paging_sev4_ack_timeout_is_refused():
    with pytest.raises(ValidationError, match="SEV4 pages nobody"):
        PagingSettings.model_validate({"ack_timeout": {"SEV4": "1h"}})


def test_paging_events_without_routing_key_names_the_key():
    with pytest.raises(ValidationError) as caught:
        PagingSettings.model_validate(
            {"pager": "pagerduty-events", "pagerduty": {"routing_key": ""}}
        )

    message = caught.value.errors()[0]["msg"]
    assert "paging.pagerduty.routing_key is required" in message
    assert "ONWATCH_PAGERDUTY_ROUTING_KEY" in message


def test_paging_rest_names_every_missing_key():
    with pytest.raises(ValidationError) as caught:
        PagingSettings.model_validate({"pager": "pagerduty-rest", "pagerduty": {"api_token": "t"}})

    message = caught.value.errors()[0]["msg"]
    assert "paging.pagerduty.api_token" not in message
    assert "paging.pagerduty.from_email is required" in message
    assert "paging.pagerduty.service_id is required" in message


def test_paging_webhook_needs_a_url():
    with pytest.raises(ValidationError, match="paging.webhook.url is required"):
        PagingSettings.model_validate({"pager": "webhook"})


@pytest.mark.parametrize(
    "section",
    [
        {"pager": "pagerduty"},
        {"pagerduty": {"routing_kee": "x"}},
        {"repeat": -1},
        {"page_all_layers_at_once": ["SEV5"]},
        {"pagerduty": {"api_url": "api.pagerduty.com"}},
        {"pagerduty": {"from_email": "not-an-email"}},
    ],
)
def test_paging_rejects_bad_values(section):
    with pytest.raises(ValidationError):
        PagingSettings.model_validate(section)


def test_paging_blank_pager_is_dry_run():
    assert PagingSettings.model_validate({"pager": ""}).pager == "dry-run"


def test_paging_webhook_headers_are_secret():
    paging = PagingSettings.model_validate(
        {
            "pager": "webhook",
            "webhook": {"url": "https://hooks.example.com/x/", "headers": {"X-Token": "s3cret"}},
        }
    )

    assert "s3cret" not in repr(paging)
    assert paging.webhook.url == "https://hooks.example.com/x/"  # kept as given
