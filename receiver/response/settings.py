"""The `response:` section: the response process's numbers (phase targets, update cadence,
MTTR per severity, postmortem milestones), each defaulting to the process's own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import (
    field_validator,
)

from receiver.config.base import SettingsModel, parse_duration
from response.targets import ResponseTargets
from rules.severity import SeverityName, is_severity_name


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


# The seed's numbers, kept in one place: ResponseSettings' defaults are this value's.
_SEED = ResponseTargets()


def _seed_severity(name: str) -> SeverityName:
    """A severity name of the seed's (which the pure core types as plain str)."""
    assert is_severity_name(name), name
    return name


class ResponseSettings(SettingsModel):
    """The response process's numbers (the seed's defaults); durations like "15m", "2d"."""

    # Plain defaults (no factories): `_duration_map` merges a partial `mttr` into its
    # default, and pydantic hands each instance its own copy of a dict or list default.
    detection_target: timedelta = _SEED.detection
    triage_target: timedelta = _SEED.triage
    update_every: dict[SeverityName, timedelta] = {
        _seed_severity(name): every for name, every in _SEED.update_every.items()
    }
    escalate_without_progress: timedelta = _SEED.escalate_without_progress
    escalate_severities: list[SeverityName] = [
        _seed_severity(name) for name in _SEED.escalate_severities
    ]
    mttr: dict[SeverityName, timedelta] = {
        _seed_severity(name): target for name, target in _SEED.mttr.items()
    }
    postmortem_severities: list[SeverityName] = [
        _seed_severity(name) for name in _SEED.postmortem_severities
    ]
    postmortem_draft: timedelta = _SEED.postmortem_draft
    postmortem_review: timedelta = _SEED.postmortem_review
    action_items_assigned: timedelta = _SEED.action_items_assigned
    action_items_completed: timedelta = _SEED.action_items_completed
    postmortem_remind_every: timedelta = _SEED.postmortem_remind_every

    durations = field_validator(
        "detection_target",
        "triage_target",
        "escalate_without_progress",
        "postmortem_draft",
        "postmortem_review",
        "action_items_assigned",
        "action_items_completed",
        "postmortem_remind_every",
        mode="before",
    )(_duration)

    @field_validator("update_every", "mttr", mode="before")
    @classmethod
    def _duration_map(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, dict):
            return value
        defaults = cls.model_fields[str(info.field_name)].default
        merged = dict(defaults) if info.field_name == "mttr" else {}
        for severity, text in value.items():
            try:
                merged[severity] = _duration(text)
            except ValueError as exc:
                raise ValueError(f"{severity}: {exc}") from None
        return merged

    def targets(self) -> ResponseTargets:
        """The pure-domain value of these numbers."""
        # Copied through .items(): the core keys by plain str, and a Mapping's key type is
        # invariant, so a dict keyed by SeverityName is not a Mapping[str, ...] to mypy.
        return ResponseTargets(
            detection=self.detection_target,
            triage=self.triage_target,
            update_every=dict(self.update_every.items()),
            escalate_without_progress=self.escalate_without_progress,
            escalate_severities=tuple(self.escalate_severities),
            mttr=dict(self.mttr.items()),
            postmortem_severities=tuple(self.postmortem_severities),
            postmortem_draft=self.postmortem_draft,
            postmortem_review=self.postmortem_review,
            action_items_assigned=self.action_items_assigned,
            action_items_completed=self.action_items_completed,
            postmortem_remind_every=self.postmortem_remind_every,
        )
