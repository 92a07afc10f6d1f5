"""The swap finder's door for the API, the CLI and the pages: one function, one answer.

`find_swaps` takes what a person asks ("who could take my shift of ops primary that holds
this instant, within four weeks of it?") and answers with `scheduler.swaps.SwapSearch`;
`swap_search_view` turns that into the JSON every door shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from receiver.rota.documents import shift_view
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.swaps import SwapSearch
from scheduler.swaps import find_swaps as search_swaps

DEFAULT_DAYS = 28  # other shifts this many days either side of the shift are tried
MAX_DAYS = 92  # bounds the work: each candidate costs two rota checks


class SwapQuestionError(ValueError):
    """The question cannot be answered as asked; the message names the problem."""


def find_swaps(
    rota: Rota,
    overrides: Sequence[Override],
    *,
    rotation: str,
    layer: str | None,
    at: datetime,
    now: datetime,
    days: int = DEFAULT_DAYS,
) -> SwapSearch:
    """The swaps the rules allow for the shift of `rotation` `layer` holding `at`.

    SwapQuestionError for an unknown rotation or layer, a window out of bounds, or an
    instant nobody is on call at.
    """
    found = rota.rotations.get(rotation)
    if found is None:
        raise SwapQuestionError(f"no rotation {rotation!r}")
    layer = layer or found.layers[0].name
    if found.layer(layer) is None:
        raise SwapQuestionError(f"layer: {rotation} has no layer {layer!r}")
    if not 1 <= days <= MAX_DAYS:
        raise SwapQuestionError(f"days: expected 1 to {MAX_DAYS}, got {days}")
    mine = [o for o in overrides if o.rotation == rotation]
    shift = rota.on_call(rotation, at, mine)[layer]
    if shift is None or shift.person is None:
        raise SwapQuestionError(f"at: nobody is on call for {rotation} {layer} at {at.isoformat()}")
    reach = timedelta(days=days)
    return search_swaps(
        rota, shift, list(overrides), start=shift.start - reach, end=shift.end + reach, now=now
    )


def swap_search_view(rota: Rota, search: SwapSearch) -> dict[str, Any]:
    """The finder's answer as JSON: the shift, the window, each allowed swap, the refusals."""
    return {
        "shift": shift_view(rota, search.shift),
        "from": search.start.isoformat(),
        "to": search.end.isoformat(),
        "allowed": [
            {"with": swap.other.person, "shift": shift_view(rota, swap.other)}
            for swap in search.allowed
        ],
        "refused": search.refused,
    }
