"""A generic JSON webhook pager, for any tool that is not PagerDuty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from receiver.delivery.json_post import JsonPoster
from receiver.delivery.outcome import Delivery, jsonable
from receiver.paging.pagers.base import PageRequest


class WebhookPager:
    """POSTs each request as one JSON document; 2xx is success."""

    kind = "webhook"

    def __init__(self, url: str, headers: Mapping[str, str] | None = None, timeout: float = 10):
        self._poster = JsonPoster(url, service="the webhook", headers=headers, timeout=timeout)

    def close(self) -> None:
        """Release pooled connections."""
        self._poster.close()

    def send(self, request: PageRequest) -> Delivery:
        """One POST; 4xx (but 408/429) is permanent, 5xx and no answer are retryable."""
        return self._poster.post(webhook_document(request))


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
