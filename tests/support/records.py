"""Rows for store tests that need an incident to hang things on, without going through ingest."""

from __future__ import annotations

from datetime import UTC, datetime

from receiver.incidents.models import IncidentRecord

AT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def incident_record(**overrides: object) -> IncidentRecord:
    """An open SEV3 incident of group "g"*64 opened at AT, with `overrides`."""
    values: dict[str, object] = {
        "group_identity": "g" * 64,
        "receiver": "webhook",
        "group_key": "{}:{}",
        "group_labels": {},
        "status": "open",
        "severity": "SEV3",
        "service": "api",
        "title": "t",
        "channel": "#inc-20260329-t",
        "external_url": "",
        "opened_at": AT,
        "updated_at": AT,
    }
    values.update(overrides)
    return IncidentRecord(**values)  # type: ignore[arg-type]
