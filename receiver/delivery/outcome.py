"""How one delivery attempt went, for pagers and notifiers alike, and how to classify it.

Every sender (the PagerDuty and webhook pagers, the webhook, Slack and e-mail notifiers)
makes one attempt and answers a `Delivery`; the outbox dispatchers decide from `retryable`
and `retry_after` when to try again. The helpers here turn HTTP answers and connection errors
into that verdict, with a short detail that names the problem and never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

DETAIL_LIMIT = 300  # a Delivery.detail ends up in timelines and logs: keep it a sentence


@dataclass(frozen=True)
class Delivery:
    """How one delivery attempt went."""

    ok: bool
    retryable: bool = False  # 408, 429, 5xx, connection errors, timeouts
    retry_after: float | None = None  # seconds, from Retry-After when given
    detail: str = ""  # short, human, never a secret
    reference: str | None = None  # e.g. the PagerDuty incident id a REST trigger created


def is_retryable_status(status: int) -> bool:
    """408 and 429 ask us to come back later, a 5xx may heal; any other 4xx will not."""
    return status in (408, 429) or status >= 500


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate leaves "-0000" naive
        return None
    return max(0.0, (when - now).total_seconds())


def failure(
    status: int, message: str, *, retry_after: float | None = None, service: str = "PagerDuty"
) -> Delivery:
    """A failed delivery for an HTTP answer, classified as retryable or permanent."""
    detail = f"{service} answered {status}" + (f": {message}" if message else "")
    return Delivery(
        ok=False,
        retryable=is_retryable_status(status),
        retry_after=retry_after,
        detail=shorten(detail),
    )


def error_body(response: requests.Response) -> str:
    """The receiver's own words from an error answer: its JSON message, else the text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:200]
    return error_message(body)


def http_failure(
    response: requests.Response,
    *,
    service: str = "PagerDuty",
    error_of: Callable[[requests.Response], str] = error_body,
) -> Delivery:
    """A failed delivery for an error answer: its words (`error_body` unless `error_of`
    reads them) and its Retry-After."""
    return failure(
        response.status_code,
        error_of(response),
        retry_after=retry_after_seconds(response.headers.get("Retry-After"), now=datetime.now(UTC)),
        service=service,
    )


def unreachable(service: str, error: BaseException) -> Delivery:
    """A retryable failure for a connection error or timeout (names the kind, not the URL)."""
    return Delivery(
        ok=False, retryable=True, detail=shorten(f"{service} unreachable: {_kind(error)}")
    )


def shorten(text: str, limit: int = DETAIL_LIMIT) -> str:
    """Cut a detail to one readable line."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_message(body: Any) -> str:
    """PagerDuty's (or a webhook's) own words from an error body, without the noise."""
    if not isinstance(body, dict):
        return str(body) if body else ""
    # Events API: {"message", "errors"}; REST API: {"error": {"message", "code", "errors"}}.
    error = body.get("error")
    inner = error if isinstance(error, dict) else body
    message = str(inner.get("message") or body.get("status") or "")
    errors = inner.get("errors") or []
    if isinstance(errors, list) and errors:
        message += " (" + "; ".join(str(e) for e in errors) + ")"
    return message


def jsonable(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as plain JSON values: a datetime in an explanation must not fail a page."""
    return json.loads(json.dumps(dict(details), default=str))


def _kind(error: BaseException) -> str:
    # The innermost cause names the real problem (ConnectTimeout, ConnectionError, ...);
    # its text would repeat the URL and pool internals, so only the class name is kept.
    while error.__cause__ is not None:
        error = error.__cause__
    return type(error).__name__
