"""Severity levels SEV1 (worst) to SEV4, as defined in the incident-management seed."""

from __future__ import annotations

import enum
from typing import Literal, TypeGuard


class Severity(enum.IntEnum):
    """How bad an incident is; a lower value is worse, so ``min`` picks the worst."""

    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    def __str__(self) -> str:
        return self.name

    def __format__(self, format_spec: str) -> str:
        # IntEnum formats as its number by default; f-strings should say "SEV1" like str().
        return format(self.name, format_spec)

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity from config or user input, so typos fail loudly instead of defaulting."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            expected = ", ".join(member.name for member in cls)
            raise ValueError(f'unknown severity "{text}": expected one of {expected}') from None


# The names in order, worst first: what configuration keys, API fields and reports list.
SeverityName = Literal["SEV1", "SEV2", "SEV3", "SEV4"]  # the names as a type, for settings
SEVERITIES: tuple[str, ...] = tuple(member.name for member in Severity)


def is_severity_name(name: str) -> TypeGuard[SeverityName]:
    """Whether `name` is a severity's name ("SEV1"), for code that keys severities by str."""
    return name in SEVERITIES


def worst(*severities: Severity) -> Severity:
    """Return the most severe of several severities, so a group is graded by its worst alert."""
    if not severities:
        raise ValueError("worst() needs at least one severity")
    return min(severities)
