"""Building the monthly burden report: the month, and the month before for the change.

Apart from loading and rendering because this is the report's one recipe, shared by the API,
the CLI and the monthly job: check the rotation asked for, read the overrides once for both
months, load the month before for its totals only (and let it go), then the month itself, the
figures computed by `scheduler.burden` (pure). The result is `scheduler.burden`'s
`BurdenReport`, which `render` turns into a format and `archive` into the month's files.
"""

from __future__ import annotations

from datetime import datetime

from receiver.config.settings import Settings
from receiver.report.load import cyclic_gc_paused, load_month, report_rota
from receiver.rota.store import active_overrides
from receiver.store.database import Store
from scheduler.burden import BurdenReport, Month, burden_report, month_totals
from scheduler.rota import Rota


class UnknownRotation(ValueError):
    """The report was asked for a rotation the configuration does not have."""


def build_report(
    settings: Settings,
    store: Store,
    month: Month,
    *,
    rota: Rota,
    rotation: str | None = None,
    now: datetime | None = None,
) -> BurdenReport:
    """The burden report of `month` (and its change against the month before).

    `now` is the caller's clock: of the current month, only the nights (and hours) on call
    that have passed by then count. None counts the whole month (a past month's report).
    """
    if rotation is not None and rotation not in rota.rotations:
        known = ", ".join(rota.rotations) or "none configured"
        raise UnknownRotation(f"no rotation {rotation!r} (rotations: {known})")
    short_rota = report_rota(rota)
    with store.read() as session:
        overrides = active_overrides(session)  # for both months
    policy = settings.report.policy(settings.response.mttr)
    rotations = list(rota.rotations.values())
    with cyclic_gc_paused():
        # Of the month before, only the figures the change is computed from.
        before = load_month(store, short_rota, month.previous(), overrides, detail=False)
        totals = month_totals(
            month.previous(),
            pages=before.pages,
            incidents=before.incidents,
            shifts=before.shifts,
            people=rota.people,
            rotations=rotations,
            policy=policy,
            rotation=rotation,
            as_of=now,
        )
        del before  # a month of pages: let it go before loading the next
        data = load_month(store, short_rota, month, overrides)
        return burden_report(
            month,
            pages=data.pages,
            incidents=data.incidents,
            shifts=data.shifts,
            people=rota.people,
            rotations=rotations,
            policy=policy,
            rotation=rotation,
            previous=totals,
            as_of=now,
        )
