"""The `chat.slack:` section: the bot that opens incident channels and the signing secret
that authenticates Slack's commands and button clicks.

An empty `bot_token` (an unset `${ONWATCH_SLACK_BOT_TOKEN}`) turns Slack off: no channel is
created and the checklist says why. An empty `signing_secret` refuses every command and
click (401): Slack signs them instead of sending the API token.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr, field_validator

from receiver.config.base import SettingsModel, parse_duration
from receiver.config.interpolation import blank_is_unset
from rules.severity import SeverityName

DEFAULT_BASE_URL = "https://slack.com/api/"


class SlackSettings(SettingsModel):
    """Slack's Web API through the bot token; inbound requests verified with the secret."""

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL  # tests point it at a fake Slack on loopback
    channel_for: list[SeverityName] = ["SEV1", "SEV2", "SEV3"]
    private: bool = False  # private channels need the groups:write scope
    announce_channel: str = "#incidents"  # "" announces nowhere
    archive_after: str = "24h"  # after the resolution: people can still talk meanwhile
    link_base: str = ""  # where people reach onwatch, for the incident's link in the topic

    blanks_are_unset = field_validator("bot_token", "signing_secret", mode="before")(blank_is_unset)

    @field_validator("archive_after")
    @classmethod
    def _duration(cls, text: str) -> str:
        parse_duration(text)  # a ValueError names the expected form
        return text

    @field_validator("base_url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        return url if url.endswith("/") else url + "/"

    @property
    def enabled(self) -> bool:
        """Slack is on when there is a bot token to call it with."""
        return self.bot_token is not None

    @property
    def archive_delay(self) -> timedelta:
        """How long after the resolution the channel is archived."""
        return parse_duration(self.archive_after)

    def wants_channel(self, severity: str) -> bool:
        """Whether an incident of `severity` gets a channel (Slack on, severity listed)."""
        return self.enabled and severity in self.channel_for

    def problems(self) -> list[str]:
        """What `config check` warns about: what is missing for what is asked."""
        found: list[str] = []
        if not self.enabled:
            if "channel_for" in self.model_fields_set and self.channel_for:
                found.append(
                    f"chat.slack.channel_for asks for channels for {', '.join(self.channel_for)} "
                    "but chat.slack.bot_token is empty: no incident gets a channel (set "
                    "ONWATCH_SLACK_BOT_TOKEN)"
                )
            if self.signing_secret is not None:
                found.append(
                    "chat.slack.signing_secret is set but chat.slack.bot_token is empty: Slack is "
                    "off (set ONWATCH_SLACK_BOT_TOKEN)"
                )
            return found
        if not self.channel_for:
            found.append("chat.slack.channel_for is empty: no incident gets a channel")
        if self.signing_secret is None:
            found.append(
                "chat.slack.signing_secret is empty: every /onwatch command and button click is "
                "refused (set ONWATCH_SLACK_SIGNING_SECRET)"
            )
        return found


class ChatSettings(SettingsModel):
    """The `chat:` section: the chat tools incidents get channels in."""

    slack: SlackSettings = SlackSettings()
