"""PagerDuty REST API through pdpyras: onwatch's rota decides who is paged.

A trigger creates an incident on the configured service assigned directly to the on-call
person (`incident_key` = the onwatch incident key); an escalation reassigns that incident;
acknowledge and resolve set its status. Every PagerDuty request is one HTTP attempt.

Repeats are harmless: PagerDuty refuses a second open incident with the same incident_key
(400, "Open incident with matching dedup key already exists on this service"), which is
taken as success after looking the open incident up. Acknowledge and resolve use the
incident id from the trigger's delivery (`PageRequest.reference`) and, when it is missing,
look the incident up by incident_key; if PagerDuty has none, that is a permanent failure.
"""

from __future__ import annotations

from typing import Any

from receiver.delivery.outcome import Delivery, jsonable
from receiver.paging.pagers._pdpyras import (
    APISession,
    PDClientError,
    PDHTTPError,
    failed_delivery,
    single_attempt,
)
from receiver.paging.pagers.base import PageAction, PageRequest, Recipient

TITLE_LIMIT = 1024
DUPLICATE_KEY_TEXT = "matching dedup key already exists"
OPEN_STATUSES = ["triggered", "acknowledged"]
URGENCIES = {"SEV1": "high", "SEV2": "high", "SEV3": "low", "SEV4": "low"}
_TARGET_STATUS = {PageAction.ACKNOWLEDGE: "acknowledged", PageAction.RESOLVE: "resolved"}


class PagerDutyRestPager:
    """Creates, reassigns, acknowledges and resolves PagerDuty incidents."""

    kind = "pagerduty-rest"

    def __init__(
        self,
        api_token: str,
        from_email: str,
        service_id: str,
        base_url: str = "https://api.pagerduty.com",
        timeout: float = 10,
    ) -> None:
        # `From` must name a PagerDuty user: the creator and acknowledger PagerDuty records.
        self._session = APISession(api_token, default_from=from_email)
        single_attempt(self._session, base_url=base_url, timeout=timeout)
        self._service_id = service_id

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def send(self, request: PageRequest) -> Delivery:
        """One page, escalation, acknowledgement or resolution; failures are classified."""
        recipient = request.recipient
        if request.action is PageAction.TRIGGER and recipient and not recipient.pagerduty_user_id:
            return Delivery(
                ok=False, detail=f"{recipient.name} has no pagerduty_user_id in the config"
            )
        try:
            if request.action is PageAction.TRIGGER:
                return self._trigger(request)
            return self._set_status(request, _TARGET_STATUS[request.action])
        except PDClientError as error:
            return failed_delivery(error)

    def _trigger(self, request: PageRequest) -> Delivery:
        if request.reference:
            return self._reassign(request.reference, request)
        try:
            incident = self._session.rpost("/incidents", json=self._new_incident(request))
        except PDHTTPError as error:
            if not _is_duplicate_key(error):
                raise
            existing = self._find(request.dedup_key, OPEN_STATUSES)
            if existing is None:
                # Refused as a duplicate yet not listed: it was probably resolved meanwhile.
                return Delivery(
                    ok=False,
                    retryable=True,
                    detail=f"PagerDuty reports an open incident {request.dedup_key} "
                    "but does not list it",
                )
            if request.level > 0:
                return self._reassign(existing["id"], request)
            # A repeated delivery: the incident exists, and must not be handed back to the
            # primary if PagerDuty has reassigned it since.
            return Delivery(
                ok=True,
                reference=existing["id"],
                detail=f"PagerDuty incident {existing['id']} was already open",
            )
        return Delivery(
            ok=True, reference=incident["id"], detail=f"created PagerDuty incident {incident['id']}"
        )

    def _reassign(self, incident_id: str, request: PageRequest) -> Delivery:
        if request.recipient is None:
            raise ValueError("an escalation (trigger with a reference) needs a recipient")
        self._session.rput(
            f"/incidents/{incident_id}",
            json={
                "type": "incident_reference",
                "assignments": _assignments(request.recipient),
            },
        )
        return Delivery(
            ok=True,
            reference=incident_id,
            detail=f"reassigned PagerDuty incident {incident_id} to {request.recipient.name}",
        )

    def _set_status(self, request: PageRequest, status: str) -> Delivery:
        incident_id = request.reference
        if not incident_id:
            found = self._find(request.dedup_key, None)
            if found is None:
                return Delivery(
                    ok=False,
                    detail=f"PagerDuty has no incident with incident_key {request.dedup_key}",
                )
            incident_id = found["id"]
            if found.get("status") == "resolved":
                return _already(incident_id, "resolved")
        try:
            self._session.rput(
                f"/incidents/{incident_id}", json={"type": "incident_reference", "status": status}
            )
        except PDHTTPError as error:
            # Repeating an update PagerDuty already applied (the first answer was lost) may be
            # refused; what matters is whether the incident is now where we wanted it.
            if error.response.status_code not in (400, 409):
                raise
            current = self._session.rget(f"/incidents/{incident_id}")
            if current.get("status") in (status, "resolved"):
                return _already(incident_id, current["status"])
            raise
        return Delivery(
            ok=True, reference=incident_id, detail=f"PagerDuty incident {incident_id} {status}"
        )

    def _find(self, incident_key: str, statuses: list[str] | None) -> dict[str, Any] | None:
        params: dict[str, Any] = {"incident_key": incident_key}
        # Without statuses any incident counts, however old (PagerDuty's default is 30 days).
        params.update({"statuses": statuses} if statuses else {"date_range": "all"})
        incidents = self._session.rget("/incidents", params=params)
        matching = [i for i in incidents if i.get("incident_key") == incident_key]
        # Prefer an open one; else the newest (PagerDuty lists oldest first).
        open_ones = [i for i in matching if i.get("status") in OPEN_STATUSES]
        return (open_ones or matching or [None])[-1]

    def _new_incident(self, request: PageRequest) -> dict[str, Any]:
        incident: dict[str, Any] = {
            "type": "incident",
            "title": request.summary[:TITLE_LIMIT],
            "service": {"id": self._service_id, "type": "service_reference"},
            "urgency": urgency(request.severity),
            "incident_key": request.dedup_key,
            "body": {"type": "incident_body", "details": _body_details(request)},
        }
        if request.recipient is not None:
            incident["assignments"] = _assignments(request.recipient)
        return incident


def urgency(severity: str) -> str:
    """SEV1-2 notify with high urgency (phone, SMS); SEV3-4 with low urgency."""
    try:
        return URGENCIES[str(severity)]
    except KeyError:
        raise ValueError(f'unknown severity "{severity}": expected SEV1..SEV4') from None


def _assignments(recipient: Recipient) -> list[dict[str, Any]]:
    return [{"assignee": {"id": recipient.pagerduty_user_id, "type": "user_reference"}}]


def _body_details(request: PageRequest) -> str:
    """The incident body: PagerDuty shows it as text, so explanation and links as lines."""
    lines = [f"{request.severity} on {request.source}"]
    lines += [f"{key}: {value}" for key, value in jsonable(request.details).items()]
    lines += [f"{text}: {href}" for href, text in request.links]
    return "\n".join(lines)


def _is_duplicate_key(error: PDHTTPError) -> bool:
    if error.response.status_code != 400:
        return False
    return DUPLICATE_KEY_TEXT in error.response.text.lower()


def _already(incident_id: str, status: str) -> Delivery:
    return Delivery(
        ok=True, reference=incident_id, detail=f"PagerDuty incident {incident_id} already {status}"
    )
