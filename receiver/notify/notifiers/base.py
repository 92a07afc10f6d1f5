"""The one small interface every notifier implements: deliver a `Notice` once, say how it went.

A notifier is to people what a pager is to the person on call: one HTTP attempt per
`send`, answered with the pagers' own `Delivery`. It never raises for delivery problems (a
refused connection, a 429, a 500, a 400): those come back as `Delivery(ok=False,
retryable=...)` so that the notification dispatcher decides when to retry. Only programming
errors raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from receiver.delivery.outcome import Delivery

REDACTED = "<redacted URL>"


@dataclass(frozen=True)
class Notice:
    """One rendered message for one target: a status update, a reminder, an all-clear."""

    topic: str  # status_update | all_clear | reminder | ...
    subject: str  # one line
    text: str  # what a person reads (Slack mrkdwn where the target is Slack)
    payload: Mapping[str, Any] = field(default_factory=dict)  # structured, for machines
    dedup_key: str = ""
    incident_id: int | None = None
    audience: str = ""  # exec | team | ... or "" when addressed directly


class Notifier(Protocol):
    kind: str

    def send(self, notice: Notice) -> Delivery:
        """Deliver `notice` once; never raise for delivery problems."""
        ...


def redact(text: str, url: str) -> str:
    """`text` without `url` or its path: a webhook URL is a credential (Slack's is)."""
    if not url:
        return text
    text = text.replace(url, REDACTED)
    # A proxy or server may echo only the path, which holds the secret part.
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    if len(path) >= 8:
        text = text.replace("/" + path, REDACTED)
    return text


def redacted(delivery: Delivery, url: str) -> Delivery:
    """`delivery` with `url` cut out of its detail, which ends up in timelines and logs."""
    return replace(delivery, detail=redact(delivery.detail, url))
