#!/usr/bin/env python3
"""In-process profile of the webhook: the Flask test client, one thread, a fresh SQLite file.

`bench/ingest` measures onwatch under gunicorn, where lock waits and the load generator blur
the picture; this runs the same bodies (`Plan.bodies`) through the app in one thread so that
the cost per request kind (new group, repeat, update, resolution, 100-alert group) and the
profile of where it goes are plain. Run from the repository root:

    .venv/bin/python bench/profile_ingest.py               # milliseconds per request kind
    .venv/bin/python bench/profile_ingest.py --profile 1   # plus cProfile of the 1-alert mix
    .venv/bin/python bench/profile_ingest.py --profile 100 # plus cProfile of 100-alert groups
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import MIX_1, TOKEN, build_plans, find_fixtures  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402

from receiver.app import create_app  # noqa: E402
from receiver.config.settings import Settings  # noqa: E402
from receiver.store.database import Store  # noqa: E402

HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
KIND_NAMES = {0: "new group", 5: "repeat", 6: "repeat", 7: "update", 8: "resolve", 9: "resolve"}


def main() -> int:
    """Time each request kind, and profile one load when asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="1-alert requests")
    parser.add_argument("--groups", type=int, default=100, help="100-alert requests")
    parser.add_argument("--profile", choices=["1", "100"], help="cProfile this load")
    parser.add_argument("--top", type=int, default=35, help="profile lines to print")
    options = parser.parse_args()

    plans = build_plans(find_fixtures())
    with tempfile.TemporaryDirectory(prefix="onwatch-profile-") as tmp:
        settings = Settings.model_validate(
            {
                "database": {"url": f"sqlite:///{Path(tmp) / 'onwatch.db'}"},
                "webhook": {"bearer_token": TOKEN},
            }
        )
        store = Store(settings.database)
        store.upgrade()
        client = create_app(settings, store=store, registry=CollectorRegistry()).test_client()

        def post(body: bytes) -> None:
            response = client.post("/api/v1/alertmanager", data=body, headers=HEADERS)
            assert response.status_code == 200, response.get_data(as_text=True)

        for body, _ in zip(plans["warmup"].bodies(0), range(200), strict=False):
            post(body)

        timings: dict[str, list[float]] = defaultdict(list)
        profiler = cProfile.Profile()
        bodies = plans["tput_1"].bodies(0)
        if options.profile == "1":
            profiler.enable()
        for index in range(options.requests):
            step = index % len(MIX_1)
            kind = KIND_NAMES.get(step, "new group")
            body = next(bodies)
            started = time.perf_counter()
            post(body)
            timings[kind].append(time.perf_counter() - started)
        profiler.disable()
        bodies = plans["tput_100"].bodies(0)
        if options.profile == "100":
            profiler.enable()
        for _ in range(options.groups):
            body = next(bodies)
            started = time.perf_counter()
            post(body)
            timings["100-alert group"].append(time.perf_counter() - started)
        profiler.disable()
        store.dispose()

    total_1 = sum(sum(v) for k, v in timings.items() if k != "100-alert group")
    count_1 = sum(len(v) for k, v in timings.items() if k != "100-alert group")
    for kind, values in timings.items():
        values.sort()
        print(
            f"{kind:16s} n={len(values):5d}  mean {1000 * sum(values) / len(values):7.2f} ms"
            f"  p50 {1000 * values[len(values) // 2]:7.2f} ms"
        )
    print(f"1-alert mix      mean {1000 * total_1 / count_1:7.2f} ms/request (one thread)")
    if options.profile:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(options.top)
        stats.sort_stats("tottime").print_stats(options.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
