"""The rota as JSON documents: a person, a shift, a rule violation, who is on call now.

Shared by every view that shows the rota (the rota's own API, an incident's on-call
section, escalation paths), so the same thing reads the same everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scheduler.check import Violation
from scheduler.overrides import Override
from scheduler.roster import Rotation
from scheduler.rota import Rota
from scheduler.shifts import Shift


def person_view(rota: Rota, name: str | None) -> dict[str, Any] | None:
    """A person's contact, as the rota knows it (no secrets)."""
    if name is None:
        return None
    person = rota.people[name]
    return {
        "name": person.name,
        "email": person.email,
        "time_zone": person.zone.key,
        "pagerduty_user_id": person.pagerduty_user_id,
    }


def shift_view(rota: Rota, shift: Shift) -> dict[str, Any]:
    """A shift as the API shows it."""
    return {
        "rotation": shift.rotation,
        "layer": shift.layer,
        "person": person_view(rota, shift.person),
        "start": shift.start.isoformat(),
        "end": shift.end.isoformat(),
        "source": shift.source.value,
        "override_id": shift.override_id,
        "rest_broken": shift.rest_broken,
        "note": shift.note,
    }


def violation_view(violation: Violation) -> dict[str, Any]:
    """A rota rule violation as the API shows it."""
    return {
        "rule": violation.rule.value,
        "rotation": violation.rotation,
        "person": violation.person,
        "start": violation.start.isoformat() if violation.start else None,
        "end": violation.end.isoformat() if violation.end else None,
        "message": violation.message,
        "forced": violation.forced,
    }


def on_call_view(rota: Rota, rotation: Rotation, at: datetime, overrides: list[Override]) -> dict:
    """Who is on call for each layer of `rotation` at `at`, and whom to escalate to after."""
    layers = []
    for layer, shift in rota.on_call(rotation.name, at, overrides).items():
        layers.append(
            {
                "layer": layer,
                "person": person_view(rota, shift.person) if shift else None,
                "shift": shift_view(rota, shift) if shift else None,
            }
        )
    return {
        "name": rotation.name,
        "time_zone": rotation.zone.key,
        "services": list(rotation.services),
        "layers": layers,
        "escalation": {
            "person": person_view(rota, rotation.escalation.person),
            "rotation": rotation.escalation.rotation,
        },
    }
