"""Alertmanager's webhook wire format (version "4"), validated and turned into an AlertGroup.

Field names follow the wire exactly (camelCase), so a validation error names the field the
sender got wrong: `alerts[0].fingerprint: Field required`. Unknown extra fields are ignored,
so a newer Alertmanager that adds a field is not rejected.

A payload no retry can fix is refused here (PayloadError, a 400), never later as a 500 that
Alertmanager would retry forever: an instant with no UTC equivalent
(`0001-01-01T00:00:00+01:00`) is a validation error. What can be stored with a small change
is stored, and the change is said in the incident's timeline rather than the alert lost: NUL
characters (which PostgreSQL's text cannot hold) are replaced with U+FFFD, and a
`truncatedAlerts` beyond what the database column holds is recorded as that maximum.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from receiver.config.keypath import format_location
from receiver.incidents.alerts import Alert, AlertGroup, AlertStatus
from receiver.web.request_body import storable_text, unstorable_kinds

# Alertmanager sends Go's zero time as the endsAt of a firing alert.
_GO_ZERO_TIME_YEAR = 1
_MAX_PROBLEMS_REPORTED = 5
# The incident's `truncated_alerts` is an INTEGER: 32 bits on PostgreSQL.
MAX_TRUNCATED_ALERTS = 2**31 - 1
# By value, as `AlertStatus(value)` finds them, without the Enum call per alert.
_STATUSES = {status.value: status for status in AlertStatus}
# In a body that validates, a string can hold NUL or a lone surrogate (what `storable_text`
# replaces) only by a JSON escape: \u0000, or \ud800 to \udfff in either case. A raw control
# character is invalid JSON and a surrogate is invalid UTF-8, so validation refuses both; the
# raw bytes are looked for too (`_may_hold_unstorable`) so as not to rely on that alone. A
# match can be a false alarm (a surrogate pair, an escaped backslash before "u0000", a raw
# NUL outside any string): the careful path then finds nothing to change.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")  # U+D800-U+DFFF encoded as UTF-8


def _in_utc(value: datetime | None) -> datetime | None:
    """The instant in UTC; a ValueError (a 400 naming the field) when it has none."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("out of range: the instant has no UTC equivalent") from None


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook payload; the message names the field."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AlertmanagerAlert(_Wire):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1, max_length=64)

    in_utc = field_validator("startsAt", "endsAt")(_in_utc)


class AlertmanagerPayload(_Wire):
    version: Literal["4"]
    receiver: str
    status: Literal["firing", "resolved"]
    alerts: list[AlertmanagerAlert]
    groupKey: str = Field(min_length=1)
    groupLabels: dict[str, str] = {}
    commonLabels: dict[str, str] = {}
    commonAnnotations: dict[str, str] = {}
    externalURL: str = ""
    truncatedAlerts: int = Field(default=0, ge=0)


def _ends_at(value: datetime | None) -> datetime | None:
    if value is None or value.year == _GO_ZERO_TIME_YEAR:
        return None
    return value  # already in UTC (`_in_utc`)


class _Storable:
    """Makes wire text storable (`storable_text`), remembering which fields it changed."""

    def __init__(self) -> None:
        self._changed: dict[str, set[str]] = {}

    def text(self, field: str, value: str) -> str:
        """`value`, storable; noted under `field` when that changed it."""
        cleaned = storable_text(value)
        if cleaned is not value:  # storable_text returns its argument when it is fine
            self._changed.setdefault(field, set()).update(unstorable_kinds(value))
        return cleaned

    def mapping(self, field: str, values: dict[str, str]) -> dict[str, str]:
        """Labels or annotations, keys and values storable."""
        return {self.text(field, key): self.text(field, value) for key, value in values.items()}

    def notes(self) -> tuple[str, ...]:
        """One sentence per changed field, for the incident's timeline."""
        return tuple(
            f"{field} contained {' and '.join(sorted(kinds))}, replaced with U+FFFD"
            for field, kinds in self._changed.items()
        )


class _AsSent(_Storable):
    """Keeps wire text as sent: for a body in which no text needs a change, as
    `_may_hold_unstorable` proves; no test per string and so nothing to note."""

    def text(self, field: str, value: str) -> str:
        return value

    def mapping(self, field: str, values: dict[str, str]) -> dict[str, str]:
        return values  # the payload is dropped after parsing: no one else holds them


def _may_hold_unstorable(body: bytes) -> bool:
    """Whether a string parsed from `body` may need `storable_text`; False proves none does.

    Plain substring tests first (fast scans), a regex only where they find a candidate: most
    bodies carry some escape (Alertmanager writes `&` in URLs as \\u0026) but none of these.
    """
    if b"\\u" in body and _UNSTORABLE_ESCAPE.search(body) is not None:
        return True
    if b"\x00" in body:
        return True
    return b"\xed" in body and _SURROGATE_UTF8.search(body) is not None


def _to_alert(wire: AlertmanagerAlert) -> Alert:
    """The domain alert, its text made storable (`_Storable`) and the changes noted."""
    clean = _Storable()
    return Alert(
        fingerprint=clean.text("fingerprint", wire.fingerprint),
        status=_STATUSES[wire.status],
        labels=clean.mapping("labels", wire.labels),
        annotations=clean.mapping("annotations", wire.annotations),
        starts_at=wire.startsAt,  # in UTC (`_in_utc`)
        ends_at=_ends_at(wire.endsAt),
        generator_url=clean.text("generatorURL", wire.generatorURL),
        notes=clean.notes(),
    )


def _as_sent(wire: AlertmanagerAlert) -> Alert:
    """The domain alert, its text as sent: `_to_alert` when no text needs a change (proved
    by `_may_hold_unstorable`), without a test per string."""
    return Alert(
        fingerprint=wire.fingerprint,
        status=_STATUSES[wire.status],
        labels=wire.labels,  # as in `_AsSent.mapping`
        annotations=wire.annotations,
        starts_at=wire.startsAt,  # in UTC (`_in_utc`)
        ends_at=_ends_at(wire.endsAt),
        generator_url=wire.generatorURL,
    )


def parse_payload(body: bytes) -> AlertGroup:
    """Validate a webhook body and return its AlertGroup, or raise PayloadError."""
    try:
        payload = AlertmanagerPayload.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise PayloadError(
                f"malformed JSON: {first['ctx'].get('error', first['msg'])}"
            ) from None
        problems = [
            f"{format_location(item['loc'])}: {item['msg']}"
            for item in exc.errors(include_url=False)[:_MAX_PROBLEMS_REPORTED]
        ]
        more = exc.error_count() - len(problems)
        suffix = f" (and {more} more)" if more else ""
        raise PayloadError(
            "not an Alertmanager webhook payload: " + "; ".join(problems) + suffix
        ) from None
    careful = _may_hold_unstorable(body)
    convert = _to_alert if careful else _as_sent
    alerts = tuple([convert(alert) for alert in payload.alerts])
    # After the text is made storable: two fingerprints that differ only in a NUL are one.
    fingerprints = [alert.fingerprint for alert in alerts]
    if len(set(fingerprints)) != len(fingerprints):
        raise PayloadError("not an Alertmanager webhook payload: alerts: duplicate fingerprint")
    clean = _Storable() if careful else _AsSent()
    group = AlertGroup(
        receiver=clean.text("receiver", payload.receiver),
        group_key=clean.text("groupKey", payload.groupKey),
        status=AlertStatus(payload.status),
        alerts=alerts,
        group_labels=clean.mapping("groupLabels", payload.groupLabels),
        common_labels=clean.mapping("commonLabels", payload.commonLabels),
        common_annotations=clean.mapping("commonAnnotations", payload.commonAnnotations),
        external_url=clean.text("externalURL", payload.externalURL),
        truncated_alerts=min(payload.truncatedAlerts, MAX_TRUNCATED_ALERTS),
    )
    notes = clean.notes()
    if payload.truncatedAlerts > MAX_TRUNCATED_ALERTS:
        notes += (
            f"truncatedAlerts was {payload.truncatedAlerts}, more than onwatch stores; "
            f"recorded as {MAX_TRUNCATED_ALERTS}",
        )
    return replace(group, notes=notes) if notes else group
