"""When to try a failed delivery again: one rule for pages and notifications alike."""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=2)
LONGEST_RETRY = timedelta(minutes=5)
LONGEST_RETRY_AFTER = timedelta(hours=1)  # a Retry-After beyond this is not believed


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential back-off from 2 s to 5 min; the receiver's Retry-After wins when longer."""
    backoff = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)
    if retry_after is not None:
        return max(backoff, min(timedelta(seconds=retry_after), LONGEST_RETRY_AFTER))
    return backoff


def next_attempt(
    now: datetime, attempts: int, retry_after: float | None, deadline: datetime
) -> datetime | None:
    """When to try again after `attempts` failures; None once the deadline is too close.

    The deadline is judged on our own back-off: a receiver asking (with Retry-After) to wait
    past it still gets its one more try, rather than the message failing unsent.
    """
    if now + retry_delay(attempts, None) >= deadline:
        return None
    return now + retry_delay(attempts, retry_after)
