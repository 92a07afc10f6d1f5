"""The one small interface every pager implements, and the request it is given.

A pager turns a `PageRequest` into one HTTP attempt and says how it went in a
`receiver.delivery.outcome.Delivery`. It never raises for delivery problems (a refused connection, a
429, a 500, a 400): those come back as `Delivery(ok=False, retryable=...)` so that the outbox
decides when to retry. Only programming errors raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from receiver.delivery.outcome import Delivery


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
    # The person paged; on an acknowledge/resolve, the person whose page it follows up when
    # the pager routes by person (PagerDuty Events), else None.
    recipient: Recipient | None
    level: int = 0  # escalation level, 0 = primary
    target: str = ""  # the layer paged ("primary", ...) or "escalation"; "" when none
    details: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()  # (href, text)
    reference: str | None = None  # the pager's own id from an earlier delivery


class Pager(Protocol):
    kind: str

    def send(self, request: PageRequest) -> Delivery:
        """Deliver `request` once; never raise for delivery problems."""
        ...
