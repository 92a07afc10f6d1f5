"""Reading instants that people type: ISO 8601 with an offset, or a plain date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo


def parse_instant(text: str, *, date_zone: tzinfo = UTC) -> datetime:
    """An aware UTC datetime from `2026-12-01T09:00:00Z`, `...+01:00` or `2026-12-01`.

    A plain date means its midnight in `date_zone`. A date-time without an offset is
    refused: guessing its zone is how on-call shifts end up an hour off.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), date_zone).astimezone(UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValueError(
            f'"{text}" is not a date (2026-12-01) or a date-time with offset (2026-12-01T09:00:00Z)'
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f'"{text}" has no time zone offset: add Z or +HH:MM')
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC instant
        raise ValueError(f'"{text}" is out of range') from None
