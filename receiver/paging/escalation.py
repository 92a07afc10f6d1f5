"""Escalation paths from the settings and the stored overrides, for the API and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from receiver.paging.planner import PagingContext
from receiver.paging.settings import SEVERITIES, PagingSettings
from scheduler.escalation_paths import EscalationPath, PathPolicy, escalation_path
from scheduler.overrides import Override


def severities_asked(raw: str | None) -> list[str]:
    """Every severity, or the one asked for (any case); ValueError naming the known ones."""
    if raw is None:
        return list(SEVERITIES)
    severity = raw.strip().upper()
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {raw!r}: expected one of {', '.join(SEVERITIES)}")
    return [severity]


def policy_for(paging: PagingSettings, severity: str) -> PathPolicy:
    """The rotation's paging settings for one severity, as the pure path takes them."""
    return PathPolicy(
        ack_timeout=paging.ack_timeout_for(severity),
        repeat=paging.repeat,
        all_at_once=paging.pages_all_layers_at_once(severity),
    )


def paths_now(
    context: PagingContext,
    rotation: str,
    severities: Sequence[str],
    now: datetime,
    overrides: Sequence[Override],
) -> list[EscalationPath]:
    """The path of each severity on `rotation` for an incident opened at `now`."""
    paging = context.policy(rotation)
    return [
        escalation_path(
            context.rota, rotation, severity, policy_for(paging, severity), now, overrides
        )
        for severity in severities
    ]
