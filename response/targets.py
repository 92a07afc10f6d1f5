"""The seed's numbers, as one value: phase targets, update cadence, MTTR, postmortem milestones.

Every number is a default the configuration can change (`response:` in the YAML file); the
pure code reads them from here and never from a constant of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class ResponseTargets:
    """How fast each part of the response should go."""

    detection: timedelta = timedelta(minutes=5)  # opened -> detection checklist done
    triage: timedelta = timedelta(minutes=15)  # opened -> triage checklist done
    # No status update for this long reminds the IC and Communications Lead (SEV1-2).
    update_every: Mapping[str, timedelta] = field(
        default_factory=lambda: {"SEV1": timedelta(minutes=15), "SEV2": timedelta(minutes=30)}
    )
    # Not mitigated this long after opening (and again each time after) escalates (SEV1-2).
    escalate_without_progress: timedelta = timedelta(minutes=30)
    escalate_severities: tuple[str, ...] = ("SEV1", "SEV2")
    mttr: Mapping[str, timedelta] = field(
        default_factory=lambda: {
            "SEV1": timedelta(hours=4),
            "SEV2": timedelta(hours=24),
            "SEV3": timedelta(hours=72),
            "SEV4": timedelta(weeks=1),
        }
    )
    # Which severities get a postmortem scheduled at resolution (others may ask for one).
    postmortem_severities: tuple[str, ...] = ("SEV1", "SEV2")
    postmortem_draft: timedelta = timedelta(hours=48)  # after resolution
    postmortem_review: timedelta = timedelta(weeks=1)
    action_items_assigned: timedelta = timedelta(weeks=2)
    action_items_completed: timedelta = timedelta(days=30)
    # Milestones past due are reminded again after this long, until met.
    postmortem_remind_every: timedelta = timedelta(hours=24)

    def update_cadence(self, severity: str) -> timedelta | None:
        """How often updates are due for `severity`; None when it has no cadence."""
        return self.update_every.get(severity)

    def mttr_for(self, severity: str) -> timedelta:
        """The time-to-resolve target of `severity`."""
        return self.mttr[severity]
