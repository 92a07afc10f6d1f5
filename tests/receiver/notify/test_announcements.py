"""Who hears about an incident: the severity's audiences, and the team at every severity."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from receiver.notify.announcements import severity_audiences
from receiver.notify.settings import NotificationSettings


def context(**notifications: Any) -> Any:
    # severity_audiences reads only the notification settings of the response context.
    return SimpleNamespace(notifications=NotificationSettings(**notifications))


@pytest.mark.parametrize(
    ("severity", "audiences"),
    [
        ("SEV1", ["exec", "all-hands", "team"]),
        ("SEV2", ["leadership", "affected-teams", "team"]),
        ("SEV3", ["team", "stakeholders"]),  # already there: once, in its place
        ("SEV4", ["team"]),
        ("SEV9", ["team"]),  # not a severity: still the team's own incident
    ],
)
def test_the_team_is_an_audience_at_every_severity(severity: str, audiences: list[str]) -> None:
    assert severity_audiences(context(), severity) == audiences


def test_configured_severity_audiences_keep_their_order_and_gain_the_team() -> None:
    configured = context(severity_audiences={"SEV2": ["stakeholders"]})
    assert severity_audiences(configured, "SEV2") == ["stakeholders", "team"]
    assert severity_audiences(configured, "SEV1") == ["exec", "all-hands", "team"]
