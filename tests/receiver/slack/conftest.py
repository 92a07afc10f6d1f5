"""Fixtures of the Slack tests: a fake Slack on loopback, and an app wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.fake_slack import FakeSlack
from tests.support.slack import SLACK_USERS, SlackHarness, make_slack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API that knows SLACK_USERS, stopped after the test."""
    with FakeSlack(users=SLACK_USERS) as server:
        yield server


@pytest.fixture
def harness(
    make_app: Callable[..., Flask],
    store: Store,
    clock: Clock,
    fake: FakePagerDuty,
    slack: FakeSlack,
) -> SlackHarness:
    """An app paging the fake PagerDuty and talking to the fake Slack."""
    return make_slack(make_app, store, clock, fake, slack)
