#!/usr/bin/env python3
"""Benchmark of the monthly burden report: a month of 100,000 pages on SQLite.

Why it is built this way:
- The scenario is seeded: 20 weekly rotations x 10 people (200 people in 8 IANA zones), two
  layers each, November 2026 (the US leaves summer time on the 1st), 100,000 pages to whoever
  is on call, about 3 pages per incident, 1-2 alerts per incident out of 60 alert names.
- Rows go straight into a migrated database with SQLAlchemy Core bulk inserts (the receiver's
  own write path is measured by bench/ingest, not here).
- Pages are stored in time order (ids follow `at`), as the real ledger is: it is written as
  pages are sent.
- The month before is empty by default, as in the issue's scenario; `--previous-month` fills
  October with a month like November, so that the change against it costs what it would in
  a database that has been running for a while.
- A figure alone says little across machines, so it is printed with a baseline measured in
  the same run on the same file: a bare `SELECT` of the month's pages into Python tuples with
  the sqlite3 module. The ratio is what travels between machines.
- Timings use `time.perf_counter` with `gc.collect()` before each repetition (median, max).
  Memory is the process's peak RSS (ru_maxrss), which includes Python, SQLAlchemy and
  matplotlib themselves.

Run `bench/report --help`. Results go to stdout and to `bench/results/report-<time>.json`.
Exit status: 0 when the benchmark ran (whether or not the targets pass), 1 when it broke.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import insert  # noqa: E402

from receiver.composition import build_rota  # noqa: E402
from receiver.config.settings import DatabaseSettings, Settings  # noqa: E402
from receiver.incidents.models import AlertRecord, IncidentRecord  # noqa: E402
from receiver.paging.models import OutboxMessage, PageRecord  # noqa: E402
from receiver.report.build import build_report  # noqa: E402
from receiver.report.render import render  # noqa: E402
from receiver.store.database import Store  # noqa: E402
from scheduler.burden import Month  # noqa: E402
from scheduler.rota import Rota  # noqa: E402

ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
ROTATIONS, PEOPLE_PER_ROTATION, PAGES = 20, 10, 100_000
MONTH_TEXT, REPORT_ZONE = "2026-11", "UTC"
TARGET_S, TARGET_MB = 2.0, 300.0


def configuration(database_url: str, seed: int) -> Settings:
    """20 weekly rotations of 10 people, each person in one of 8 zones."""
    rng = random.Random(seed)
    people, rotations = [], []
    for r in range(ROTATIONS):
        members = [f"p{r:02d}{n}" for n in range(PEOPLE_PER_ROTATION)]
        for name in members:
            people.append(
                {"name": name, "email": f"{name}@example.com", "time_zone": rng.choice(ZONES)}
            )
        rotations.append(
            {
                "name": f"team-{r:02d}",
                "time_zone": ZONES[r % len(ZONES)],
                "services": [f"svc-{r:02d}"],
                "shift_length": "1w",
                "handoff": {"weekday": "monday", "time": "09:00"},
                "start": "2026-09-07",
                "members": members,
                "layers": [
                    {"name": "primary"},
                    {"name": "secondary", "order": members[5:] + members[:5]},
                ],
            }
        )
    return Settings.model_validate(
        {
            "database": {"url": database_url},
            "people": people,
            "rotations": rotations,
            "report": {"time_zone": REPORT_ZONE},
        }
    )


def populate(
    settings: Settings, store: Store, seed: int, month_text: str = MONTH_TEXT, first_id: int = 0
) -> dict[str, int]:
    """Incidents, alerts, outbox messages and pages for the month, in bulk (ids after first_id)."""
    rng = random.Random(seed)
    month = Month.parse(month_text, ZoneInfo(REPORT_ZONE))
    rota = Rota(
        [r.to_rotation() for r in settings.rotations],
        {p.name: p.to_person() for p in settings.people},
        lookahead=timedelta(days=1),
    )
    on_call: dict[tuple[str, str], tuple[list[datetime], list[str]]] = {}
    for name, rotation in rota.rotations.items():
        for layer in rotation.layers:
            shifts = rota.layer_shifts(name, layer.name, month.start, month.end)
            on_call[(name, layer.name)] = ([s.start for s in shifts], [s.person for s in shifts])
    alertnames = [(f"Alert{n:02d}", f"rule-{n % 12}") for n in range(60)]
    span = int((month.end - month.start).total_seconds())
    incidents, alerts, messages, pages = [], [], [], []
    incident_id = alert_id = first_id
    while len(pages) < PAGES:
        incident_id += 1
        rotation = f"team-{rng.randrange(ROTATIONS):02d}"
        opened = month.start.astimezone(UTC) + timedelta(seconds=rng.randrange(span))
        severity = rng.choice(("SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV4"))
        acked = opened + timedelta(seconds=rng.randrange(1200)) if rng.random() < 0.9 else None
        resolved = opened + timedelta(minutes=rng.randrange(6000)) if rng.random() < 0.95 else None
        incidents.append(
            {
                "id": incident_id,
                "group_identity": f"g{incident_id}",
                "receiver": "onwatch",
                "group_key": f"k{incident_id}",
                "group_labels": {},
                "status": "resolved" if resolved else "open",
                "severity": severity,
                "service": rotation.replace("team", "svc"),
                "title": "bench",
                "channel": f"inc-{incident_id}",
                "external_url": "",
                "truncated_alerts": 0,
                "opened_at": opened,
                "updated_at": opened,
                "resolved_at": resolved,
                "acknowledged_at": acked,
                "acknowledged_by": None,
            }
        )
        for name, rule in rng.sample(alertnames, rng.choice((1, 1, 2))):
            alert_id += 1
            alerts.append(
                {
                    "id": alert_id,
                    "incident_id": incident_id,
                    "fingerprint": f"f{alert_id}",
                    "alertname": name,
                    "status": "firing",
                    "labels": {},
                    "annotations": {},
                    "generator_url": "",
                    "severity": severity,
                    "service": "svc",
                    "rule": rule,
                    "matched": [],
                    "starts_at": opened,
                    "ends_at": None,
                    "first_seen_at": opened,
                    "updated_at": opened,
                }
            )
        at = opened
        for level in range(rng.choice((1, 2, 3, 3, 4, 5))):
            layer = "primary" if level % 2 == 0 else "secondary"
            starts, persons = on_call[(rotation, layer)]
            person = persons[max(bisect_right(starts, at) - 1, 0)]
            number = first_id + len(pages) + 1
            messages.append(
                {
                    "id": number,
                    "incident_id": incident_id,
                    "rotation": rotation,
                    "action": "trigger",
                    "target": layer,
                    "level": level,
                    "loop": 0,
                    "severity": severity,
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": at,
                    "deadline_at": at,
                    "created_at": at,
                    "sent_at": at,
                    "recipient": person,
                    "reference": "",
                    "last_error": "",
                    "details": {},
                }
            )
            pages.append(
                {
                    "id": number,
                    "incident_id": incident_id,
                    "message_id": number,
                    "rotation": rotation,
                    "person": person,
                    "severity": severity,
                    "at": at,
                    "night": False,
                }
            )
            at += timedelta(seconds=rng.choice((20, 45, 90, 300)))
    # The ledger is written as pages are sent, so its rows (ids) follow time; generated per
    # incident they would not, and reading a month through the index on `at` would jump
    # around the table as no real database does.
    pages.sort(key=lambda page: page["at"])
    for number, page in enumerate(pages, first_id + 1):
        page["id"] = number
    tables = (
        (IncidentRecord, incidents),
        (AlertRecord, alerts),
        (OutboxMessage, messages),
        (PageRecord, pages),
    )

    def work(connection: Any) -> None:
        for model, rows in tables:
            connection.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]

    store.write_rows(work)
    return {"incidents": len(incidents), "alerts": len(alerts), "pages": len(pages)}


def _populate_file(path: str, seed: int, previous_month: bool) -> dict[str, int]:
    settings = configuration(f"sqlite:///{path}", seed)
    store = Store(DatabaseSettings(url=settings.database.url))
    try:
        first_id, counts = 0, {}
        if previous_month:  # first, so that ids follow time as in a real database
            before = Month.parse(MONTH_TEXT, ZoneInfo(REPORT_ZONE)).previous()
            october = populate(settings, store, seed + 1, before.label)
            counts = {f"previous_month_{key}": value for key, value in october.items()}
            first_id = 10_000_000
        return populate(settings, store, seed, first_id=first_id) | counts
    finally:
        store.dispose()


def timed(action: Any, repetitions: int) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(repetitions):
        gc.collect()
        started = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - started)
    return samples, result


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(samples) * 1000,
        "max_ms": max(samples) * 1000,
        "samples_ms": [s * 1000 for s in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument(
        "--previous-month",
        action="store_true",
        help="fill the month before too (the report compares with it)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="onwatch-bench-report-") as folder:
        path = Path(folder) / "onwatch.db"
        settings = configuration(f"sqlite:///{path}", args.seed)
        store = Store(DatabaseSettings(url=settings.database.url))
        store.upgrade()
        started = time.perf_counter()
        # In a child process, so that the peak RSS measured here is the report's alone.
        context = multiprocessing.get_context("fork")
        with context.Pool(1) as pool:
            counts = pool.apply(_populate_file, (str(path), args.seed, args.previous_month))
        setup_s = time.perf_counter() - started
        gc.collect()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        month = Month.parse(MONTH_TEXT, settings.report.zone)
        rota = build_rota(settings)
        start, end = month.start, month.end

        def baseline() -> list[tuple]:
            with sqlite3.connect(path) as connection:
                return connection.execute(
                    "SELECT incident_id, rotation, person, at FROM page WHERE at >= ? AND at < ?",
                    (
                        start.astimezone(UTC).replace(tzinfo=None).isoformat(" "),
                        end.astimezone(UTC).replace(tzinfo=None).isoformat(" "),
                    ),
                ).fetchall()

        base_samples, rows = timed(baseline, args.repetitions)
        compute_samples, report = timed(
            lambda: build_report(settings, store, month, rota=rota), args.repetitions
        )
        json_samples, _ = timed(lambda: render(report, "json"), args.repetitions)
        html_samples, page = timed(lambda: render(report, "html"), args.repetitions)
        whole_samples, _ = timed(
            lambda: render(build_report(settings, store, month, rota=rota), "html"),
            args.repetitions,
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        store.dispose()
    base = statistics.median(base_samples)
    whole = statistics.median(whole_samples)
    results = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "scenario": {
            "rotations": ROTATIONS,
            "people": ROTATIONS * PEOPLE_PER_ROTATION,
            "month": MONTH_TEXT,
            "previous_month_filled": args.previous_month,
            **counts,
            "pages_selected_by_baseline": len(rows),
            "people_in_report": len(report.people),
            "html_bytes": len(page),
            "setup_s": setup_s,
        },
        "baseline_bare_select": summary(base_samples),
        "build_report": summary(compute_samples),
        "render_json": summary(json_samples),
        "render_html": summary(html_samples),
        "whole_report_html": summary(whole_samples),
        "ratio_whole_to_baseline": whole / base,
        "rss_mb": {"before_report": rss_before, "peak": peak_mb},
        "targets": {"whole_s": TARGET_S, "rss_mb": TARGET_MB},
    }
    print(
        f"scenario: {counts['pages']:,} pages, {counts['incidents']:,} incidents, "
        f"{counts['alerts']:,} alerts, {ROTATIONS} rotations, "
        f"{ROTATIONS * PEOPLE_PER_ROTATION} people, {MONTH_TEXT} (setup {setup_s:.1f} s)"
    )
    if args.previous_month:
        print(f"previous month: {counts['previous_month_pages']:,} pages")
    print(f"{'measurement':<40}{'median ms':>12}{'max ms':>12}")
    for label, samples in (
        ("baseline: bare SELECT of pages (sqlite3)", base_samples),
        ("load + compute (+ last month's totals)", compute_samples),
        ("render json", json_samples),
        ("render html (3 SVG charts)", html_samples),
        ("whole report: load, compute, html", whole_samples),
    ):
        print(f"{label:<40}{statistics.median(samples) * 1000:>12.1f}{max(samples) * 1000:>12.1f}")
    verdict = "PASS" if whole <= TARGET_S else "FAIL"
    print(f"whole report / baseline: {whole / base:.1f}x; target {TARGET_S:g} s: {verdict}")
    verdict = "PASS" if peak_mb <= TARGET_MB else "FAIL"
    print(f"peak RSS {peak_mb:.0f} MB (before the report: {rss_before:.0f} MB); target "
          f"{TARGET_MB:g} MB: {verdict}")  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"report-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"details: {out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # noqa: BLE001  # a broken benchmark exits 1, with the reason
        print(f"bench/report broke: {exc!r}", file=sys.stderr)
        raise SystemExit(1) from exc
