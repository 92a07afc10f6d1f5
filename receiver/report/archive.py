"""The monthly report's files: last month's burden report written to `report.folder`, announced.

Apart from building and rendering because only the scheduler's monthly job keeps reports: it
writes one file per configured format (whole files only, through a `.partial` renamed into
place), then queues the announcement (`announce`) in the same run, so that a re-run overwrites
the same files and announces nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from receiver.config.settings import Settings
from receiver.report.announce import announce_report
from receiver.report.build import build_report
from receiver.report.render import render
from receiver.store.database import Store
from scheduler.burden import Month
from scheduler.rota import Rota

log = logging.getLogger(__name__)


def write_monthly_report(
    settings: Settings, store: Store, now: datetime, *, rota: Rota
) -> list[Path]:
    """Scheduler job: write last month's report (in `report.time_zone`) to `report.folder`,
    then announce it to each rotation's `notify:` targets.

    Runs on the 1st of each month; writing again overwrites the same files and announces
    nothing twice, so a re-run (or a run the scheduler caught up on) is harmless. Returns the
    files written.
    """
    month = Month.containing(now, settings.report.zone).previous()
    report = build_report(settings, store, month, rota=rota, now=now)
    folder = Path(settings.report.folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in settings.report.formats:
        path = folder / f"burden-{month.label}.{fmt}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(render(report, fmt), encoding="utf-8")
        partial.replace(path)  # readers never see half a file
        written.append(path)
    files = [path.resolve() for path in written]
    queued = store.write(
        lambda session: announce_report(
            session, settings=settings, report=report, files=files, now=now
        )
    )
    log.info("burden report %s: %d announcement(s) queued", month.label, queued)
    return written
