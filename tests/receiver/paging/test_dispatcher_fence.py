"""Fencing the dispatcher: a scheduler that lost its lease stops sending at once.

The dispatcher asks `still_leading` before it sends each chunk of due messages; once the
answer is no, it returns and leaves the rest pending for the new leader. The scheduler wires
the question to its lease; here it is a plain callable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from receiver.paging.dispatcher import PAGE_CHUNK, Dispatcher
from tests.support.paging import Paging, group

MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _dispatcher(paging: Paging, still_leading: Callable[[], bool] | None) -> Dispatcher:
    """A second dispatcher on the same store, pagers and clock as the fixture's."""
    current = paging.dispatcher
    return Dispatcher(
        store=paging.store,
        context=current.context,
        pagers=current.pagers,
        clock=paging.clock,
        still_leading=still_leading,
    )


def _pending(paging: Paging, incidents: list[int]) -> int:
    return sum(
        1
        for incident in incidents
        for message in paging.messages(incident)
        if message.level == 0 and message.status == "pending"
    )


def test_fence_not_leading_sends_nothing(paging: Paging) -> None:
    incident = paging.post(group())
    assert _dispatcher(paging, lambda: False).run_once() == 0
    assert paging.triggers() == []
    assert _pending(paging, [incident]) == 1
    assert paging.dispatcher.run_once() == 1  # the leader sends it
    assert paging.paged() == ["d"]


def test_fence_lease_lost_between_chunks_stops_the_round(paging: Paging) -> None:
    paging.clock.now = MONDAY_NOON  # e pages by day: no night-load notice joins the queue
    incidents = [paging.post(group(f"Storm{n}")) for n in range(PAGE_CHUNK + 5)]
    answers = iter([True])  # leading for the first chunk, then the lease is gone
    asked: list[bool] = []

    def still_leading() -> bool:
        asked.append(next(answers, False))
        return asked[-1]

    assert _dispatcher(paging, still_leading).run_once() == PAGE_CHUNK
    assert asked == [True, False]
    assert len(paging.triggers()) == PAGE_CHUNK
    assert _pending(paging, incidents) == 5
    # The new leader sends the rest; nobody is paged twice.
    assert _dispatcher(paging, lambda: True).run_once() == 5
    keys = [t.body["dedup_key"] for t in paging.triggers()]
    assert sorted(keys) == sorted(f"onwatch-{i}" for i in incidents)
    assert len(paging.ledger()) == PAGE_CHUNK + 5
