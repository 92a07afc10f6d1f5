"""A generic JSON webhook pager, for any tool that is not PagerDuty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from receiver.pagers.base import (
    Delivery,
    PageRequest,
    error_message,
    failure,
    jsonable,
    retry_after_seconds,
    unreachable,
)


class WebhookPager:
    """POSTs each request as one JSON document; 2xx is success."""

    kind = "webhook"

    def __init__(self, url: str, headers: Mapping[str, str] | None = None, timeout: float = 10):
        self._url = url
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers.update(headers or {})

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def send(self, request: PageRequest) -> Delivery:
        """One POST; 4xx (but 408/429) is permanent, 5xx and no answer are retryable."""
        try:
            response = self._session.post(
                self._url, json=webhook_document(request), timeout=self._timeout
            )
        except requests.RequestException as error:
            return unreachable("the webhook", error)
        if response.ok:
            return Delivery(ok=True, detail=f"the webhook answered {response.status_code}")
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:200]
        return failure(
            response.status_code,
            error_message(body),
            retry_after=retry_after_seconds(
                response.headers.get("Retry-After"), now=datetime.now(UTC)
            ),
            service="the webhook",
        )


def webhook_document(request: PageRequest) -> dict[str, Any]:
    """The JSON a webhook receives: the request, field for field."""
    recipient = request.recipient
    return {
        "action": str(request.action),
        "dedup_key": request.dedup_key,
        "summary": request.summary,
        "severity": str(request.severity),
        "source": request.source,
        "recipient": (
            {
                "name": recipient.name,
                "email": recipient.email,
                "pagerduty_user_id": recipient.pagerduty_user_id,
            }
            if recipient
            else None
        ),
        "level": request.level,
        "details": jsonable(request.details),
        "links": [{"href": href, "text": text} for href, text in request.links],
        "reference": request.reference,
    }
