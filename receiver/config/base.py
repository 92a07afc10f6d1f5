"""What every section of the configuration shares: the model base and the common value forms.

Each feature keeps its own section (`receiver/<feature>/settings.py`); they all derive from
`SettingsModel` so that a typo in a key is an error everywhere, and read durations, clocks and
time zones the same way.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class SettingsModel(BaseModel):
    """A section of the configuration: frozen once validated, and no unknown keys.

    Unknown keys are errors: a typo in a key must not silently fall back to a default.
    Aliased keys (`from`, `to`) may also be given by their field names.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_duration(text: str) -> timedelta:
    """`90s`, `5m`, `1h`, `2d`, `1w` as a timedelta; ValueError naming the expected form."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f'expected a duration such as "90s", "5m", "1h", "2d" or "1w", got {text!r}'
        )
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def known_zone(name: str) -> str:
    """Field validator: `name` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown time zone "{name}" (use an IANA name like Europe/London)'
        ) from None
    return name


def clock_from_yaml(text: Any) -> Any:
    """Field validator (before): a wall-clock time, also when YAML read it as a number.

    YAML reads 09:00 as the integer 540 (sexagesimal) when unquoted; accept both forms.
    """
    if isinstance(text, int):
        return time(text // 60, text % 60)
    return text
