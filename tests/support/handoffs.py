"""A week of incidents and pages around a handoff, shared by the briefing and handoff API tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from receiver.config.settings import Settings
from receiver.incidents.models import IncidentRecord
from receiver.paging.models import OutboxMessage, PageRecord
from receiver.store.database import Store
from tests.support.rota_config import rota_config


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def handoff_config(*, db_start: str | None = None) -> dict[str, Any]:
    """rota_config with notification targets and an absence; the daily `db` rotation too
    when `db_start` is given."""
    config = rota_config()
    for person in config["people"]:
        if person["name"] == "c":
            person["unavailable"] = [
                {"from": "2026-11-13", "to": "2026-11-14", "reason": "KubeCon"}
            ]
    config["people"] += [
        {"name": name, "email": f"{name}@example.com", "time_zone": "Europe/London"}
        for name in "pqr"
    ]
    config["notifications"] = {
        "targets": [
            {"name": "ops-hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
            {"name": "ops-slack", "kind": "slack", "url": "http://127.0.0.1:9/slack"},
            {"name": "ops-mail", "kind": "webhook", "url": ""},  # unset ${VAR}: disabled
        ]
    }
    config["rotations"][0]["notify"] = ["ops-hook", "ops-slack", "ops-mail"]
    if db_start is None:
        return config
    config["rotations"].append(
        {
            "name": "db",
            "time_zone": "Europe/London",
            "services": ["database"],
            "shift_length": "1d",
            "handoff": {"time": "09:00"},
            "start": db_start,
            "members": list("pqr"),
            "min_rest": "1d",
            "notify": ["ops-hook"],
        }
    )
    return config


def settings_for(store: Store, config: dict[str, Any] | None = None) -> Settings:
    """Validated settings on the store under test."""
    document = dict(config or handoff_config())
    document["database"] = {"url": store.settings.url}
    return Settings.model_validate(document)


def incident(number: int, service: str, severity: str, opened: datetime, **kw: Any) -> Any:
    """An incident row with explicit id (so golden files do not depend on sequences)."""
    return IncidentRecord(
        id=number,
        group_identity=f"g{number}",
        receiver="onwatch",
        group_key=f"k{number}",
        group_labels={},
        status="resolved" if kw.get("resolved_at") else "open",
        severity=severity,
        service=service,
        title=kw.get("title", f"incident {number}"),
        channel=f"#inc-{opened:%Y%m%d}-incident-{number}",
        external_url="",
        opened_at=opened,
        updated_at=opened,
        resolved_at=kw.get("resolved_at"),
        acknowledged_at=kw.get("acknowledged_at"),
        acknowledged_by=kw.get("acknowledged_by"),
    )


def page(number: int, incident_id: int, person: str, at: datetime) -> list[Any]:
    """A sent outbox message and its page-ledger row."""
    return [
        OutboxMessage(
            id=number,
            incident_id=incident_id,
            rotation="ops",
            action="trigger",
            target="primary",
            severity="SEV2",
            status="sent",
            attempts=1,
            next_attempt_at=at,
            deadline_at=at,
            created_at=at,
            sent_at=at,
            recipient=person,
            reference="",
            last_error="",
        ),
        PageRecord(
            id=number,
            incident_id=incident_id,
            message_id=number,
            rotation="ops",
            person=person,
            severity="SEV2",
            at=at,
        ),
    ]
