"""`onwatch rota check|show|export` and `onwatch calendar urls`: the rota from a terminal."""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from urllib.parse import quote
from zoneinfo import ZoneInfo

from receiver.cli_support import EXIT_OK, EXIT_PROBLEMS, UsageError, require_rotation
from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.instants import instant_range, parse_instant
from receiver.rota.store import stored_overrides
from receiver.rota.swaps import SwapQuestionError, find_swaps
from scheduler.calendar import RenderedEvents, feed_token
from scheduler.check import check, policy_warnings
from scheduler.feeds import feed_window, person_feed, rotation_feed
from scheduler.overrides import Override
from scheduler.rota import Rota
from scheduler.shifts import Shift


def _span(args: argparse.Namespace, default_days: int) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    try:
        within = instant_range(now)
        start = parse_instant(args.start, within=within) if args.start else now
        end = (
            parse_instant(args.end, within=within)
            if args.end
            else start + timedelta(days=default_days)
        )
    except ValueError as exc:
        raise UsageError(f"--from/--to: {exc}") from None
    if end <= start:
        raise UsageError("--to must be after --from")
    return start, end


def cmd_rota_check(args: argparse.Namespace, settings: Settings) -> int:
    """List every rota violation with person, dates and rule; exit 1 when there is any."""
    rota = build_rota(settings)
    start, end = _span(args, settings.calendar.days_ahead)
    overrides, _ = stored_overrides(settings, start)
    violations = check(rota, start, end, overrides)
    for warning in policy_warnings(rota):
        print(f"warning: {warning.message}", file=sys.stderr)
    for v in violations:
        when = f"{_utc(v.start)} .. {_utc(v.end)}" if v.start and v.end else "always"
        flag = " [forced]" if v.forced else ""
        print(f"{v.rule:<28} {v.rotation:<16} {v.person or '-':<12} {when}{flag}\n    {v.message}")
    span = f"{start:%Y-%m-%d} .. {end:%Y-%m-%d}"
    summary = (
        f"{len(rota.rotations)} rotations, {len(rota.people)} people, {len(overrides)} overrides, "
        f"{span}"
    )
    if violations:
        print(f"\n{len(violations)} violations ({summary})")
        return EXIT_PROBLEMS
    print(f"rota OK: no violations ({summary})")
    return EXIT_OK


def cmd_rota_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print one rotation's final shifts as a table, in the rotation's own time zone."""
    rota = build_rota(settings)
    require_rotation(settings, args.rotation)
    rotation = rota.rotation(args.rotation)
    start, end = _span(args, 28)
    overrides, _ = stored_overrides(settings, start)
    shifts = rota.rotation_shifts(args.rotation, start, end, overrides)
    print(f"{rotation.name}: {rotation.shift} shifts, times in {rotation.zone.key}\n")
    rows = [("LAYER", "PERSON", "START", "END", "HOURS", "SOURCE", "NOTE")]
    for shift in shifts:
        local_start, local_end = (
            shift.start.astimezone(rotation.zone),
            shift.end.astimezone(rotation.zone),
        )
        rows.append(
            (
                shift.layer,
                shift.person or "NOBODY",
                f"{local_start:%a %Y-%m-%d %H:%M %Z}",
                f"{local_end:%a %Y-%m-%d %H:%M %Z}",
                f"{_hours(shift):g}",
                _source(shift),
                shift.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]
        )
    return EXIT_OK


def cmd_rota_swaps(args: argparse.Namespace, settings: Settings) -> int:
    """List the swaps the rota's rules allow for one shift, and with whom."""
    rota = build_rota(settings)
    require_rotation(settings, args.rotation)
    now = datetime.now(UTC)
    try:
        at = parse_instant(args.at, within=instant_range(now)) if args.at else now
    except ValueError as exc:
        raise UsageError(f"--at: {exc}") from None
    overrides, _ = stored_overrides(settings, now)
    try:
        search = find_swaps(
            rota,
            overrides,
            rotation=args.rotation,
            layer=args.layer,
            at=at,
            now=now,
            days=args.days,
        )
    except SwapQuestionError as exc:
        raise UsageError(str(exc)) from None
    shift, zone = search.shift, rota.rotation(args.rotation).zone
    print(
        f"{shift.person}'s {shift.rotation} {shift.layer} shift "
        f"{_local(shift.start, zone)} .. {_local(shift.end, zone)} ({zone.key}) can be swapped "
        f"with (shifts {_local(search.start, zone)} .. {_local(search.end, zone)}):"
    )
    for swap in search.allowed:
        other = swap.other
        print(f"  {other.person:<12} {_local(other.start, zone)} .. {_local(other.end, zone)}")
    if not search.allowed:
        print("  nobody: every swap in the window breaks a rule (try --days)")
    print(f"{len(search.allowed)} allowed, {search.refused} refused by the rules")
    return EXIT_OK


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%a %Y-%m-%d %H:%M}"


def cmd_rota_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write every ICS feed to a folder, or the final shifts as CSV (for on-call pay)."""
    rota = build_rota(settings)
    now = datetime.now(UTC)
    overrides, deleted = stored_overrides(settings, now)
    if args.format == "csv":
        start, end = _span(args, settings.calendar.days_ahead)
        if args.output == "-":
            write_csv(rota, start, end, overrides, sys.stdout)
        else:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                write_csv(rota, start, end, overrides, out)
            print(f"wrote {args.output}")
        return EXIT_OK
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    window = feed_window(now, *settings.calendar.window)
    refresh = timedelta(minutes=settings.calendar.refresh_minutes)
    rendered = RenderedEvents()  # a shift in a rotation's and a person's feed renders once
    for name in rota.rotations:
        body = rotation_feed(rota, name, window, overrides, deleted, refresh, rendered)
        (folder / f"rotation-{name}.ics").write_bytes(body)
    for name in rota.people:
        body = person_feed(rota, name, window, overrides, deleted, refresh, rendered)
        (folder / f"person-{name}.ics").write_bytes(body)
    print(f"wrote {len(rota.rotations)} rotation and {len(rota.people)} person feeds to {folder}")
    return EXIT_OK


def write_csv(
    rota: Rota, start: datetime, end: datetime, overrides: list[Override], out: TextIO
) -> None:
    """Every final shift overlapping [start, end), one row each, times in UTC and local."""
    writer = csv.writer(out)
    writer.writerow(
        [
            "rotation",
            "layer",
            "person",
            "email",
            "start_utc",
            "end_utc",
            "time_zone",
            "start_local",
            "end_local",
            "hours",
            "source",
            "override_id",
            "rest_broken",
        ]
    )
    for name, rotation in rota.rotations.items():
        for shift in rota.rotation_shifts(name, start, end, overrides):
            person = rota.people.get(shift.person or "")
            writer.writerow(
                [
                    name,
                    shift.layer,
                    shift.person or "",
                    person.email if person else "",
                    shift.start.isoformat(),
                    shift.end.isoformat(),
                    rotation.zone.key,
                    shift.start.astimezone(rotation.zone).isoformat(),
                    shift.end.astimezone(rotation.zone).isoformat(),
                    f"{_hours(shift):g}",
                    shift.source.value,
                    shift.override_id or "",
                    "yes" if shift.rest_broken else "",
                ]
            )


def cmd_calendar_urls(args: argparse.Namespace, settings: Settings) -> int:
    """Print the subscription URL of every feed (each with its own token)."""
    secret = settings.calendar.secret
    if secret is None:
        raise UsageError(
            "calendar.secret is not set (e.g. export ONWATCH_CALENDAR_SECRET=...): no feed URLs"
        )
    base = args.base_url.rstrip("/")
    rota = build_rota(settings)
    for kind, names in (("rotation", rota.rotations), ("person", rota.people)):
        for name in names:
            token = feed_token(secret.get_secret_value(), kind, name)
            print(f"{kind:<9} {name:<20} {base}/calendar/{kind}/{quote(name)}.ics?token={token}")
    return EXIT_OK


def _utc(instant: datetime | None) -> str:
    return f"{instant:%Y-%m-%d %H:%M} UTC" if instant else "-"


def _hours(shift: Shift) -> float:
    return round((shift.end - shift.start).total_seconds() / 3600, 2)


def _source(shift: Shift) -> str:
    if shift.override_id is not None:
        return f"override {shift.override_id}"
    return "schedule (rest broken)" if shift.rest_broken else "schedule"
