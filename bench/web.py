#!/usr/bin/env python3
"""Benchmark of the web pages' server time: `/`, `/incidents` and one incident's page with
100,000 incidents in SQLite and 1,000 timeline entries on the incident shown.

Why it is built this way:
- Rows go straight into a migrated database with SQLAlchemy Core bulk inserts (ingest's own
  path is measured by bench/ingest): 100,000 incidents over a year, 30 of them open, the
  newest with 1,000 timeline entries.
- The pages are requested through the app's WSGI interface (Flask's test client, signed in
  with a real password and session cookie): the server's time, without a browser or a
  network. The baseline, measured in the same run and the same app, is `/healthz` (WSGI,
  routing and one response, no query, no template): the ratio is what travels between
  machines. The target is a median under 100 ms per page.
- Each page is requested `--repeat` times after one warm-up; median and max are printed.

Run `bench/web [--incidents N] [--repeat N]`. Exit status 0 when it ran, 1 when it broke.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from prometheus_client import CollectorRegistry  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from receiver.app import create_app  # noqa: E402
from receiver.config.settings import Settings  # noqa: E402
from receiver.incidents.models import IncidentRecord, TimelineEntry  # noqa: E402
from receiver.pages.passwords import set_password  # noqa: E402
from receiver.store.database import Store  # noqa: E402

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OPEN, TIMELINE, TARGET_MS = 30, 1000, 100.0
PASSWORD = "benchmark password"
SERVICES = ("checkout", "api", "payments", "search", "storage")


def settings(database_url: str) -> Settings:
    people = [
        {"name": f"p{i}", "email": f"p{i}@example.com", "time_zone": "Europe/London"}
        for i in range(6)
    ]
    rotation = {
        "name": "ops",
        "time_zone": "Europe/London",
        "services": list(SERVICES),
        "shift_length": "1w",
        "handoff": {"weekday": "monday", "time": "09:00"},
        "start": "2026-11-02",
        "members": [p["name"] for p in people[:5]],
        "layers": [{"name": "primary"}, {"name": "secondary"}],
        "escalation": {"person": "p5"},
    }
    return Settings.model_validate(
        {
            "database": {"url": database_url},
            "people": people,
            "rotations": [rotation],
            "web": {"auth": "password", "session_secret": "benchmark-secret-0123456789"},
        }
    )


def seed(store: Store, incidents: int) -> int:
    """Insert the incidents and the newest one's timeline; the id of the newest."""
    rows = []
    for n in range(incidents):
        opened = NOW - timedelta(days=365) * (incidents - n) / incidents
        is_open = n >= incidents - OPEN
        rows.append(
            {
                "group_identity": f"g{n}",
                "receiver": "onwatch",
                "group_key": f'{{}}:{{alertname="A{n % 60}"}}',
                "group_labels": {"alertname": f"A{n % 60}"},
                "status": "open" if is_open else "resolved",
                "severity": f"SEV{1 + n % 4}",
                "service": SERVICES[n % len(SERVICES)],
                "title": f"A{n % 60}: something is wrong with {SERVICES[n % len(SERVICES)]}",
                "channel": f"#inc-{n}",
                "external_url": "",
                "truncated_alerts": 0,
                "opened_at": opened,
                "updated_at": opened,
                "resolved_at": None if is_open else opened + timedelta(minutes=40),
                "classification_note": "",
            }
        )
    table = IncidentRecord.__table__  # type: ignore[attr-defined]
    entries = TimelineEntry.__table__  # type: ignore[attr-defined]

    def work(connection):  # type: ignore[no-untyped-def]
        for start in range(0, len(rows), 10_000):
            connection.execute(insert(table), rows[start : start + 10_000])
        newest = incidents
        connection.execute(
            insert(entries),
            [
                {
                    "incident_id": newest,
                    "at": NOW - timedelta(minutes=TIMELINE - i),
                    "kind": "note",
                    "message": f"entry {i}: checked the dashboards, nothing new",
                    "data": {},
                }
                for i in range(TIMELINE)
            ],
        )
        return newest

    return int(store.write_rows(work))


def timed(client, path: str, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    client.get(path)  # warm-up: templates compiled, caches filled
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onwatch-bench-web-") as work:
        config = settings(f"sqlite:///{Path(work) / 'onwatch.db'}")
        store = Store(config.database)
        store.upgrade()
        started = time.perf_counter()
        newest = seed(store, args.incidents)
        store.write(lambda s: set_password(s, "p0", PASSWORD, now=NOW))
        print(f"seeded {args.incidents} incidents in {time.perf_counter() - started:.1f} s")
        app = create_app(config, store=store, registry=CollectorRegistry(), clock=lambda: NOW)
        client = app.test_client()
        form = client.get("/sign-in").get_data(as_text=True)
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/sign-in", data={"name": "p0", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303, signed.status_code
        baseline = statistics.median(timed(client, "/healthz", args.repeat))
        print(f"baseline /healthz: median {baseline:.2f} ms")
        print(f"{'page':<40} {'median ms':>10} {'max ms':>9} {'x baseline':>11}  target")
        for path in (
            "/",
            "/incidents",
            "/incidents?severity=SEV2&q=payments",
            "/incidents?q=no-such-text",  # the worst case: a text that matches nothing
            f"/incidents/{newest}",
        ):
            times = timed(client, path, args.repeat)
            median = statistics.median(times)
            verdict = "ok" if median < TARGET_MS else "MISSED"
            print(
                f"{path:<40} {median:>10.1f} {max(times):>9.1f} {median / baseline:>11.0f}"
                f"  < {TARGET_MS:.0f} ms {verdict}"
            )
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
