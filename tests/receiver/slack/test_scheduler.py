"""The elected scheduler makes the Slack calls: its outbox job runs the Slack dispatcher, and
each outcome is counted (`on_slack`, the metric's hook)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from receiver.jobs.runner import SchedulerRunner
from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.fake_slack import FakeSlack
from tests.support.paging import group, make_paging
from tests.support.servers import wait_for
from tests.support.slack import slack_config


def test_the_scheduler_makes_the_channel_and_counts_each_call(
    make_app: Callable[..., Flask],
    store: Store,
    clock: Clock,
    fake: FakePagerDuty,
    slack: FakeSlack,
) -> None:
    config = slack_config(fake, slack)
    config["dispatcher"] = {"poll_seconds": 0.05}
    paging = make_paging(make_app, store, clock, fake, config)
    counted: list[tuple[str, str]] = []
    runner = SchedulerRunner(
        paging.app.extensions["onwatch"].settings,
        store=store,
        clock=clock,
        holder="leader",
        on_slack=lambda action, outcome: counted.append((action, outcome)),
    )
    try:
        runner.tick()
        assert runner.leading and runner.slack is not None
        paging.post(group("HighErrorRate"))
        wait_for(lambda: ("announce", "sent") in counted, timeout=10, what="the announcement")
    finally:
        runner._stop_jobs()
        runner.lease.release()
    assert len(slack.ok("conversations.create")) == 1
    assert ("create", "sent") in counted


def test_without_a_bot_token_the_scheduler_has_no_slack_dispatcher(
    make_app: Callable[..., Flask], store: Store, clock: Clock, fake: FakePagerDuty
) -> None:
    paging = make_paging(make_app, store, clock, fake)
    runner = SchedulerRunner(paging.app.extensions["onwatch"].settings, store=store, clock=clock)
    assert runner.slack is None
