"""PagerDuty Events API v2 through pdpyras: trigger, acknowledge, resolve by dedup key.

PagerDuty's own escalation policy decides whom it notifies; onwatch's choice of person
travels in custom_details. Each send is one HTTP attempt (see `_pdpyras.single_attempt`).
"""

from __future__ import annotations

from typing import Any

from receiver.delivery.outcome import Delivery, jsonable
from receiver.paging.pagers._pdpyras import (
    EventsAPISession,
    PDClientError,
    failed_delivery,
    single_attempt,
)
from receiver.paging.pagers.base import PageAction, PageRequest

SUMMARY_LIMIT = 1024  # PagerDuty rejects a longer payload.summary
SEVERITIES = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}


class PagerDutyEventsPager:
    """Sends each page as an Events API v2 event whose dedup_key is the incident key."""

    kind = "pagerduty-events"

    def __init__(
        self,
        routing_key: str,
        base_url: str = "https://events.pagerduty.com",
        timeout: float = 10,
    ) -> None:
        self._session = EventsAPISession(routing_key)
        single_attempt(self._session, base_url=base_url, timeout=timeout)

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def send(self, request: PageRequest) -> Delivery:
        """One event to PagerDuty; 202 is success, anything else a classified failure."""
        try:
            if request.action is PageAction.TRIGGER:
                self._session.trigger(
                    summary=request.summary[:SUMMARY_LIMIT],
                    source=request.source,
                    dedup_key=request.dedup_key,
                    severity=event_severity(request.severity),
                    custom_details=custom_details(request),
                    links=[{"href": href, "text": text} for href, text in request.links],
                )
            elif request.action is PageAction.ACKNOWLEDGE:
                self._session.acknowledge(request.dedup_key)
            else:
                self._session.resolve(request.dedup_key)
        except PDClientError as error:
            return failed_delivery(error)
        return Delivery(ok=True, detail=f"PagerDuty accepted the {request.action} event")


def event_severity(severity: str) -> str:
    """onwatch's SEV1..SEV4 as the Events API's critical/error/warning/info."""
    try:
        return SEVERITIES[str(severity)]
    except KeyError:
        raise ValueError(f'unknown severity "{severity}": expected SEV1..SEV4') from None


def custom_details(request: PageRequest) -> dict[str, Any]:
    """The rule's explanation plus who onwatch says is on call, for the responder's eyes."""
    details = jsonable(request.details)
    details["on_call"] = (
        {"name": request.recipient.name, "email": request.recipient.email}
        if request.recipient
        else None
    )
    details["escalation_level"] = request.level
    return details
