"""A pager that only records: the default, so onwatch runs with no PagerDuty account."""

from __future__ import annotations

import logging
import threading

from receiver.delivery.outcome import Delivery
from receiver.paging.pagers.base import PageRequest

log = logging.getLogger(__name__)


class DryRunPager:
    """Records every request in memory and logs one line; every delivery succeeds."""

    kind = "dry-run"

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the dispatcher may send from several threads
        self._sent: list[PageRequest] = []

    @property
    def sent(self) -> list[PageRequest]:
        """A copy of every request so far, oldest first."""
        with self._lock:
            return list(self._sent)

    def send(self, request: PageRequest) -> Delivery:
        """Record the request; nothing leaves the process."""
        with self._lock:
            self._sent.append(request)
        # Names and keys only: details may hold alert annotations, which is not ours to log.
        log.info(
            "dry-run page: %s %s %s level %d to %s",
            request.action,
            request.dedup_key,
            request.severity,
            request.level,
            request.recipient.name if request.recipient else "-",
        )
        return Delivery(ok=True, detail="dry run: recorded, not sent")
