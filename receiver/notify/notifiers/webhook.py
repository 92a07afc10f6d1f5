"""A generic JSON webhook notifier, for chat bridges and tools that are not Slack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.delivery.json_post import JsonPoster
from receiver.delivery.outcome import Delivery, jsonable
from receiver.notify.notifiers.base import Notice, redacted

SERVICE = "the notification webhook"


class WebhookNotifier:
    """POSTs each notice as one JSON document; 2xx is success."""

    kind = "webhook"

    def __init__(self, url: str, headers: Mapping[str, str] | None = None, timeout: float = 10):
        self._poster = JsonPoster(url, service=SERVICE, headers=headers, timeout=timeout)

    def __repr__(self) -> str:
        return "WebhookNotifier()"  # the URL may hold a token

    def close(self) -> None:
        """Release pooled connections."""
        self._poster.close()

    def send(self, notice: Notice) -> Delivery:
        """One POST; 4xx (but 408/429) is permanent, 5xx and no answer are retryable."""
        return redacted(self._poster.post(notice_document(notice)), self._poster.url)


def notice_document(notice: Notice) -> dict[str, Any]:
    """The JSON a notification webhook receives: the notice, field for field."""
    return {
        "topic": notice.topic,
        "subject": notice.subject,
        "text": notice.text,
        "incident_id": notice.incident_id,
        "audience": notice.audience,
        "dedup_key": notice.dedup_key,
        "payload": jsonable(notice.payload),
    }
