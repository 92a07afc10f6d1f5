#!/usr/bin/env python3
"""Benchmark of onwatch's paging path: webhook answered -> trigger arrives at PagerDuty.

Why it is built this way:
- The number that matters to a responder is the time from Alertmanager's notification being
  accepted (the webhook's 2xx) to PagerDuty receiving the trigger. onwatch writes the page
  into an outbox in the webhook's transaction and a separate `onwatch scheduler` process
  delivers it (polling every `dispatcher.poll_seconds`); this benchmark measures that whole
  path on a real `onwatch serve` (gunicorn, SQLite, bearer token) whose rotation pages through
  `pagerduty-events` into the fake PagerDuty of the tests (`tests/fake_pagerduty.py`), which
  runs in this process and stamps every request with `time.monotonic()`, the clock the
  senders use for the webhook answers. Pages are matched by dedup key `onwatch-<incident_id>`
  (the webhook's JSON answer carries `incident_id`).
- A storm of N distinct alert groups (default 1,000; Alertmanager 0.25 bodies built from
  `firing_single.json`: service checkout, severity critical, distinct groupKey, alertname and
  fingerprint) is posted by a few keep-alive threads (default 8), so the storm's own ingest
  is quick and the figure is the paging path, not the webhook.
- Phase 1: PagerDuty healthy. Target: p99 < 1 s. Phase 2: a new storm while the fake fails
  for S seconds (a third each: 500, 429 with Retry-After, connection refused), then recovers.
  Targets: zero pages lost and zero duplicate PagerDuty incidents (by dedup key).
- Baseline in the same run: posting an event straight to the fake with pdpyras (one
  EventsAPISession, sequential), the floor of one delivery.
- The config gives every escalation level a 30 min ack timeout and pages SEV1..SEV3 one
  layer at a time, so only the level-0 trigger of each incident is due during the run; the
  people's night window is put hours away from now so no night-load notices are sent.

Run `bench/paging --help`. Results go to stdout and to `bench/results/paging-<time>.json`.
Exit status: 0 when the benchmark ran (whether or not the targets pass), 1 when it broke.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import math
import os
import queue
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from receiver.cli import DEFAULT_THREADS, DEFAULT_WORKERS  # what `onwatch serve` runs
from receiver.composition import build_rota

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
for _path in (str(BENCH_DIR), str(REPO_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from ingest import (  # noqa: E402  (bench/ingest.py: shared helpers)
    HEADERS,
    TOKEN,
    WEBHOOK_PATH,
    Server,
    _percentile,
    find_fixtures,
    free_port,
    go_json,
    go_time,
    onwatch_argv,
    scan_log,
)

from tests.support.fake_pagerduty import FakePagerDuty  # noqa: E402

ROUTING_KEY = "benchroutingkey0123456789abcdef0"  # 32 characters, as PagerDuty wants
assert len(ROUTING_KEY) == 32
ROTATION = "checkout-oncall"
SERVICE = "checkout"
PEOPLE = (("ana", "PALICE1"), ("ben", "PBOB001"), ("cai", "PCHIDI1"), ("dev", "PDEV001"))
ESCALATION_PERSON = ("eve", "PEVE001")
POLL_SECONDS = 0.2
ACK_TIMEOUT = "30m"
BASELINE_EVENTS = 200

# Targets.
TARGET_P99_S = 1.0

# Phase numbers go into the alert names, so that no two phases share a group.
PHASE_WARMUP, PHASE_HEALTHY, PHASE_FAILING, PHASE_SUSTAINED = 0, 1, 2, 3
# The sustained storm: an outage that keeps firing new groups for minutes, offered at a fixed
# rate (open loop) while the dispatcher pages them.
SUSTAINED_GROUPS, SUSTAINED_RATE = 10_000, 85.0
TARGET_SUSTAINED_P99_S = 5.0

LOG_PATTERNS_EXTRA = {
    "apscheduler runs skipped (previous still running)": "maximum number of running instances",
    "apscheduler runs missed": "was missed by",
    "outbox messages failed": "failed: ",
    "store unavailable": "store unavailable",
}


# --------------------------------------------------------------------------------------
# Configuration and payloads


def write_config(work_dir: Path, events_url: str, db_path: Path, now: datetime) -> Path:
    """A small onwatch config (JSON is YAML): one rotation for checkout paging the fake."""
    # Night window a few hours away from now (UTC people), so no page is a night page.
    night_start = (now + timedelta(hours=6)).strftime("%H:00")
    night_end = (now + timedelta(hours=7)).strftime("%H:00")
    people = [
        {
            "name": name,
            "email": f"{name}@example.com",
            "time_zone": "Etc/UTC",
            "pagerduty_user_id": pd_id,
            "night": {"start": night_start, "end": night_end},
        }
        for name, pd_id in (*PEOPLE, ESCALATION_PERSON)
    ]
    names = [name for name, _ in PEOPLE]
    config = {
        "database": {"url": f"sqlite:///{db_path}"},
        "webhook": {"bearer_token": TOKEN},
        "people": people,
        "rotations": [
            {
                "name": ROTATION,
                "time_zone": "Etc/UTC",
                "services": [SERVICE],
                "shift_length": "1d",
                "handoff": {"time": "09:00"},
                "start": (now.date() - timedelta(days=14)).isoformat(),
                "min_rest": "1d",
                "members": names,
                "layers": [
                    {"name": "primary"},
                    {"name": "secondary", "order": names[2:] + names[:2]},
                ],
                "escalation": {"person": ESCALATION_PERSON[0]},
                "paging": {
                    "pager": "pagerduty-events",
                    "pagerduty": {"routing_key": ROUTING_KEY, "events_url": events_url},
                    "ack_timeout": {"SEV1": ACK_TIMEOUT, "SEV2": ACK_TIMEOUT, "SEV3": ACK_TIMEOUT},
                    "repeat": 0,
                    "page_all_layers_at_once": [],
                },
            }
        ],
        "dispatcher": {"poll_seconds": POLL_SECONDS, "deadline_minutes": 60},
    }
    path = work_dir / "onwatch.yaml"
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def check_on_call(config: Path) -> str:
    """The primary on call now, from onwatch's own rota (fails early if there is none)."""
    from receiver.config.settings import load_settings

    settings = load_settings(config, environ={})
    shift = build_rota(settings).on_call(ROTATION, datetime.now(UTC)).get("primary")
    if shift is None or not shift.person:
        raise RuntimeError(f"nobody is on call now for {ROTATION} primary: fix the bench config")
    return shift.person


def storm_bodies(fixture: dict[str, Any], phase: int, groups: int) -> list[bytes]:
    """`groups` first-firing notifications of distinct checkout groups (critical)."""
    base = fixture["alerts"][0]
    now = datetime.now(UTC)
    starts_at = go_time(now - timedelta(minutes=1))
    bodies = []
    for index in range(groups):
        name = f"CheckoutStorm{phase}x{index:05d}"
        instance = f"checkout-{index % 20 + 1}:8080"
        labels = dict(
            sorted(
                {
                    **base["labels"],
                    "alertname": name,
                    "instance": instance,
                    "service": SERVICE,
                    "severity": "critical",
                }.items()
            )
        )
        annotations = {
            **base["annotations"],
            "description": f"5xx ratio is 12.3% over the last 5 minutes on {instance}.",
        }
        alert = {
            **base,
            "labels": labels,
            "annotations": annotations,
            "startsAt": starts_at,
            "fingerprint": hashlib.sha256(name.encode()).hexdigest()[:16],
        }
        body = {
            **fixture,
            "status": "firing",
            "alerts": [alert],
            "groupLabels": {"alertname": name, "service": SERVICE},
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "groupKey": f'{{}}:{{alertname="{name}", service="{SERVICE}"}}',
        }
        bodies.append((go_json(body) + "\n").encode())
    return bodies


# --------------------------------------------------------------------------------------
# Posting the storm


@dataclass
class Storm:
    """What posting one storm produced: per group, the incident and when it was answered."""

    answered_at: dict[str, float] = field(default_factory=dict)  # dedup key -> monotonic
    statuses: Counter[str] = field(default_factory=Counter)
    severities: Counter[str] = field(default_factory=Counter)
    opened: int = 0
    retries: int = 0
    socket_errors: int = 0
    failed_groups: int = 0  # never got a 2xx
    samples: dict[str, str] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    webhook_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        wall = self.finished - self.started
        return len(self.answered_at) / wall if wall > 0 else 0.0


def _post_each(
    port: int,
    jobs: queue.SimpleQueue[bytes | None],
    storm: Storm,
    lock: threading.Lock,
    timeout_s: float,
) -> None:
    """One poster thread: post each body taken from `jobs` until a None, on one keep-alive
    connection (retrying a 503 / a dropped connection a few times, as Alertmanager would),
    and record the answers in `storm`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        while (body := jobs.get()) is not None:
            for attempt in range(5):
                sent = time.monotonic()
                try:
                    conn.request("POST", WEBHOOK_PATH, body=body, headers=HEADERS)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    with lock:
                        storm.socket_errors += 1
                    continue
                answered = time.monotonic()
                with lock:
                    storm.statuses[str(response.status)] += 1
                    if 200 <= response.status < 300:
                        answer = json.loads(data)
                        storm.answered_at[f"onwatch-{answer['incident_id']}"] = answered
                        storm.severities[str(answer.get("severity"))] += 1
                        storm.opened += bool(answer.get("opened"))
                        storm.webhook_ms.append((answered - sent) * 1000)
                        break
                    storm.samples.setdefault(
                        str(response.status), data[:300].decode(errors="replace")
                    )
                    storm.retries += 1
                time.sleep(0.2 * (attempt + 1))
            else:
                with lock:
                    storm.failed_groups += 1
    finally:
        conn.close()


def _posters(
    port: int,
    jobs: queue.SimpleQueue[bytes | None],
    storm: Storm,
    concurrency: int,
    timeout_s: float,
) -> list[threading.Thread]:
    """`concurrency` poster threads (`_post_each`) sharing `jobs` and `storm`, not started."""
    lock = threading.Lock()
    return [
        threading.Thread(target=_post_each, args=(port, jobs, storm, lock, timeout_s), daemon=True)
        for _ in range(concurrency)
    ]


def post_storm(port: int, bodies: Sequence[bytes], concurrency: int, timeout_s: float) -> Storm:
    """Post every body once (retrying a 503 / a dropped connection a few times)."""
    storm = Storm()
    jobs: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    for body in bodies:
        jobs.put(body)
    for _ in range(concurrency):
        jobs.put(None)
    pool = _posters(port, jobs, storm, concurrency, timeout_s)
    storm.started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout_s * 6 + 60)
    storm.finished = time.monotonic()
    return storm


def post_paced(
    port: int, bodies: Sequence[bytes], rate: float, concurrency: int, timeout_s: float
) -> Storm:
    """Offer the bodies at `rate` per second whatever the answers (open loop), each once
    (retrying a 503 / a dropped connection a few times, as Alertmanager would)."""
    storm = Storm()
    jobs: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    pool = _posters(port, jobs, storm, concurrency, timeout_s)
    for thread in pool:
        thread.start()
    storm.started = time.monotonic()
    for index, body in enumerate(bodies):
        delay = storm.started + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        jobs.put(body)
    for _ in pool:
        jobs.put(None)
    for thread in pool:
        thread.join(timeout_s * 6 + 60)
    storm.finished = time.monotonic()
    return storm


# --------------------------------------------------------------------------------------
# What the fake PagerDuty saw


def triggers(fake: FakePagerDuty) -> list[tuple[float, str, int, int]]:
    """(arrived at, dedup key, status answered, escalation level) of every trigger event."""
    found = []
    for req in fake.requests:
        body = req.body
        if req.path != "/v2/enqueue" or not isinstance(body, dict):
            continue
        if body.get("event_action") != "trigger":
            continue
        details = (body.get("payload") or {}).get("custom_details") or {}
        level = int(details.get("escalation_level", -1))
        found.append((req.at, str(body.get("dedup_key")), req.status, level))
    return found


def paged_keys(fake: FakePagerDuty, keys: set[str]) -> set[str]:
    """The keys of `keys` that have had a trigger accepted (202)."""
    return {key for _, key, status, _ in triggers(fake) if status == 202 and key in keys}


def wait_for_pages(fake: FakePagerDuty, keys: set[str], deadline: float) -> float | None:
    """Poll until every key has been paged or the deadline; when the last one arrived."""
    while time.monotonic() < deadline:
        if len(paged_keys(fake, keys)) == len(keys):
            return time.monotonic()
        time.sleep(0.1)
    return None


@dataclass
class PhaseResult:
    """The figures of one storm."""

    name: str
    groups: int
    ingest_rate: float = 0.0
    ingest_wall_s: float = 0.0
    webhook_p50_ms: float | None = None
    webhook_p99_ms: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    severities: dict[str, int] = field(default_factory=dict)
    incidents_opened: int = 0
    webhook_retries: int = 0
    webhook_failed_groups: int = 0
    paged: int = 0
    lost: int = 0
    latency_p50_s: float | None = None
    latency_p99_s: float | None = None
    latency_max_s: float | None = None
    trigger_attempts: int = 0  # every trigger request the fake saw for these keys
    trigger_attempts_by_status: dict[str, int] = field(default_factory=dict)
    accepted_triggers: int = 0  # answered 202
    duplicate_sends: int = 0  # keys with more than one accepted trigger
    duplicate_incidents: int = 0  # keys with more than one incident at the fake
    levels: dict[str, int] = field(default_factory=dict)
    first_page_after_recovery_s: float | None = None
    all_paged_after_recovery_s: float | None = None
    all_paged_after_storm_start_s: float | None = None
    failure: str = ""
    samples: dict[str, str] = field(default_factory=dict)


def analyse(
    name: str,
    storm: Storm,
    fake: FakePagerDuty,
    groups: int,
    recovered_at: float | None = None,
) -> PhaseResult:
    """Match the storm's groups to the fake's triggers by dedup key."""
    keys = set(storm.answered_at)
    first_ok: dict[str, float] = {}
    accepted: Counter[str] = Counter()
    attempts_by_status: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    attempts = 0
    for at, key, status, level in sorted(triggers(fake)):
        if key not in keys:
            continue
        attempts += 1
        attempts_by_status[str(status)] += 1
        if status == 202:
            accepted[key] += 1
            levels[str(level)] += 1
            first_ok.setdefault(key, at)
    latencies = sorted(first_ok[key] - storm.answered_at[key] for key in first_ok)
    lost = groups - len(first_ok)  # groups never answered count as lost too
    result = PhaseResult(
        name=name,
        groups=groups,
        ingest_rate=storm.rate,
        ingest_wall_s=storm.finished - storm.started,
        statuses=dict(storm.statuses),
        severities=dict(storm.severities),
        incidents_opened=storm.opened,
        webhook_retries=storm.retries + storm.socket_errors,
        webhook_failed_groups=storm.failed_groups,
        paged=len(first_ok),
        lost=lost,
        trigger_attempts=attempts,
        trigger_attempts_by_status=dict(attempts_by_status),
        accepted_triggers=sum(accepted.values()),
        duplicate_sends=sum(1 for n in accepted.values() if n > 1),
        duplicate_incidents=sum(1 for key in keys if len(fake.incidents_for(key)) > 1),
        levels=dict(levels),
        samples=storm.samples,
    )
    webhook = sorted(storm.webhook_ms)
    if webhook:
        result.webhook_p50_ms = _percentile(webhook, 0.50)
        result.webhook_p99_ms = _percentile(webhook, 0.99)
    if latencies:
        result.latency_p50_s = _percentile(latencies, 0.50)
        result.latency_p99_s = _percentile(latencies, 0.99)
        result.latency_max_s = latencies[-1]
    if lost and latencies:
        # A lost page is an infinite latency: the percentiles must not hide it.
        padded = latencies + [math.inf] * lost
        result.latency_p99_s = _percentile(padded, 0.99)
        result.latency_max_s = math.inf
    if first_ok:
        result.all_paged_after_storm_start_s = (
            max(first_ok.values()) - storm.started if not lost else None
        )
    if recovered_at is not None and first_ok:
        after = [at for at in first_ok.values() if at >= recovered_at]
        if after:
            result.first_page_after_recovery_s = min(after) - recovered_at
        if not lost:
            result.all_paged_after_recovery_s = max(first_ok.values()) - recovered_at
    return result


# --------------------------------------------------------------------------------------
# Failure schedule of phase 2


class FailureSchedule:
    """Makes the fake fail for `seconds` (500, then 429 + Retry-After, then down), then heal."""

    RETRY_AFTER_S = 5

    def __init__(self, fake: FakePagerDuty, seconds: float) -> None:
        self.fake, self.seconds = fake, seconds
        self.stop_event = threading.Event()
        self.recovered_at: float | None = None
        self.started_at: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.log: list[tuple[float, str]] = []

    def describe(self) -> str:
        third = self.seconds / 3
        return (
            f"{third:.0f} s of 500, {third:.0f} s of 429 (Retry-After: {self.RETRY_AFTER_S}), "
            f"{third:.0f} s refused (down), then healthy"
        )

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.fake.fail_next(10**9, 500)
        self.log.append((0.0, "500"))
        self.thread.start()

    def _run(self) -> None:
        third = self.seconds / 3
        try:
            if self.stop_event.wait(third):
                return
            self.fake.fail_next(10**9, 429, self.RETRY_AFTER_S)
            self.log.append((time.monotonic() - (self.started_at or 0), "429"))
            if self.stop_event.wait(third):
                return
            self.fake.set_down(True)
            self.fake.fail_next(0, 500)
            self.log.append((time.monotonic() - (self.started_at or 0), "down"))
            self.stop_event.wait(third)
        finally:
            self.heal()

    def heal(self) -> None:
        """Listen again and answer normally (idempotent)."""
        self.fake.fail_next(0, 500)
        if self.fake.is_down:
            self.fake.set_down(False)
        if self.recovered_at is None:
            self.recovered_at = time.monotonic()
            self.log.append((self.recovered_at - (self.started_at or 0), "healthy"))

    def finish(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)
        self.heal()


# --------------------------------------------------------------------------------------
# Baseline


@dataclass
class Baseline:
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    client: str


def baseline(fake: FakePagerDuty, events: int) -> Baseline:
    """Sequential triggers straight to the fake with pdpyras: the floor of one delivery."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pdpyras

    session = pdpyras.EventsAPISession(ROUTING_KEY)
    session.url = fake.url
    session.timeout = 10
    times = []
    try:
        for index in range(events):
            started = time.perf_counter()
            session.trigger(
                summary=f"baseline {index}",
                source=SERVICE,
                dedup_key=f"baseline-{index}",
                severity="critical",
                custom_details={"escalation_level": 0},
            )
            times.append((time.perf_counter() - started) * 1000)
    finally:
        session.close()
    times.sort()
    return Baseline(
        events=events,
        p50_ms=_percentile(times, 0.5),
        p99_ms=_percentile(times, 0.99),
        max_ms=times[-1],
        client=f"pdpyras {pdpyras.__version__} EventsAPISession, sequential",
    )


# --------------------------------------------------------------------------------------
# Database


def database_counts(db_path: Path) -> dict[str, Any]:
    """The outbox and page ledger after the run (read only)."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        outbox = {
            f"{action} level {level} {status}": n
            for action, level, status, n in connection.execute(
                "SELECT action, level, status, count(*) FROM outbox_message "
                "GROUP BY action, level, status ORDER BY action, level, status"
            )
        }
        attempts = dict(
            connection.execute(
                "SELECT attempts, count(*) FROM outbox_message WHERE status = 'sent' "
                "GROUP BY attempts ORDER BY attempts"
            ).fetchall()
        )
        return {
            "incidents": connection.execute("SELECT count(*) FROM incident").fetchone()[0],
            "pages in ledger": connection.execute("SELECT count(*) FROM page").fetchone()[0],
            "incidents with >1 level-0 page": connection.execute(
                "SELECT count(*) FROM (SELECT p.incident_id FROM page p JOIN outbox_message m "
                "ON m.id = p.message_id WHERE m.level = 0 GROUP BY p.incident_id "
                "HAVING count(*) > 1)"
            ).fetchone()[0],
            "outbox": outbox,
            "attempts of sent messages": {str(k): v for k, v in attempts.items()},
        }
    finally:
        connection.close()


def scan_log_extra(path: Path) -> dict[str, int]:
    """Known trouble signs in the server (and scheduler) log."""
    found = scan_log(path)
    text = path.read_text(errors="replace") if path.exists() else ""
    for name, needle in LOG_PATTERNS_EXTRA.items():
        count = text.count(needle)
        if count:
            found[name] = count
    return found


def first_log_lines(path: Path, pattern: str, limit: int = 3) -> list[str]:
    """A few log lines matching `pattern`, for the report."""
    if not path.exists():
        return []
    regex = re.compile(pattern)
    lines = [line for line in path.read_text(errors="replace").splitlines() if regex.search(line)]
    return [line[:240] for line in lines[:limit]]


# --------------------------------------------------------------------------------------
# Report


def load_average() -> float:
    """The machine's 1-minute load average (0.0 where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def fmt_s(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value * 1000:.0f} ms" if unit == "ms" else f"{value:.2f} s"


def report(
    healthy: PhaseResult,
    failing: PhaseResult,
    floor: Baseline,
    options: Options,
    extra: dict[str, Any],
    sustained: PhaseResult | None = None,
) -> dict[str, Any]:
    """Print the table; return the figures for the JSON file."""
    targets: dict[str, bool | None] = {
        "healthy_p99": healthy.latency_p99_s is not None
        and healthy.latency_p99_s < TARGET_P99_S
        and healthy.lost == 0,
        "failing_zero_lost": failing.lost == 0,
        "failing_zero_duplicate_incidents": failing.duplicate_incidents == 0,
        "sustained_p99": None
        if sustained is None
        else sustained.latency_p99_s is not None
        and sustained.latency_p99_s < TARGET_SUSTAINED_P99_S
        and sustained.lost == 0,
    }
    title = (
        f"onwatch paging benchmark: {options.groups} alert groups per storm -> outbox -> "
        f"pagerduty-events -> fake PagerDuty (gunicorn {options.workers}x{options.threads}, "
        f"SQLite, poll {POLL_SECONDS:g} s) on {os.cpu_count()} cores"
    )

    def lat(phase: PhaseResult) -> str:
        return (
            f"{fmt_s(phase.latency_p50_s, 'ms')} / {fmt_s(phase.latency_p99_s, 'ms')} / "
            f"{fmt_s(phase.latency_max_s, 'ms')}"
        )

    rows = [
        ("figure", "healthy", f"failing {options.failure_s:g} s", "target", ""),
        (
            "storm ingest (groups/s)",
            f"{healthy.ingest_rate:.0f}",
            f"{failing.ingest_rate:.0f}",
            "(report only)",
            "",
        ),
        (
            "webhook p50 / p99",
            f"{healthy.webhook_p50_ms or 0:.0f} / {healthy.webhook_p99_ms or 0:.0f} ms",
            f"{failing.webhook_p50_ms or 0:.0f} / {failing.webhook_p99_ms or 0:.0f} ms",
            "",
            "",
        ),
        (
            "answer -> page p50 / p99 / max",
            lat(healthy),
            lat(failing),
            f"healthy p99 < {TARGET_P99_S:g} s",
            verdict(targets["healthy_p99"]),
        ),
        (
            "pages received / groups",
            f"{healthy.paged} / {healthy.groups}",
            f"{failing.paged} / {failing.groups}",
            "",
            "",
        ),
        (
            "lost pages",
            str(healthy.lost),
            str(failing.lost),
            "failing: 0",
            verdict(targets["failing_zero_lost"]),
        ),
        (
            "duplicate incidents (by dedup key)",
            str(healthy.duplicate_incidents),
            str(failing.duplicate_incidents),
            "failing: 0",
            verdict(targets["failing_zero_duplicate_incidents"]),
        ),
        (
            "keys triggered (202) more than once",
            str(healthy.duplicate_sends),
            str(failing.duplicate_sends),
            "(report only)",
            "",
        ),
        (
            "all paged, after recovery",
            "",
            fmt_s(failing.all_paged_after_recovery_s),
            "(report only)",
            "",
        ),
        (
            "all paged, after storm start",
            fmt_s(healthy.all_paged_after_storm_start_s),
            fmt_s(failing.all_paged_after_storm_start_s),
            "(report only)",
            "",
        ),
        (
            "baseline: pdpyras -> fake p50/p99/max",
            f"{floor.p50_ms:.1f} / {floor.p99_ms:.1f} / {floor.max_ms:.1f} ms",
            "",
            "(floor)",
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print()
    print(title)
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4])
    if sustained is not None:
        print()
        print(
            f"sustained storm: {sustained.groups} new groups offered at "
            f"{options.sustained_rate:g}/s (open loop, {options.concurrency * 4} posting "
            "threads), PagerDuty healthy"
        )
        print(
            f"  answered {sustained.ingest_rate:.1f} groups/s; webhook p50 / p99 "
            f"{sustained.webhook_p50_ms or 0:.0f} / {sustained.webhook_p99_ms or 0:.0f} ms; "
            f"answer -> page p50 / p99 / max {lat(sustained)} "
            f"(target p99 < {TARGET_SUSTAINED_P99_S:g} s: {verdict(targets['sustained_p99'])}); "
            f"paged {sustained.paged} / {sustained.groups}, lost {sustained.lost}, duplicate "
            f"incidents {sustained.duplicate_incidents}; all paged "
            f"{fmt_s(sustained.all_paged_after_storm_start_s)} after the storm began"
        )
    print()
    print("details:")
    print(
        f"  on call (primary) at start: {extra['on_call']}; failure schedule: "
        f"{extra['failure_schedule']}"
    )
    print(f"  failure timeline (s from start): {extra['failure_log']}")
    # The storm, onwatch and the fake share the cores with whatever else runs: a load well
    # above the bench's own (about 2 on 2 cores) slows every figure.
    loads = ", ".join(f"{when} {load:.2f}" for when, load in extra["load_average"].items())
    print(f"  machine load (1-minute average): {loads}")
    print(f"  baseline: {floor.events} events, {floor.client}")
    for phase in (healthy, failing):
        print(
            f"  {phase.name:8} storm {phase.groups} groups in {phase.ingest_wall_s:.2f} s "
            f"({options.concurrency} threads): statuses {phase.statuses}, severities "
            f"{phase.severities}, opened {phase.incidents_opened}, webhook retries "
            f"{phase.webhook_retries}, groups never accepted {phase.webhook_failed_groups}"
        )
        print(
            f"  {phase.name:8} trigger requests at the fake for these keys: "
            f"{phase.trigger_attempts} {phase.trigger_attempts_by_status}; "
            f"accepted {phase.accepted_triggers}; accepted by escalation level {phase.levels}"
        )
        if phase.first_page_after_recovery_s is not None:
            print(
                f"  {phase.name:8} first page {phase.first_page_after_recovery_s:.2f} s after "
                f"recovery, last {fmt_s(phase.all_paged_after_recovery_s)} after recovery"
            )
        for code, text in phase.samples.items():
            print(f"  {phase.name:8} first {code} webhook answer: {text}")
    print(f"  onwatch database after the run: {extra['database']}")
    if extra["log_findings"]:
        print(f"  server log: {extra['log_findings']}")
    for line in extra["log_samples"]:
        print(f"    | {line}")
    figures = {
        "title": title,
        "timestamp": datetime.now(UTC).isoformat(),
        "options": asdict(options),
        "cpu_count": os.cpu_count(),
        "poll_seconds": POLL_SECONDS,
        "targets": {key: verdict(ok) for key, ok in targets.items()},
        "baseline": asdict(floor),
        "phases": {
            "healthy": asdict(healthy),
            "failing": asdict(failing),
            **({"sustained": asdict(sustained)} if sustained is not None else {}),
        },
        **extra,
    }
    return _json_safe(figures)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


# --------------------------------------------------------------------------------------
# Main


@dataclass
class Options:
    groups: int
    failure_s: float
    concurrency: int
    workers: int
    threads: int
    healthy_wait_s: float
    keep: bool
    sustained_groups: int = 0  # 0: no sustained storm
    sustained_rate: float = SUSTAINED_RATE


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="bench/paging",
        description="Time from onwatch's webhook answer to the page at a fake PagerDuty, "
        "healthy and while PagerDuty fails.",
    )
    parser.add_argument("--quick", action="store_true", help="200 groups, 10 s failure")
    parser.add_argument("--groups", type=int, default=None, help="groups per storm (1000)")
    parser.add_argument(
        "--failure-seconds", type=float, default=None, help="PagerDuty failure in phase 2 (30)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="posting threads (8)")
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"gunicorn workers (default: onwatch serve's, {DEFAULT_WORKERS} here)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"threads per worker (default: onwatch serve's, {DEFAULT_THREADS})",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (db, logs)"
    )
    parser.add_argument(
        "--sustained-groups",
        type=int,
        default=None,
        help=f"groups of the sustained storm ({SUSTAINED_GROUPS}; --quick 2000; 0: skip it)",
    )
    parser.add_argument(
        "--sustained-rate",
        type=float,
        default=SUSTAINED_RATE,
        help=f"groups per second offered in the sustained storm ({SUSTAINED_RATE:g})",
    )
    args = parser.parse_args(argv)
    groups = args.groups or (200 if args.quick else 1000)
    failure = (
        args.failure_seconds if args.failure_seconds is not None else (10.0 if args.quick else 30.0)
    )
    sustained = args.sustained_groups
    if sustained is None:
        sustained = 2000 if args.quick else SUSTAINED_GROUPS
    if groups < 1 or failure < 0 or sustained < 0 or args.sustained_rate <= 0:
        parser.error(
            "--groups must be >= 1, --failure-seconds and --sustained-groups >= 0, "
            "--sustained-rate > 0"
        )
    return Options(
        groups=groups,
        failure_s=failure,
        concurrency=max(1, args.concurrency),
        workers=args.workers,
        threads=args.threads,
        healthy_wait_s=60.0,
        keep=args.keep,
        sustained_groups=sustained,
        sustained_rate=args.sustained_rate,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    fixtures = find_fixtures()
    fixture = json.loads((fixtures / "raw" / "firing_single.json").read_bytes())
    work_dir = Path(tempfile.mkdtemp(prefix="onwatch-bench-paging-"))
    db_path = work_dir / "bench.db"
    fake = FakePagerDuty()
    server: Server | None = None
    schedule: FailureSchedule | None = None
    try:
        fake.start()
        loads = {"start": load_average()}
        config = write_config(work_dir, fake.url, db_path, datetime.now(UTC))
        on_call = check_on_call(config)
        print(f"fixtures: {fixtures}; fake PagerDuty: {fake.url}; work dir: {work_dir}", flush=True)

        print(f"baseline: {BASELINE_EVENTS} triggers straight to the fake with pdpyras", flush=True)
        floor = baseline(fake, BASELINE_EVENTS)

        port = free_port()
        server = Server(
            "onwatch",
            onwatch_argv(config, port, options.workers, options.threads),
            port,
            work_dir / "onwatch.log",
        )
        print(f"starting onwatch serve on 127.0.0.1:{port} (with its scheduler)", flush=True)
        server.start()

        # Warm-up: a few groups, paged end to end, so the scheduler holds its lease and the
        # pager is loaded before anything is timed.
        warm = post_storm(port, storm_bodies(fixture, PHASE_WARMUP, 5), 1, 30)
        if len(warm.answered_at) != 5:
            raise RuntimeError(f"warm-up webhook failed: {warm.statuses} {warm.samples}")
        if wait_for_pages(fake, set(warm.answered_at), time.monotonic() + 45) is None:
            raise RuntimeError(
                "warm-up pages never reached the fake PagerDuty:\n" + server.log_tail()
            )
        print("  warm-up paged end to end", flush=True)

        # Phase 1: healthy.
        bodies = storm_bodies(fixture, PHASE_HEALTHY, options.groups)
        print(
            f"phase 1: storm of {options.groups} groups, PagerDuty healthy "
            f"({options.concurrency} posting threads)",
            flush=True,
        )
        storm1 = post_storm(port, bodies, options.concurrency, 30)
        print(
            f"  posted in {storm1.finished - storm1.started:.2f} s ({storm1.rate:.0f} groups/s);"
            f" waiting for the pages (at most {options.healthy_wait_s:.0f} s)",
            flush=True,
        )
        wait_for_pages(fake, set(storm1.answered_at), storm1.finished + options.healthy_wait_s)
        time.sleep(2.0)  # late duplicates would show up here
        healthy = analyse("healthy", storm1, fake, options.groups)
        loads["after healthy storm"] = load_average()

        sustained: PhaseResult | None = None
        if options.sustained_groups:
            bodies = storm_bodies(fixture, PHASE_SUSTAINED, options.sustained_groups)
            print(
                f"sustained storm: {options.sustained_groups} groups offered at "
                f"{options.sustained_rate:g}/s, PagerDuty healthy",
                flush=True,
            )
            storm3 = post_paced(port, bodies, options.sustained_rate, options.concurrency * 4, 30)
            print(
                f"  posted in {storm3.finished - storm3.started:.2f} s ({storm3.rate:.1f} "
                f"groups/s); waiting for the pages (at most {options.healthy_wait_s:.0f} s)",
                flush=True,
            )
            wait_for_pages(fake, set(storm3.answered_at), storm3.finished + options.healthy_wait_s)
            time.sleep(2.0)
            sustained = analyse("sustained", storm3, fake, options.sustained_groups)
            loads["after sustained storm"] = load_average()

        # Phase 2: failing, then recovering.
        bodies = storm_bodies(fixture, PHASE_FAILING, options.groups)
        schedule = FailureSchedule(fake, options.failure_s)
        print(
            f"phase 2: storm of {options.groups} new groups while PagerDuty fails: "
            f"{schedule.describe()}",
            flush=True,
        )
        schedule.start()
        storm2 = post_storm(port, bodies, options.concurrency, 30)
        print(
            f"  posted in {storm2.finished - storm2.started:.2f} s ({storm2.rate:.0f} groups/s)",
            flush=True,
        )
        schedule.thread.join(timeout=options.failure_s + 30)
        schedule.finish()
        recovered_at = schedule.recovered_at or time.monotonic()
        # Back-off doubles from 2 s up to 5 min: a message failing from the start is retried
        # at most about `failure` seconds after the recovery; allow that and then some.
        bound = max(90.0, 2 * options.failure_s + 60)
        print(
            f"  PagerDuty healthy again; waiting for the pages (at most {bound:.0f} s)", flush=True
        )
        wait_for_pages(fake, set(storm2.answered_at), recovered_at + bound)
        time.sleep(2.0)
        failing = analyse("failing", storm2, fake, options.groups, recovered_at=recovered_at)

        server.stop()
        log_path = work_dir / "onwatch.log"
        loads["end"] = load_average()
        extra = {
            "load_average": loads,
            "on_call": on_call,
            "failure_schedule": schedule.describe(),
            "failure_log": [(round(at, 1), what) for at, what in schedule.log],
            "database": database_counts(db_path),
            "log_findings": scan_log_extra(log_path),
            "log_samples": first_log_lines(
                log_path, r"Traceback|ERROR|WARNING|maximum number of running|missed by"
            ),
        }
        figures = report(healthy, failing, floor, options, extra, sustained)
        RESULTS_DIR.mkdir(exist_ok=True)
        out = RESULTS_DIR / f"paging-{datetime.now():%Y%m%d-%H%M%S}.json"
        out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {out.relative_to(REPO_ROOT)}")
        return 0
    except (RuntimeError, OSError, sqlite3.Error) as exc:
        print(f"bench/paging: broke: {exc}", file=sys.stderr)
        return 1
    finally:
        if schedule is not None:
            with contextlib.suppress(Exception):
                schedule.finish()
        if server is not None:
            server.stop()
        fake.stop()
        if options.keep:
            print(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
