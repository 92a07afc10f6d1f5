"""Loading a month for the burden report: rows from the store in, `scheduler.burden` values out.

Apart from the figures because this is the only part that knows the tables (pages, incidents,
alerts), SQLite's text instants and the rota's shift generation, and it is where a report's
time goes: the few Core queries, the parsing inline, and the cyclic collector paused while a
month of small tuples is built (`cyclic_gc_paused`, which the charts use too).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import Text, and_, select, type_coerce

from receiver.incidents.models import AlertRecord, IncidentRecord
from receiver.paging.models import PageRecord
from receiver.store.database import Store
from scheduler.burden import Incident, Month, Page
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.shifts import Shift

_PAGE = PageRecord.__table__  # type: ignore[attr-defined]
_INCIDENT = IncidentRecord.__table__  # type: ignore[attr-defined]
_ALERT = AlertRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MonthData:
    """What the pure report needs for one month, read from the store and the rota."""

    pages: list[Page]
    incidents: list[Incident]
    shifts: list[Shift]


def report_rota(rota: Rota) -> Rota:
    """`rota` generating a day ahead only: the rota a report loads its shifts from."""
    # The service's rota generates 400 days ahead for "now" questions; a report needs none.
    return Rota(list(rota.rotations.values()), rota.people, lookahead=timedelta(days=1))


def _final_shifts(rota: Rota, month: Month, overrides: Sequence[Override]) -> list[Shift]:
    # Far enough back to see the rest before each person's first shift of the month.
    reach = max(
        (r.min_rest + r.shift.wall_clock() for r in rota.rotations.values()), default=timedelta(0)
    )
    start = month.start - reach - timedelta(days=1)
    return [
        shift
        for name in rota.rotations
        for shift in rota.rotation_shifts(name, start, month.end, overrides)
    ]


# Incident ids per `IN (...)` list: well under SQLite's bound-parameter limit, few round trips.
IDS_PER_QUERY = 5000


def _instant(column: Any, sqlite: bool) -> Any:
    # SQLite keeps a UTCDateTime as text, "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: selecting the
    # text and parsing it with fromisoformat is a fifth of the cost of SQLAlchemy's two result
    # processors, which is a third of the report's time for 100,000 pages.
    return type_coerce(column, Text) if sqlite else column


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for first in range(0, len(ordered), IDS_PER_QUERY):
        yield ordered[first : first + IDS_PER_QUERY]


def load_month(
    store: Store,
    rota: Rota,
    month: Month,
    overrides: Sequence[Override],
    *,
    detail: bool = True,
) -> MonthData:
    """The month's pages, the incidents they belong to or opened in it, and the final shifts.

    The shifts are `rota`'s as given (a report's rota: `report_rota`) with the active
    `overrides`. Without `detail` (enough for `month_totals`): only the incidents opened in the
    month, and no alerts.
    """
    start, end = month.start, month.end
    opened_in_month = and_(_INCIDENT.c.opened_at >= start, _INCIDENT.c.opened_at < end)
    with store.read_rows() as connection:
        sqlite = connection.dialect.name == "sqlite"

        def incident_rows(where: Any) -> Sequence[Any]:
            return connection.execute(
                select(
                    _INCIDENT.c.id,
                    _INCIDENT.c.service,
                    _INCIDENT.c.severity,
                    _instant(_INCIDENT.c.opened_at, sqlite),
                    _instant(_INCIDENT.c.acknowledged_at, sqlite),
                    _instant(_INCIDENT.c.resolved_at, sqlite),
                    _INCIDENT.c.classification,
                ).where(where)
            ).all()

        def alert_rows(where: Any) -> Sequence[Any]:
            # Not DISTINCT (a temporary B-tree, half the query): duplicates go in a set below.
            return connection.execute(
                select(_ALERT.c.incident_id, _ALERT.c.alertname, _ALERT.c.rule).where(where)
            ).all()

        page_rows = connection.execute(
            select(
                _instant(_PAGE.c.at, sqlite),
                _PAGE.c.person,
                _PAGE.c.rotation,
                _PAGE.c.incident_id,
            )
            .where(and_(_PAGE.c.at >= start, _PAGE.c.at < end))
            .order_by(_PAGE.c.at)
        ).all()
        found = list(incident_rows(opened_in_month))
        alerts_found: list[Any] = []
        if detail:
            # Paged in the month but opened before it: few, fetched by id.
            opened_ids = {row[0] for row in found}
            earlier = {row[3] for row in page_rows} - opened_ids
            if opened_ids:
                # Ids follow opening times, near enough: the range of the month's ids, read
                # through the index on incident_id, then only the month's incidents kept (no
                # join with incident, a lookup per alert).
                alerts_found += (
                    row
                    for row in alert_rows(
                        _ALERT.c.incident_id.between(min(opened_ids), max(opened_ids))
                    )
                    if row[0] in opened_ids
                )
            for ids in _chunks(earlier):
                found += incident_rows(_INCIDENT.c.id.in_(ids))
                alerts_found += alert_rows(_ALERT.c.incident_id.in_(ids))
    # Once per page: the parsing inline, and tuple.__new__ rather than Page's Python __new__.
    new = tuple.__new__
    if sqlite:
        utc = datetime.fromisoformat
        pages = [
            new(Page, (utc(at + "+00:00"), person, rotation, incident_id))
            for at, person, rotation, incident_id in page_rows
        ]
    else:
        pages = [new(Page, row) for row in page_rows]
    del page_rows
    # An incident belongs to the rotation that paged for it first (backwards, so the first page
    # is the one kept), else to the one covering its service.
    rotation_of = dict(
        zip(map(itemgetter(3), reversed(pages)), map(itemgetter(2), reversed(pages)), strict=True)
    )
    alerts: dict[int, set[tuple[str, str]]] = {}
    for incident_id, alertname, rule in alerts_found:
        mine = alerts.get(incident_id)
        if mine is None:
            alerts[incident_id] = {(alertname, rule)}
        else:
            mine.add((alertname, rule))
    covering: dict[str, str | None] = {}
    incidents = []
    for row in found:
        incident_id, service, severity, opened_at, acked_at, resolved_at, classification = row
        rotation = rotation_of.get(incident_id)
        if rotation is None:
            if service not in covering:
                covers = rota.rotation_for_service(service)
                covering[service] = covers.name if covers else None
            rotation = covering[service]
        if sqlite:  # UTC text (see _instant), parsed inline
            opened_at = datetime.fromisoformat(opened_at + "+00:00")
            if acked_at is not None:
                acked_at = datetime.fromisoformat(acked_at + "+00:00")
            if resolved_at is not None:
                resolved_at = datetime.fromisoformat(resolved_at + "+00:00")
        mine = alerts.get(incident_id)
        if not mine:
            alerts_of: tuple[tuple[str, str], ...] = ()
        elif len(mine) == 1:
            alerts_of = tuple(mine)
        else:
            alerts_of = tuple(sorted(mine))
        values = (
            incident_id,
            rotation,
            severity,
            opened_at,
            acked_at,
            resolved_at,
            alerts_of,
            classification,
        )
        incidents.append(new(Incident, values))
    return MonthData(pages, incidents, _final_shifts(rota, month, overrides))


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (a report makes no reference cycles)."""
    # A report builds a few hundred thousand small tuples and no reference cycles; the cyclic
    # collector would walk the growing heap again and again (a third of the time). Reference
    # counting still frees everything; the collector resumes, as it was, at the end.
    # (A nested pause leaves the collector paused for the outer one to resume.)
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
