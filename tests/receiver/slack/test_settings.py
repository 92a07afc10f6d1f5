"""The `chat.slack` section: off without a bot token, and what `config check` warns of."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from receiver.slack.settings import SlackSettings


def test_an_empty_bot_token_turns_slack_off() -> None:
    slack = SlackSettings.model_validate({"bot_token": "", "signing_secret": ""})
    assert not slack.enabled and not slack.wants_channel("SEV1")
    assert slack.problems() == []


def test_what_is_missing_is_named() -> None:
    no_secret = SlackSettings.model_validate({"bot_token": "xoxb-1"})
    assert any("signing_secret is empty" in p for p in no_secret.problems())
    no_token = SlackSettings.model_validate({"signing_secret": "s"})
    assert any("bot_token is empty" in p for p in no_token.problems())
    asked = SlackSettings.model_validate({"bot_token": "", "channel_for": ["SEV1", "SEV2"]})
    assert any(
        "channel_for asks for channels for SEV1, SEV2 but chat.slack.bot_token is empty" in p
        for p in asked.problems()
    )
    none_for = SlackSettings.model_validate(
        {"bot_token": "x", "signing_secret": "s", "channel_for": []}
    )
    assert any("channel_for is empty" in p for p in none_for.problems())


def test_channel_for_archive_after_and_base_url() -> None:
    slack = SlackSettings.model_validate(
        {
            "bot_token": "x",
            "channel_for": ["SEV1"],
            "archive_after": "2h",
            "base_url": "http://127.0.0.1:1/api",
        }
    )
    assert slack.wants_channel("SEV1") and not slack.wants_channel("SEV2")
    assert slack.archive_delay == timedelta(hours=2)
    assert slack.base_url == "http://127.0.0.1:1/api/"


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("archive_after", "soon", "duration"),
        ("channel_for", ["SEV9"], "SEV1"),
        ("base_url", "slack.com", "http"),
        ("bot_tokn", "x", "Extra inputs"),
    ],
)
def test_bad_values_are_refused_naming_the_problem(key: str, value: object, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        SlackSettings.model_validate({key: value})
    assert words in str(error.value)
