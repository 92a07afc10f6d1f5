"""Slack's Web API through the official `slack_sdk` WebClient, each call's outcome as the
outboxes' `Delivery`: sent, to retry (429 with its Retry-After, 5xx, Slack's own transient
errors, an unreachable Slack) or refused for good (missing_scope, not_authed, ...)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from receiver.delivery.outcome import (
    Delivery,
    is_retryable_status,
    retry_after_seconds,
    shorten,
    unreachable,
)
from receiver.slack.settings import SlackSettings

TIMEOUT_SECONDS = 10
# Slack's `error` strings that say "try again later" even with a 200.
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def build_client(settings: SlackSettings, timeout: int = TIMEOUT_SECONDS) -> WebClient:
    """A WebClient for the bot (Slack must be on). It retries a dropped connection once
    itself; rate limits and errors are left to the outbox, which honours Retry-After."""
    assert settings.bot_token is not None
    return WebClient(
        token=settings.bot_token.get_secret_value(), base_url=settings.base_url, timeout=timeout
    )


class SlackRefused(Exception):
    """A Slack call that did not succeed, with its `Delivery` verdict and Slack's error."""

    def __init__(self, delivery: Delivery, error: str) -> None:
        super().__init__(delivery.detail)
        self.delivery = delivery
        self.error = error  # Slack's own error string ("name_taken"), or "" when unreachable


def call(method: Callable[..., SlackResponse], **arguments: Any) -> SlackResponse:
    """Make one Web API call; SlackRefused with the verdict when it does not succeed."""
    name = getattr(method, "__name__", "slack call")
    try:
        return method(**arguments)
    except SlackApiError as exc:
        raise SlackRefused(verdict(name, exc.response), _error(exc.response)) from None
    except Exception as exc:  # urllib's connection errors and timeouts, a body that is no JSON
        raise SlackRefused(unreachable("Slack", exc), "") from None


def _error(response: SlackResponse) -> str:
    data = response.data if isinstance(response.data, dict) else {}
    return str(data.get("error") or "")


def verdict(name: str, response: SlackResponse) -> Delivery:
    """How a failed call went: retryable or not, and when to come back."""
    error = _error(response)
    status = response.status_code
    headers = {key.lower(): value for key, value in (response.headers or {}).items()}
    raw = headers.get("retry-after")
    after = retry_after_seconds(raw[0] if isinstance(raw, list) else raw, now=datetime.now(UTC))
    detail = f"Slack {name.replace('_', '.', 1)} answered {status}" + (
        f": {error}" if error else ""
    )
    return Delivery(
        ok=False,
        retryable=is_retryable_status(status) or error in TRANSIENT,
        retry_after=after,
        detail=shorten(detail),
    )
