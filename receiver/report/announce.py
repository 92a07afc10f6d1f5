"""Announcing the monthly burden report: one message per rotation with `notify:` targets.

The scheduler's monthly job writes the files, then queues these in one transaction through
the notification outbox. The dedup key names the month and the rotation, so a second run of
the job for the same month (a catch-up, a retry) announces nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from receiver.config.settings import Settings
from receiver.notify.outbox import enqueue
from scheduler.burden import BurdenReport, Month, RotationBurden, noise_summary

log = logging.getLogger(__name__)

TOPIC = "burden_report"
# A month's report is read over days, not minutes: a target down for an hour at 00:30 on the
# 1st must not cost the announcement, so it is retried for a day (or the dispatcher's
# deadline, if longer) before it is marked failed.
DEADLINE = timedelta(days=1)
# Month names in English whatever the process locale (strftime's %B follows the locale).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def dedup_key(month: Month, rotation: str) -> str:
    """One announcement per month and rotation, however often the job runs."""
    return f"burden-report-{month.label}-{rotation}"


def announcement_subject(month: Month, rotation: str) -> str:
    """`On-call burden report November 2026: ops`."""
    return f"On-call burden report {MONTH_NAMES[month.month - 1]} {month.year}: {rotation}"


def announcement_payload(
    report: BurdenReport, figures: RotationBurden, files: Sequence[Path]
) -> dict[str, Any]:
    """The rotation's headline figures as JSON, and where the files are."""
    top = figures.noisiest_by_pages[0] if figures.noisiest_by_pages else None
    return {
        "month": report.month.label,
        "time_zone": report.month.zone.key,
        "rotation": figures.name,
        "pages": figures.pages,
        "night_pages": figures.night_pages,
        "out_of_hours_pages": figures.out_of_hours_pages,
        "night_page_limit": report.policy.night_page_limit,
        "people_over_night_limit": list(figures.people_over_night_limit),
        "rest_breaches": figures.rest_breaches,
        # Every field of AlertNoise, in order (not its classified_incidents property).
        "top_alert": None if top is None else asdict(top),
        "mostly_noise": [alert.alertname for alert in figures.mostly_noise],
        "recommendation": figures.recommendation,
        "files": [str(path) for path in files],
    }


def announcement_text(report: BurdenReport, figures: RotationBurden, files: Sequence[Path]) -> str:
    """What a person reads: the rotation's headline figures and the paths of the files."""
    month = report.month
    limit = report.policy.night_page_limit
    heavy = ", ".join(figures.people_over_night_limit) or "nobody"
    lines = [
        f"{announcement_subject(month, figures.name)} ({month.label}, {month.zone.key}).",
        f"Pages: {figures.pages}, {figures.night_pages} at night, "
        f"{figures.out_of_hours_pages} out of business hours.",
        f"Over {limit:g} night pages a night on call: {heavy}.",
        f"Rest between shifts shorter than {figures.name} asks for: {figures.rest_breaches}.",
    ]
    if figures.noisiest_by_pages:
        top = figures.noisiest_by_pages[0]
        lines.append(
            f"Noisiest alert: {top.alertname}, {top.pages} pages (rule {top.rule}); "
            f"{noise_summary(top)}."
        )
    else:
        lines.append("Noisiest alert: none recorded.")
    if figures.recommendation:
        lines.append(f"Recommendation: {figures.recommendation}.")
    if files:
        lines.append("Report: " + ", ".join(str(path) for path in files))
    else:
        lines.append("Report: no files written (report.formats is empty).")
    return "\n".join(lines)


def announce_report(
    session: Session,
    *,
    settings: Settings,
    report: BurdenReport,
    files: Sequence[Path],
    now: datetime,
) -> int:
    """Queue the report's announcement to each rotation's `notify:` targets; how many queued.

    Targets without a URL are skipped (logged); a rotation already announced for the month
    is not announced again.
    """
    figures = {r.name: r for r in report.rotations}
    queued = 0
    for rotation in settings.rotations:
        mine = figures.get(rotation.name)
        if mine is None or not rotation.notify:
            continue
        subject = announcement_subject(report.month, rotation.name)
        text = announcement_text(report, mine, files)
        payload = announcement_payload(report, mine, files)
        for target in rotation.notify:
            if not settings.notifications.target(target).enabled:
                log.info("burden report of %s: target %s has no URL", rotation.name, target)
                continue
            queued += enqueue(
                session,
                target=target,
                topic=TOPIC,
                subject=subject,
                text=text,
                dedup_key=dedup_key(report.month, rotation.name),
                now=now,
                deadline=max(DEADLINE, timedelta(minutes=settings.dispatcher.deadline_minutes)),
                payload=payload,
            )
    return queued
