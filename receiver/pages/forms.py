"""Reading the pages' forms and query strings: bounded, storable text, and instants on the
signed-in person's clock. A bad value is an InputError naming the field (a 400 page)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, request

from receiver.instants import instant_range, parse_instant
from receiver.pages.signin import viewer
from receiver.services import services
from receiver.web.errors import InputError
from receiver.web.request_body import storable_text

FIELD_LIMIT = 10_000  # characters in one form field
QUERY_LIMIT = 200  # characters in one query parameter
# Outcomes travel in the session cookie to the next page: a browser drops a cookie over 4 KB
# (signing the person out), so a note of 10,000 characters is not repeated in full.
OUTCOME_LIMIT = 600


def say(message: str, category: str) -> None:
    """Show `message` on the next page ("done" or "refused"), cut to OUTCOME_LIMIT."""
    if len(message) > OUTCOME_LIMIT:
        message = message[: OUTCOME_LIMIT - 1] + "…"
    flash(message, category)


def form_text(name: str, *, required: bool = False) -> str:
    """A form field as storable text, at most FIELD_LIMIT characters."""
    value = request.form.get(name, "")
    if len(value) > FIELD_LIMIT:
        raise InputError(f"{name}: at most {FIELD_LIMIT} characters")
    value = storable_text(value)
    if required and not value.strip():
        raise InputError(f"{name}: this field is required")
    return value


def query_value(name: str) -> str | None:
    """A query parameter, stripped; None when absent or empty."""
    raw = request.args.get(name, "").strip()
    if len(raw) > QUERY_LIMIT:
        raise InputError(f"{name}: at most {QUERY_LIMIT} characters")
    return storable_text(raw) or None


def query_choice(name: str, allowed: tuple[str, ...]) -> str | None:
    """A query parameter that must be one of `allowed` (None when absent)."""
    value = query_value(name)
    if value is not None and value not in allowed:
        raise InputError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def query_date_start(name: str) -> datetime | None:
    """A date (or instant) query parameter; a date starts at midnight on the viewer's clock."""
    raw = query_value(name)
    if raw is None:
        return None
    now = services().clock()
    try:
        return parse_instant(raw, date_zone=viewer().zone, within=instant_range(now))
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def query_date_end(name: str) -> datetime | None:
    """A date query parameter read as "up to and including that day" (an instant as given)."""
    start = query_date_start(name)
    raw = query_value(name) or ""
    is_day = start is not None and len(raw) == len("2026-12-07")
    return start + timedelta(days=1) if is_day and start is not None else start


def query_day(name: str, zone: ZoneInfo, now: datetime) -> date:
    """A day (YYYY-MM-DD) within the accepted range; today in `zone` when absent."""
    raw = query_value(name)
    if raw is None:
        return now.astimezone(zone).date()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name}: expected a date such as 2026-12-07, got {raw!r}") from None
    try:
        instant_range(now).check(datetime.combine(day, time(12), tzinfo=zone), raw)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return day


def form_instant(name: str) -> datetime:
    """A `datetime-local` form field, read on the signed-in person's clock."""
    raw = form_text(name, required=True).strip()
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name}: expected a date and time such as 2026-12-07T09:00") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=viewer().zone)
    try:
        return instant_range(services().clock()).check(parsed.astimezone(UTC), raw)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
