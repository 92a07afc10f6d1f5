"""The one small interface every pager implements, and the answer classes they share.

A pager turns a `PageRequest` into one HTTP attempt and says how it went in a `Delivery`.
It never raises for delivery problems (a refused connection, a 429, a 500, a 400): those
come back as `Delivery(ok=False, retryable=...)` so that the outbox decides when to retry.
Only programming errors raise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

DETAIL_LIMIT = 300  # a Delivery.detail ends up in timelines and logs: keep it a sentence


class PageAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Recipient:
    """The person the rota says to page."""

    name: str
    email: str
    pagerduty_user_id: str


@dataclass(frozen=True)
class PageRequest:
    """One page, escalation, acknowledgement or resolution to deliver."""

    action: PageAction
    dedup_key: str  # the onwatch incident key: PagerDuty's dedup_key / incident_key
    summary: str
    severity: str  # "SEV1".."SEV4"
    source: str  # the service
    recipient: Recipient | None  # None for acknowledge/resolve
    level: int = 0  # escalation level, 0 = primary
    details: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()  # (href, text)
    reference: str | None = None  # the pager's own id from an earlier delivery


@dataclass(frozen=True)
class Delivery:
    """How one delivery attempt went."""

    ok: bool
    retryable: bool = False  # 408, 429, 5xx, connection errors, timeouts
    retry_after: float | None = None  # seconds, from Retry-After when given
    detail: str = ""  # short, human, never a secret
    reference: str | None = None  # e.g. the PagerDuty incident id a REST trigger created


class Pager(Protocol):
    kind: str

    def send(self, request: PageRequest) -> Delivery:
        """Deliver `request` once; never raise for delivery problems."""
        ...


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
    inner = body.get("error") if isinstance(body.get("error"), dict) else body
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
