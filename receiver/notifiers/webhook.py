"""A generic JSON webhook notifier, for chat bridges and tools that are not Slack."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from receiver.notifiers.base import Notice, redacted
from receiver.pagers.base import (
    Delivery,
    error_message,
    failure,
    jsonable,
    retry_after_seconds,
    unreachable,
)

SERVICE = "the notification webhook"


class WebhookNotifier:
    """POSTs each notice as one JSON document; 2xx is success."""

    kind = "webhook"

    def __init__(self, url: str, headers: Mapping[str, str] | None = None, timeout: float = 10):
        self._url = url
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update(headers or {})

    def __repr__(self) -> str:
        return "WebhookNotifier()"  # the URL may hold a token

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def send(self, notice: Notice) -> Delivery:
        """One POST; 4xx (but 408/429) is permanent, 5xx and no answer are retryable."""
        try:
            response = self._session.post(
                self._url, json=notice_document(notice), timeout=self._timeout
            )
        except requests.RequestException as error:
            return unreachable(SERVICE, error)
        if response.ok:
            return Delivery(ok=True, detail=f"{SERVICE} answered {response.status_code}")
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:200]
        delivery = failure(
            response.status_code,
            error_message(body),
            retry_after=retry_after_seconds(
                response.headers.get("Retry-After"), now=datetime.now(UTC)
            ),
            service=SERVICE,
        )
        return redacted(delivery, self._url)


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
