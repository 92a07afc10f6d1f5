"""Domain values for what Alertmanager tells us: one alert group and its alerts.

These are what the rest of onwatch works with; the wire format lives in `alertmanager.py`
and the rows in `models.py`, so that neither leaks into the use cases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Alert:
    """One alert, identified by Alertmanager's fingerprint of its label set."""

    fingerprint: str
    status: AlertStatus
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None  # None while firing (Alertmanager sends the zero time)
    generator_url: str
    # What the wire boundary had to change to store the alert, in words for its timeline
    # ("labels contained NUL characters, replaced with U+FFFD"); usually nothing.
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The alertname, which is how people talk about an alert."""
        return self.labels.get("alertname", self.fingerprint)


@dataclass(frozen=True)
class AlertGroup:
    """One Alertmanager notification: a group of alerts and the group's overall status."""

    receiver: str
    group_key: str
    status: AlertStatus  # resolved only when every alert of the group is resolved
    alerts: tuple[Alert, ...]
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str
    truncated_alerts: int  # alerts Alertmanager left out because of max_alerts
    # What the wire boundary changed in the group's own fields (text it cannot store, a
    # count beyond the column), in words for the incident's timeline; usually nothing.
    notes: tuple[str, ...] = ()

    @property
    def identity(self) -> str:
        """A fixed-size key for the group: groupKey is only unique within its receiver."""
        return hashlib.sha256(f"{self.receiver}\0{self.group_key}".encode()).hexdigest()
