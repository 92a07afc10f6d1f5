"""The Slack harness: the paging harness (app, dispatcher, fake PagerDuty) with Slack on,
pointed at a fake Slack, the Slack dispatcher built as the scheduler builds it, and signed
requests as Slack sends them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from receiver.slack.dispatcher import SlackDispatcher, build_slack_dispatcher
from receiver.slack.models import SlackCall, SlackChannel
from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeChannel, FakeSlack
from tests.support.paging import Paging, make_paging, paging_config

# Slack users of the rota's people (tests/support/rota_config): found by e-mail.
SLACK_USERS = {f"{name}@example.com": f"U{name.upper()}0000" for name in "abcdef"}


def slack_config(fake: FakePagerDuty, slack: FakeSlack, **chat: Any) -> dict[str, Any]:
    """The paging configuration with Slack on, through the fake Slack."""
    config = paging_config(fake)
    config["chat"] = {
        "slack": {
            "bot_token": BOT_TOKEN,
            "signing_secret": SIGNING_SECRET,
            "base_url": slack.base_url,
            **chat,
        }
    }
    return config


@dataclass
class SlackHarness:
    """The paging harness, the fake Slack and the Slack dispatcher."""

    paging: Paging
    slack: FakeSlack
    dispatcher: SlackDispatcher
    outcomes: list[tuple[str, str]]

    @property
    def client(self) -> FlaskClient:
        return self.paging.client

    @property
    def clock(self) -> Clock:
        return self.paging.clock

    def run(self) -> int:
        """One Slack dispatcher round at the clock's time."""
        return self.dispatcher.run_once()

    def channel(self, incident_id: int) -> SlackChannel | None:
        with self.paging.store.read() as session:
            return session.get(SlackChannel, incident_id)

    def slack_channel(self, incident_id: int) -> FakeChannel | None:
        """The fake Slack's channel of the incident, by the name onwatch recorded (None when
        onwatch recorded none, or Slack has none of that name)."""
        recorded = self.channel(incident_id)
        return None if recorded is None else self.slack.channel_named(recorded.name)

    def calls(self, incident_id: int) -> list[SlackCall]:
        with self.paging.store.read() as session:
            return list(session.exec(select(SlackCall).where(SlackCall.incident_id == incident_id)))

    def signed(
        self,
        path: str,
        fields: dict[str, str],
        *,
        at: float | None = None,
        secret: str = SIGNING_SECRET,
    ) -> Any:
        """POST `fields` form-encoded to `path`, signed as Slack signs (at the clock's time)."""
        body = urlencode(fields)
        timestamp = str(int(at if at is not None else self.clock().timestamp()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        return self.client.post(
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or ""},
        )

    def command(
        self,
        text: str,
        *,
        user: str,
        channel: str = "CELSEWHERE",
        trigger_id: str = "T-trigger-1",
        **kwargs: Any,
    ) -> Any:
        """A signed `/onwatch <text>`."""
        fields = {
            "command": "/onwatch",
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "response_url": self.slack.response_url,
            "trigger_id": trigger_id,
        }
        return self.signed("/api/v1/slack/commands", fields, **kwargs)

    def click(
        self, action: str, incident_id: int, *, user: str, message: dict[str, Any] | None = None
    ) -> Any:
        """A signed click on a button of the opening message (`message`: as Slack shows it)."""
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "actions": [{"action_id": action, "value": str(incident_id)}],
            "response_url": self.slack.response_url,
            **({"message": message} if message is not None else {}),
        }
        return self.signed("/api/v1/slack/interactions", {"payload": json.dumps(payload)})

    def submit(self, view: dict[str, Any], values: dict[str, str], *, user: str) -> Any:
        """A signed `view_submission` of the form `view` (as views.open got it), its
        inputs filled with `values` by block id."""
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            value = values.get(block["block_id"], "")
            if block["element"]["type"] == "static_select":
                chosen = {"selected_option": {"value": value}} if value else {}
                state[block["block_id"]] = {"value": {"type": "static_select", **chosen}}
            else:
                state[block["block_id"]] = {"value": {"type": "plain_text_input", "value": value}}
        payload = {
            "type": "view_submission",
            "user": {"id": user},
            "view": {**view, "state": {"values": state}},
        }
        return self.signed("/api/v1/slack/interactions", {"payload": json.dumps(payload)})

    def wait_for_response_url(self, count: int = 1) -> list[dict[str, Any]]:
        """The bodies POSTed to response_url, once `count` arrived (a worker thread sends)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            sent = self.slack.called("response_url")
            if len(sent) >= count:
                return [call.args for call in sent]
            time.sleep(0.02)
        raise AssertionError(f"nothing posted to response_url: {self.slack.calls}")


def make_slack(
    make_app: Callable[..., Flask],
    store: Store,
    clock: Clock,
    fake: FakePagerDuty,
    slack: FakeSlack,
    **chat: Any,
) -> SlackHarness:
    """The harness with Slack on (`chat` overrides `chat.slack` keys)."""
    paging = make_paging(make_app, store, clock, fake, slack_config(fake, slack, **chat))
    settings = paging.app.extensions["onwatch"].settings
    outcomes: list[tuple[str, str]] = []
    dispatcher = build_slack_dispatcher(
        settings.chat.slack,
        settings.people,
        store=store,
        clock=clock,
        on_outcome=lambda action, outcome: outcomes.append((action, outcome)),
    )
    assert dispatcher is not None
    return SlackHarness(paging, slack, dispatcher, outcomes)
