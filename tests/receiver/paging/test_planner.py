"""Delivering pages: the dispatcher and the real PagerDuty Events pager against a fake PagerDuty.

Every answer class is exercised through HTTP (202, 400, 429 with Retry-After, 500, nobody
listening): retries with back-off until delivered, a permanent failure or a deadline shows in
the timeline, the API and the metric, and delivering twice is harmless. Also the page
ledger's night flag and the night-load notice. Helpers here are shared by the other paging
test modules (they import them; no test functions are imported).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from receiver.paging.dispatcher import SENDERS
from receiver.paging.pagers import Delivery, PageRequest, build_pager
from receiver.store.database import Store, StoreUnavailable
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import (
    Paging,
    events,
    group,
    make_paging,
    metric,
    paging_config,
    rest_paging_config,
)

# --------------------------------------------------------------------------------------------
# Shared helpers


# --------------------------------------------------------------------------------------------
# Delivery: retries, back-off, failures


def test_delivery_429_waits_for_retry_after(paging: Paging) -> None:
    paging.fake.fail_next(1, 429, retry_after=30)
    incident = paging.post(group())
    paging.run()
    assert paging.outcomes == [("ops", "retry")]
    [first] = [m for m in paging.messages(incident) if m.level == 0]
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at >= paging.clock() + timedelta(seconds=30)
    assert "429" in first.last_error

    paging.clock.advance(seconds=29)
    paging.run()
    assert len(paging.triggers()) == 1  # not before Retry-After
    paging.clock.advance(seconds=1)
    paging.run()
    assert paging.paged() == ["d"]
    assert len(paging.fake.incidents_for(f"onwatch-{incident}")) == 1


def test_delivery_500_retries_with_backoff_until_delivered(paging: Paging) -> None:
    paging.fake.fail_next(3, 500)
    incident = paging.post(group())
    due = []
    for _ in range(3):
        paging.run()
        [message] = [m for m in paging.messages(incident) if m.level == 0]
        assert message.status == "pending"
        due.append(message.next_attempt_at - paging.clock())
        paging.clock.advance(seconds=1)
        paging.run()  # not due yet: nothing sent
        paging.clock.advance(seconds=due[-1].total_seconds() - 1)
    assert due == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    paging.run()
    assert len(paging.triggers()) == 4
    assert paging.paged() == ["d"]
    assert [o for _, o in paging.outcomes] == ["retry"] * 3 + ["sent"]
    assert len(paging.fake.incidents_for(f"onwatch-{incident}")) == 1


def test_delivery_while_pagerduty_is_down_is_retried_and_delivered_after(
    paging: Paging,
) -> None:
    paging.fake.set_down(True)
    incident = paging.post(group())
    paging.run()
    paging.clock.advance(seconds=2)
    paging.run()
    [message] = [m for m in paging.messages(incident) if m.level == 0]
    assert message.status == "pending" and message.attempts == 2
    assert "unreachable" in message.last_error
    assert paging.incident(incident)["pages"][0]["last_error"].startswith("PagerDuty unreachable")

    paging.fake.set_down(False)
    paging.clock.advance(seconds=4)
    paging.run()
    assert paging.paged() == ["d"]
    assert paging.incident(incident)["pages"][0]["status"] == "sent"


def test_delivery_400_fails_at_once_and_visibly(paging: Paging) -> None:
    paging.fake.fail_next(1, 400)
    incident = paging.post(group())
    paging.run()
    assert paging.outcomes == [("ops", "failed")]
    body = paging.incident(incident)
    first = body["pages"][0]
    assert first["status"] == "failed" and first["attempts"] == 1
    assert "400" in first["last_error"]
    [entry] = [e for e in body["timeline"] if e["kind"] == "page_failed"]
    assert "FAILED" in entry["message"] and "400" in entry["message"]
    assert metric(paging.client, "failed") == 1.0
    paging.clock.advance(minutes=1)
    paging.run()
    assert len(paging.triggers()) == 1  # a permanent failure is not retried


def test_delivery_failing_past_the_deadline_is_marked_failed(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake)
    config["dispatcher"] = {"deadline_minutes": 1}
    paging = make_paging(make_app, store, clock, fake, config)
    fake.set_down(True)
    incident = paging.post(group())
    for _ in range(10):
        paging.run()
        [message] = [m for m in paging.messages(incident) if m.level == 0]
        if message.status != "pending":
            break
        clock.advance(seconds=(message.next_attempt_at - clock()).total_seconds())
    assert message.status == "failed"
    assert clock() <= message.deadline_at + timedelta(minutes=1)
    assert [o for _, o in paging.outcomes].count("failed") == 1
    assert len(paging.timeline(incident, "page_failed")) == 1
    assert metric(paging.client, "failed") == 1.0
    assert paging.incident(incident)["pages"][0]["status"] == "failed"


class _FlakyStore(Store):
    """A store whose next `n` writes fail as if the database went away."""

    failures = 0

    def write(self, work: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("connection refused")
        return super().write(work)


def test_delivery_repeated_after_a_lost_outcome_is_harmless(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake)
    flaky = _FlakyStore(store.settings)
    paging.dispatcher.store = flaky
    incident = paging.post(group())
    assert paging.post(group()) == incident  # Alertmanager re-sends: no second page planned
    flaky.failures = 1  # the trigger goes out, but recording that it did fails
    with pytest.raises(StoreUnavailable):
        paging.run()
    assert len(paging.triggers()) == 1
    paging.run()  # still pending: sent again
    flaky.dispose()
    key = f"onwatch-{incident}"
    assert len(paging.triggers(key)) == 2
    [pd_incident] = fake.incidents_for(key)  # one PagerDuty incident per dedup key
    assert pd_incident.events == 2
    assert [p.person for p in paging.ledger()] == ["d"]


def test_delivery_a_pager_that_raises_does_not_block_the_others(paging: Paging) -> None:
    class Broken:
        kind = "broken"

        def send(self, request: Any) -> Any:
            raise RuntimeError("bug in a pager")

    first = paging.post(group("First"))
    paging.dispatcher.pagers = {"ops": Broken()}
    paging.run()
    assert paging.messages(first)[0].status == "failed"
    assert len(paging.timeline(first, "page_failed")) == 1
    real = build_pager(paging.app.extensions["onwatch"].settings.rotations[0].paging)
    paging.dispatcher.pagers = {"ops": real}
    second = paging.post(group("Second"))
    paging.run()
    assert paging.paged(f"onwatch-{second}") == ["d"]


# --------------------------------------------------------------------------------------------
# Sending a chunk: incidents side by side, each incident's messages in order


class _Slow:
    """The real pager, each send held for a while; records what overlapped and the order."""

    def __init__(self, real: Any, seconds: float) -> None:
        self.real, self.kind, self.seconds = real, real.kind, seconds
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0
        self.order: list[tuple[str, int]] = []

    def send(self, request: PageRequest) -> Delivery:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        # The first message of an incident is the slowest: a lane that did not wait for it
        # would overtake it.
        time.sleep(self.seconds * (2 if request.level == 0 else 1))
        with self.lock:
            self.order.append((request.dedup_key, request.level))
            self.in_flight -= 1
        return self.real.send(request)


def test_sending_pages_several_incidents_at_once(paging: Paging) -> None:
    slow = _Slow(paging.dispatcher.pagers["ops"], 0.05)
    paging.dispatcher.pagers = {"ops": slow}
    incidents = [paging.post(group(f"Storm{n}")) for n in range(8)]
    started = time.monotonic()
    assert paging.run() == 8
    assert slow.most_in_flight == SENDERS
    assert time.monotonic() - started < 8 * 0.1  # not one after another
    assert sorted(r.body["dedup_key"] for r in paging.triggers()) == sorted(
        f"onwatch-{i}" for i in incidents
    )
    assert [o for _, o in paging.outcomes] == ["sent"] * 8


def test_sending_keeps_each_incidents_messages_in_order(paging: Paging) -> None:
    slow = _Slow(paging.dispatcher.pagers["ops"], 0.03)
    paging.dispatcher.pagers = {"ops": slow}
    incidents = [paging.post(group(f"Sev1x{n}", impact_revenue="true")) for n in range(3)]
    assert paging.run() == 6  # primary and secondary of each, at once
    assert slow.most_in_flight == 3
    for incident in incidents:
        keys = (f"onwatch-{incident}", f"onwatch-{incident}-level-1")  # a page, a key
        levels = [level for key, level in slow.order if key in keys]
        assert levels == [0, 1]


MONDAY_NIGHT = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # e is primary since 09:00 today


def test_night_page_is_flagged_in_the_ledger(paging: Paging) -> None:
    paging.clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    daytime = paging.post(group("Daytime"))
    paging.run()
    assert (
        paging.client.post(f"/api/v1/incidents/{daytime}/ack", json={"by": "e"}).status_code == 200
    )
    paging.clock.now = MONDAY_NIGHT
    paging.post(group("Nighttime"))
    paging.run()
    assert [(p.person, p.night) for p in paging.ledger()] == [("e", False), ("e", True)]


def test_night_page_window_is_the_persons_own(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = paging_config(fake, ack_timeout={"SEV2": "20m"})
    for person in config["people"]:
        if person["name"] == "d":  # works nights: asleep in the morning instead
            person["night"] = {"start": "06:00", "end": "14:00"}
    paging = make_paging(make_app, store, clock, fake, config)
    paging.post(group())  # 06:45: d's night, b's too (default 22:00-07:00)
    paging.run()
    clock.advance(minutes=20)  # 07:05: still d's night; b is awake
    paging.run()
    assert [(p.person, p.night) for p in paging.ledger()] == [("d", True), ("b", False)]


def test_night_load_notice_through_the_rest_pager_is_an_incident_of_its_own(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    config = rest_paging_config(fake)
    for person in config["people"]:
        if person["name"] == "e":  # primary on Monday night
            person["pagerduty_user_id"] = "PALICE1"
    paging = make_paging(make_app, store, clock, fake, config)
    clock.now = MONDAY_NIGHT
    for number in range(3):
        paging.post(group(f"Night{number}"))
        paging.run()
        clock.advance(minutes=1)
    paging.run()  # the notice to f, the escalation target
    notices = [i for i in fake.incidents if i.key.startswith("onwatch-night-load-")]
    assert [n.assignees for n in notices] == [("PCHIDI1",)]
    # The incident that crossed the limit stays with e: the notice did not reassign it.
    pages = [i for i in fake.incidents if i not in notices]
    assert [i.assignment_history for i in pages] == [(("PALICE1",),)] * 3


def test_night_load_third_page_in_a_night_is_flagged_and_escalated(paging: Paging) -> None:
    paging.clock.now = MONDAY_NIGHT
    incidents = []
    for number in range(3):
        incidents.append(paging.post(group(f"Night{number}")))
        paging.run()
        paging.clock.advance(minutes=1)
    assert [(p.person, p.night) for p in paging.ledger()] == [("e", True)] * 3
    flagged = [i for i in incidents if paging.timeline(i, "night_load_exceeded")]
    assert flagged == [incidents[2]]
    [entry] = paging.timeline(incidents[2], "night_load_exceeded")
    assert entry.data["person"] == "e" and entry.data["night_pages"] == 3
    # The notice goes to the rotation's escalation target through its pager.
    paging.run()
    notices = [r for r in paging.triggers() if "night-load" in r.body["dedup_key"]]
    assert len(notices) == 1
    assert notices[0].body["payload"]["custom_details"]["on_call"]["name"] == "f"
    assert notices[0].body["dedup_key"] == "onwatch-night-load-e-20261130"
    # A fourth page that night does not notify again.
    paging.post(group("Night3"))
    paging.run()
    paging.run()
    assert len([r for r in paging.triggers() if "night-load" in r.body["dedup_key"]]) == 1


# --------------------------------------------------------------------------------------------
# Follow-ups after triggers that were tried but never confirmed


class _TimesOut:
    """The real pager, but every trigger's answer is lost: PagerDuty may well have it."""

    def __init__(self, real: Any, during: Callable[[], None] = lambda: None) -> None:
        self.real, self.kind, self.during = real, real.kind, during

    def send(self, request: PageRequest) -> Delivery:
        delivery = self.real.send(request)
        if request.action != "trigger":
            return delivery
        self.during()
        return Delivery(ok=False, retryable=True, detail="PagerDuty unreachable: ReadTimeout")


def _actions(paging: Paging) -> list[tuple[str, int]]:
    return [(r.body["event_action"], r.status) for r in events(paging.fake)]


def test_follow_up_after_a_trigger_that_timed_out_reaches_pagerduty(paging: Paging) -> None:
    paging.dispatcher.pagers = {"ops": _TimesOut(paging.dispatcher.pagers["ops"])}
    incident = paging.post(group())
    paging.run()
    [first] = [m for m in paging.messages(incident) if m.level == 0]
    assert (first.status, first.attempts) == ("pending", 1)
    key = f"onwatch-{incident}"
    [pd_incident] = paging.fake.incidents_for(key)  # the trigger did arrive
    assert pd_incident.status == "triggered"

    response = paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"})
    assert response.status_code == 200
    paging.run()
    assert paging.fake.incidents_for(key)[0].status == "acknowledged"
    paging.post(group(status="resolved"))  # Alertmanager resolves the group
    paging.run()
    assert paging.fake.incidents_for(key)[0].status == "resolved"
    assert _actions(paging) == [("trigger", 202), ("acknowledge", 202), ("resolve", 202)]
    assert paging.ledger() == []  # never confirmed: not counted as a page
    assert paging.timeline(incident, "page_failed") == []


def test_follow_up_after_a_trigger_answered_500_is_harmless(paging: Paging) -> None:
    paging.fake.fail_next(1, 500)
    incident = paging.post(group())
    paging.run()
    response = paging.client.post(f"/api/v1/incidents/{incident}/resolve", json={"by": "d"})
    assert response.status_code == 200
    paging.run()
    # PagerDuty accepts a resolve for a key it does not know, and does nothing with it.
    assert _actions(paging) == [("trigger", 500), ("resolve", 202)]
    assert paging.fake.incidents == []
    statuses = [(m.action, m.status) for m in paging.messages(incident)]
    assert ("resolve", "sent") in statuses and ("trigger", "failed") not in statuses
    assert paging.timeline(incident, "page_failed") == []


def test_follow_up_after_a_trigger_never_tried_is_not_sent(paging: Paging) -> None:
    paging.fake.set_down(True)  # refused: nothing can have arrived, but it was tried
    tried = paging.post(group("Tried"))
    paging.run()
    paging.fake.set_down(False)
    untried = paging.post(group("Untried"))
    for incident in (tried, untried):
        assert (
            paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"}).status_code
            == 200
        )
    paging.run()
    keys = [r.body["dedup_key"] for r in events(paging.fake) if r.status == 202]
    assert keys == [f"onwatch-{tried}"]  # the acknowledgement only; nothing for `untried`


def test_follow_up_when_the_trigger_in_flight_times_out(paging: Paging) -> None:
    """The acknowledgement lands while the trigger is on its way, and its answer is lost."""
    incident = paging.post(group())

    def ack() -> None:
        paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"})

    paging.dispatcher.pagers = {"ops": _TimesOut(paging.dispatcher.pagers["ops"], ack)}
    paging.run()
    first = paging.messages(incident)[0]
    assert (first.action, first.status, first.attempts) == ("trigger", "cancelled", 1)
    assert "ReadTimeout" in first.last_error
    paging.run()
    assert paging.fake.incidents_for(f"onwatch-{incident}")[0].status == "acknowledged"
    paging.clock.advance(minutes=60)
    paging.run()
    assert _actions(paging) == [("trigger", 202), ("acknowledge", 202)]


def test_follow_up_after_an_unconfirmed_rest_trigger_is_skipped_visibly(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake, rest_paging_config(fake))
    fake.fail_next(1, 500)
    incident = paging.post(group())
    paging.run()
    response = paging.client.post(f"/api/v1/incidents/{incident}/ack", json={"by": "d"})
    assert response.status_code == 200
    paging.run()
    assert [(r.method, r.status) for r in fake.requests] == [("POST", 500)]
    [entry] = paging.timeline(incident, "pager_not_told")
    assert entry.message == (
        f"acknowledge not sent via pagerduty-rest: no page to onwatch-{incident} was "
        "confirmed, and pagerduty-rest can only address an incident it confirmed opening"
    )
