"""PagerDuty Events API v2 through pdpyras: trigger, acknowledge, resolve by dedup key.

An event names no person: PagerDuty notifies whoever the escalation policy of the service
behind its routing key names. So each page goes to the routing key `receiver.paging.routing`
chooses for its person and layer (a service that wakes just that person, when configured),
and an acknowledgement or resolution goes to the routing key its page went to (PagerDuty
dedups per service: the same dedup key on another key is another alert). onwatch's choice
of person also travels in custom_details. Each send is one HTTP attempt (see
`_pdpyras.single_attempt`).
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
from receiver.paging.routing import RoutingKeys

SUMMARY_LIMIT = 1024  # PagerDuty rejects a longer payload.summary
SEVERITIES = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning", "SEV4": "info"}


class PagerDutyEventsPager:
    """Sends each page as an Events API v2 event, with the page's dedup key, to the routing
    key of the person (or layer) it is for."""

    kind = "pagerduty-events"

    def __init__(
        self,
        routing_keys: RoutingKeys | str,
        base_url: str = "https://events.pagerduty.com",
        timeout: float = 10,
    ) -> None:
        if isinstance(routing_keys, str):
            routing_keys = RoutingKeys(default=routing_keys)
        self._keys = routing_keys
        # pdpyras puts its session's key into every event: one session per routing key.
        self._sessions: dict[str, EventsAPISession] = {}
        for key in sorted(routing_keys.all_keys()):
            session = EventsAPISession(key)
            single_attempt(session, base_url=base_url, timeout=timeout)
            self._sessions[key] = session

    def close(self) -> None:
        """Release pooled connections."""
        for session in self._sessions.values():
            session.close()

    def send(self, request: PageRequest) -> Delivery:
        """One event to PagerDuty; 202 is success, anything else a classified failure."""
        person = request.recipient.name if request.recipient else None
        route = self._keys.route(person, request.target)
        if route is None:  # the configuration check refuses this; a permanent failure
            whom = f"{person or 'nobody named'} as {request.target or 'no layer'}"
            return Delivery(
                ok=False,
                detail=f"no routing key for {whom}: set paging.pagerduty.routing_keys.people, "
                "routing_keys.layers or the default routing_key",
            )
        session = self._sessions[route.key]
        try:
            if request.action is PageAction.TRIGGER:
                session.trigger(
                    summary=request.summary[:SUMMARY_LIMIT],
                    source=request.source,
                    dedup_key=request.dedup_key,
                    severity=event_severity(request.severity),
                    custom_details=custom_details(request),
                    links=[{"href": href, "text": text} for href, text in request.links],
                )
            elif request.action is PageAction.ACKNOWLEDGE:
                session.acknowledge(request.dedup_key)
            else:
                session.resolve(request.dedup_key)
        except PDClientError as error:
            return failed_delivery(error)
        return Delivery(
            ok=True, detail=f"PagerDuty accepted the {request.action} event ({route.via})"
        )


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
