"""Alertmanager's webhook wire format (version "4"), validated and turned into an AlertGroup.

Field names follow the wire exactly (camelCase), so a validation error names the field the
sender got wrong: `alerts[0].fingerprint: Field required`. Unknown extra fields are ignored,
so a newer Alertmanager that adds a field is not rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from receiver.config.keypath import format_location
from receiver.incidents.alerts import Alert, AlertGroup, AlertStatus

# Alertmanager sends Go's zero time as the endsAt of a firing alert.
_GO_ZERO_TIME_YEAR = 1
_MAX_PROBLEMS_REPORTED = 5


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
    return value.astimezone(UTC)


def _to_alert(wire: AlertmanagerAlert) -> Alert:
    return Alert(
        fingerprint=wire.fingerprint,
        status=AlertStatus(wire.status),
        labels=wire.labels,
        annotations=wire.annotations,
        starts_at=wire.startsAt.astimezone(UTC),
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
    fingerprints = [alert.fingerprint for alert in payload.alerts]
    if len(set(fingerprints)) != len(fingerprints):
        raise PayloadError("not an Alertmanager webhook payload: alerts: duplicate fingerprint")
    return AlertGroup(
        receiver=payload.receiver,
        group_key=payload.groupKey,
        status=AlertStatus(payload.status),
        alerts=tuple(_to_alert(alert) for alert in payload.alerts),
        group_labels=payload.groupLabels,
        common_labels=payload.commonLabels,
        common_annotations=payload.commonAnnotations,
        external_url=payload.externalURL,
        truncated_alerts=payload.truncatedAlerts,
    )
