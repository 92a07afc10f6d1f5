"""The one place onwatch imports pdpyras: its deprecation notice is silenced here, exactly.

pdpyras 5.x warns on import that it is deprecated in favour of the `pagerduty` package. The
filter matches that one message and category, only while importing, so every other warning
(from pdpyras or anyone else) still shows. Moving to the successor package means changing
this module and the two adapters' session set-up, nothing else.

Both PagerDuty sessions are made to try each HTTP request once: by default pdpyras retries
a 429 without limit and sleeps with exponential back-off between attempts (blocking a sender
for minutes), and retries 5xx and connection errors too. onwatch's outbox owns retrying.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import TypeAlias

from receiver.delivery.outcome import Delivery, http_failure, unreachable

DEPRECATION_MESSAGE = (
    'The package "pdpyras" is deprecated and as of 2025-06-20 will no longer receive updates. '
    'Please use "pagerduty" instead. Migration guide: '
    "https://pagerduty.github.io/python-pagerduty/pdpyras_migration_guide.html"
)

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message=re.escape(DEPRECATION_MESSAGE) + r"\Z",
        category=UserWarning,
        module="pdpyras",
    )
    import pdpyras  # type: ignore[import-untyped]  # pdpyras ships no py.typed nor stubs

# With one attempt per request, pdpyras logs every 429 as an ERROR ("exceeded maximum number of
# attempts"), although the outbox retries it: the adapters report each outcome themselves, so
# only pdpyras's CRITICAL lines are worth passing on.
logging.getLogger("pdpyras").setLevel(logging.CRITICAL)

# Explicit aliases: pdpyras is untyped (Any to mypy), and a plain assignment of an Any value
# would be a variable, not usable in annotations.
APISession: TypeAlias = pdpyras.APISession
EventsAPISession: TypeAlias = pdpyras.EventsAPISession
PDClientError: TypeAlias = pdpyras.PDClientError
PDHTTPError: TypeAlias = pdpyras.PDHTTPError
PDSession: TypeAlias = pdpyras.PDSession


def single_attempt(session: PDSession, *, base_url: str, timeout: float) -> None:
    """Point `session` at `base_url` and make it send each request once, never sleeping."""
    session.url = base_url.rstrip("/")
    session.timeout = timeout
    # A connection error raises PDClientError at once instead of being retried with sleeps.
    session.max_network_attempts = 0
    # pdpyras retries 429 forever unless 429 has an entry in `retry`; with an entry, it gives
    # up (returning the response) once the attempts so far exceed `max_http_attempts`, and
    # with -1 that is already true on the first answer. No other status has an entry, so a
    # 5xx is returned at once too (EventsAPISession presets 500/502/503/504 retries).
    session.retry = {429: 1}
    session.max_http_attempts = -1
    # Belt and braces: should any path still retry, it does not sleep.
    session.sleep_timer = 0


def failed_delivery(error: PDClientError) -> Delivery:
    """Classify a pdpyras error by what PagerDuty answered (or that it did not answer)."""
    # The status code decides, not the exception class: pdpyras raises PDServerError only
    # for exactly 500 (it tests `status / 100 == 5`), a 502 or 503 arrives as PDHTTPError.
    response = error.response
    if response is None:  # no answer at all: refused, reset, timed out
        return unreachable("PagerDuty", error)
    if response.ok:
        # A 2xx whose body pdpyras could not use: PagerDuty may have acted, and repeating the
        # request is harmless (dedup key, idempotent status updates), so ask for a retry.
        return Delivery(
            ok=False,
            retryable=True,
            detail=f"PagerDuty answered {response.status_code} with an unexpected body",
        )
    return http_failure(response)
