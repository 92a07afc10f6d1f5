#!/usr/bin/env python3
"""In-process profile of the pager outbox dispatcher: one thread, a fresh SQLite file.

`bench/paging` measures the whole path under gunicorn, where ingest, the load generator and
the fake PagerDuty share the cores; this fills the outbox first (N new groups through the
Flask test client, bench/paging.py's configuration and bodies), then times the dispatcher
alone delivering them to the tests' fake PagerDuty on loopback, and counts the SQL
statements it runs per page. Run from the repository root:

    .venv/bin/python bench/profile_dispatch.py                 # ms and statements per page
    .venv/bin/python bench/profile_dispatch.py --profile       # plus cProfile of the delivery
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

warnings.filterwarnings("ignore", message=".*pdpyras.*deprecated")

from ingest import HEADERS, WEBHOOK_PATH, find_fixtures  # noqa: E402
from paging import storm_bodies, write_config  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from sqlalchemy import event  # noqa: E402

from receiver.app import create_app  # noqa: E402
from receiver.config.settings import load_settings  # noqa: E402
from receiver.jobs.runner import SchedulerRunner  # noqa: E402
from receiver.store.database import Store  # noqa: E402
from tests.support.fake_pagerduty import FakePagerDuty  # noqa: E402


def main() -> int:
    """Fill the outbox, then time (and optionally profile) the dispatcher emptying it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000, help="new groups to page (1000)")
    parser.add_argument("--profile", action="store_true", help="cProfile the delivery")
    parser.add_argument("--top", type=int, default=30, help="profile lines to print")
    parser.add_argument("--senders", type=int, default=None, help="the dispatcher's senders")
    parser.add_argument("--chunk", type=int, default=None, help="the dispatcher's chunk")
    options = parser.parse_args()
    if not 1 <= options.groups <= 100_000:
        parser.error("--groups must be between 1 and 100000")

    fixture = json.loads((find_fixtures() / "firing_single.json").read_text())
    with tempfile.TemporaryDirectory(prefix="onwatch-dispatch-") as tmp, FakePagerDuty() as fake:
        config = write_config(Path(tmp), fake.url, Path(tmp) / "onwatch.db", datetime.now(UTC))
        settings = load_settings(config, environ={})
        store = Store(settings.database)
        store.upgrade()
        client = create_app(settings, store=store, registry=CollectorRegistry()).test_client()
        for body in storm_bodies(fixture, 1, options.groups):
            response = client.post(WEBHOOK_PATH, data=body, headers=HEADERS)
            assert response.status_code == 200, response.get_data(as_text=True)

        dispatcher = SchedulerRunner(settings, store=store).dispatcher
        dispatcher.still_leading = None  # no lease in this process: it alone sends
        dispatcher.senders = options.senders or dispatcher.senders
        dispatcher.chunk = options.chunk or dispatcher.chunk
        statements: Counter[str] = Counter()

        @event.listens_for(store.engine.__class__, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
            statements[sql.split(None, 1)[0].upper()] += 1

        profiler = cProfile.Profile()
        started = time.perf_counter()
        cpu = time.process_time()
        if options.profile:
            profiler.enable()
        handled = rounds = 0
        while True:
            done = dispatcher.run_once()
            rounds += 1
            if done == 0:
                break
            handled += done
        profiler.disable()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        event.remove(store.engine.__class__, "before_cursor_execute", _count)
        store.dispose()
        accepted = sum(1 for r in fake.requests if r.status == 202)

    per = max(handled, 1)
    print(f"senders {dispatcher.senders}, chunk {dispatcher.chunk}, batch {dispatcher.batch}")
    print(
        f"{handled} messages in {rounds} rounds, {accepted} accepted by the fake: "
        f"{wall:.2f} s wall ({handled / wall:.0f}/s), {1000 * cpu / per:.2f} ms CPU per page"
    )
    total = sum(statements.values())
    print(
        f"SQL statements per page: {total / per:.2f} "
        + ", ".join(f"{kind} {count / per:.2f}" for kind, count in statements.most_common())
    )
    if options.profile:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(options.top)
        stats.sort_stats("tottime").print_stats(options.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
