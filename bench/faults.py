#!/usr/bin/env python3
"""Fault figures for onwatch's paging path: what a crash or a PagerDuty outage costs.

Why it exists: a fault run against `onwatch serve` found that a killed scheduler stopped all
paging silently and that the standby takeover took longer than the README said. The tests
check that each fault is survived (with generous waits); this script measures how long it
takes and counts what is lost or duplicated, on a real `onwatch serve` (gunicorn, SQLite by
default, `--database postgresql+psycopg://...` for a fresh database per scenario on that
server) paging through `pagerduty-events` into the fake PagerDuty of the tests, which runs in
this process on 127.0.0.1. It reuses bench/paging.py's configuration (one rotation, 30 min
ack timeouts so that only the first page of each incident is due), bodies (first-firing
notifications of distinct groups), storm poster and analysis.

Scenarios (`--scenarios a,b,c,d`):
  a. the scheduler child of `onwatch serve` is SIGKILLed; a SEV1 is posted right after the
     kill: seconds until its page reaches PagerDuty (serve restarts the scheduler, which takes
     the dead one's lease at once). Several trials.
  b. the lease holder is SIGKILLed while a standby waits (`serve --no-scheduler` and two
     `onwatch scheduler` processes on one database): seconds until the standby holds the
     lease (the README promises 15 s), and until a SEV1 posted right after the kill is
     paged. The kill lands at a random moment of the renewal cycle; 5 trials by default.
  c. kill -9 of everything (master, workers, scheduler) while N groups are being posted;
     restart, re-post what never got a 200 (as Alertmanager retries), and count against the
     groups that got a 200: alerts and incidents lost or duplicated, pages lost, pages sent
     twice (at least once is the design: PagerDuty dedups) and duplicate PagerDuty incidents.
  d. PagerDuty answers 500 for S seconds (60; `--quick` 10) while N groups arrive: pages
     lost and duplicated, and how long after PagerDuty recovers the last page arrives.

Bounded: every wait has a deadline; a full run takes about 6 minutes, `--quick` about 3. Every
process started is stopped at the end (also on failure or Ctrl-C): servers with SIGTERM, then
SIGKILL to their process group. The table goes to stdout and the figures to
`bench/results/faults-<time>.json`. Exit status: 0 when the scenarios ran (whatever the
figures), 1 when something broke.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
for _path in (str(BENCH_DIR), str(REPO_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import http.client  # noqa: E402

from ingest import (  # noqa: E402  (bench/ingest.py: processes and webhook constants)
    HEADERS,
    WEBHOOK_PATH,
    Server,
    children_of,
    find_fixtures,
    free_port,
    migrate,
    onwatch_argv,
)
from paging import (  # noqa: E402  (bench/paging.py: config, bodies, storm, analysis)
    _json_safe,
    analyse,
    fmt_s,
    load_average,
    post_storm,
    storm_bodies,
    triggers,
    wait_for_pages,
)
from paging import write_config as paging_config  # noqa: E402
from sqlalchemy import text  # noqa: E402

from receiver.cli import DEFAULT_WORKERS  # noqa: E402
from receiver.config.settings import DatabaseSettings  # noqa: E402
from receiver.jobs.lease import LEASE_RENEW_EVERY, TAKEOVER_WITHIN  # noqa: E402
from receiver.jobs.models import SchedulerLease  # noqa: E402
from receiver.store.database import Store, StoreUnavailable  # noqa: E402
from tests.support.fake_pagerduty import FakePagerDuty  # noqa: E402

# Alert-name phases (bench/paging's storm_bodies puts them in the group names): one range per
# scenario so that no two share a group.
PHASE_WARMUP, PHASE_A, PHASE_B, PHASE_C, PHASE_D = 900, 1000, 2000, 3000, 4000
PAGE_WAIT_S = 60.0  # after a kill, a page later than this counts as never
START_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------------------------
# Processes: every one started is stopped


class Processes:
    """The servers and schedulers this run started; `stop_all` stops every one."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.servers: list[Server] = []
        self.schedulers: list[subprocess.Popen[bytes]] = []
        self._logs = 0

    def _log(self, name: str) -> Path:
        self._logs += 1
        return self.work_dir / f"{self._logs:02d}-{name}.log"

    def serve(self, config: Path, *extra: str, workers: int = 2, threads: int = 1) -> Server:
        """`onwatch serve` on a free loopback port, started and ready (`/readyz` 200)."""
        port = free_port()
        argv = [*onwatch_argv(config, port, workers, threads), *extra]
        server = Server("onwatch", argv, port, self._log("serve"))
        self.servers.append(server)
        server.start(timeout_s=START_TIMEOUT_S)
        return server

    def scheduler(self, config: Path) -> subprocess.Popen[bytes]:
        """A standalone `onwatch scheduler` in its own process group."""
        serve = onwatch_argv(config, 0, 1, 1)  # the same `onwatch` the servers run
        argv = [*serve[: serve.index("serve")], "scheduler", "--config", str(config)]
        with self._log("scheduler").open("wb") as log:
            process = subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.schedulers.append(process)
        return process

    def stop_all(self) -> None:
        """SIGTERM every server and scheduler, then SIGKILL whatever is left of each group."""
        for server in self.servers:
            with contextlib.suppress(Exception):
                server.stop()
        for process in self.schedulers:
            if process.poll() is None:
                process.terminate()
        for process in self.schedulers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        groups = [s.process.pid for s in self.servers if s.process is not None]
        groups += [p.pid for p in self.schedulers]
        for pid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        for process in self.schedulers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def scheduler_child(server: Server) -> int | None:
    """The pid of the scheduler process `onwatch serve` runs beside its workers, if any."""
    for pid in children_of(server.pid):
        if "scheduler" in _cmdline(pid):
            return pid
    return None


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll every 50 ms until `condition()` is truthy; RuntimeError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")


# --------------------------------------------------------------------------------------------
# One scenario's world: a database, a fake PagerDuty, a configuration


@dataclass
class World:
    """What a scenario runs against."""

    name: str
    work_dir: Path
    database_url: str
    fake: FakePagerDuty
    config: Path
    store: Store
    fixture: dict[str, Any]

    def lease_holder(self) -> str | None:
        """Who holds the scheduler lease now (None if nobody, or the database is busy)."""
        try:
            with self.store.read() as session:
                row = session.get(SchedulerLease, "scheduler")
        except StoreUnavailable:
            return None
        return row.holder if row is not None else None

    def sev1(self, phase: int) -> bytes:
        """One first-firing notification of a new group, graded SEV1 (revenue impact)."""
        body = json.loads(storm_bodies(self.fixture, phase, 1)[0])
        for labels in (body["alerts"][0]["labels"], body["commonLabels"]):
            labels["impact_revenue"] = "true"
        return json.dumps(body).encode() + b"\n"


@contextlib.contextmanager
def world(name: str, options: Options, root: Path, fixture: dict[str, Any]) -> Iterator[World]:
    """A fresh database (SQLite file or PostgreSQL database), a fake PagerDuty and a config
    paging it; all gone again at the end."""
    work_dir = root / name
    work_dir.mkdir()
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(FakePagerDuty())
        if options.database:
            from tests.support.servers import fresh_postgres_database

            url = stack.enter_context(fresh_postgres_database(options.database, "onwatch_faults"))
        else:
            url = f"sqlite:///{work_dir / 'onwatch.db'}"
        config = paging_config(work_dir, fake.url, work_dir / "unused.db", datetime.now(UTC))
        document = json.loads(config.read_text(encoding="utf-8"))
        document["database"] = {"url": url}
        config.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        migrate(config)
        store = Store(DatabaseSettings(url=url))
        stack.callback(store.dispose)
        yield World(name, work_dir, url, fake, config, store, fixture)


def warm_up(world: World, port: int) -> None:
    """A few groups paged end to end before anything is timed."""
    storm = post_storm(port, storm_bodies(world.fixture, PHASE_WARMUP, 3), 1, 30)
    if len(storm.answered_at) != 3:
        raise RuntimeError(f"warm-up webhook failed: {storm.statuses} {storm.samples}")
    if wait_for_pages(world.fake, set(storm.answered_at), time.monotonic() + 45) is None:
        raise RuntimeError("warm-up pages never reached the fake PagerDuty")


def post_one(port: int, body: bytes) -> str:
    """POST one notification (retrying a dropped connection or a 503); its dedup key."""
    storm = post_storm(port, [body], 1, 15)
    if not storm.answered_at:
        raise RuntimeError(f"the webhook did not take the SEV1: {storm.statuses} {storm.samples}")
    return next(iter(storm.answered_at))


def accepted_at(fake: FakePagerDuty, key: str) -> float | None:
    """When the fake first accepted (202) a trigger for `key` (its own monotonic stamp)."""
    times = [at for at, k, status, _ in triggers(fake) if k == key and status == 202]
    return min(times) if times else None


# --------------------------------------------------------------------------------------------
# a. The scheduler child is killed


@dataclass
class KillTrial:
    page_s: float | None  # kill -> the SEV1's page accepted by PagerDuty
    restarted_s: float | None  # kill -> a new scheduler process exists
    lease_s: float | None  # kill -> the new scheduler holds the lease


def scenario_a(options: Options, root: Path, procs: Processes, fixture: dict[str, Any]) -> Any:
    """The scheduler child of `onwatch serve` is SIGKILLed, a SEV1 posted right after."""
    with world("a-scheduler-killed", options, root, fixture) as w:
        server = procs.serve(w.config, workers=options.workers)
        warm_up(w, server.port)
        trials = []
        for trial in range(options.kill_trials):
            pid = wait_until(lambda: scheduler_child(server), 30, "the scheduler process")
            holder = wait_until(w.lease_holder, 30, "the scheduler to hold the lease")
            time.sleep(random.uniform(0, LEASE_RENEW_EVERY))  # anywhere in the renewal cycle
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            key = post_one(server.port, w.sev1(PHASE_A + trial))
            restarted = lease = page = None
            while time.monotonic() < killed_at + PAGE_WAIT_S and page is None:
                now = time.monotonic()
                if restarted is None and scheduler_child(server) not in (None, pid):
                    restarted = now - killed_at
                if lease is None and w.lease_holder() not in (None, holder):
                    lease = now - killed_at
                arrived = accepted_at(w.fake, key)
                if arrived is not None:
                    page = arrived - killed_at
                time.sleep(0.05)
            trials.append(KillTrial(page, restarted, lease))
            print(
                f"  a. trial {trial + 1}: scheduler back {fmt_s(restarted)}, lease "
                f"{fmt_s(lease)}, SEV1 paged {fmt_s(page)} after the kill",
                flush=True,
            )
        return trials


# --------------------------------------------------------------------------------------------
# b. The lease holder is killed while a standby waits


@dataclass
class TakeoverTrial:
    takeover_s: float | None  # kill -> another scheduler holds the lease
    page_s: float | None  # kill -> the SEV1 posted right after it is paged
    delay_in_cycle_s: float  # how far into the renewal cycle the kill landed (random)


def _holder_pid(holder: str | None) -> int | None:
    # A standalone scheduler's holder is "<host>:<pid>:<random>".
    try:
        return int((holder or "").split(":")[1])
    except (IndexError, ValueError):
        return None


def scenario_b(options: Options, root: Path, procs: Processes, fixture: dict[str, Any]) -> Any:
    """Two standalone schedulers on one database; the holder is SIGKILLed, the standby takes
    over; the killed one is replaced by a new standby for the next trial."""
    with world("b-takeover", options, root, fixture) as w:
        live = {}
        first = procs.scheduler(w.config)
        live[first.pid] = first
        wait_until(lambda: _holder_pid(w.lease_holder()) == first.pid, 60, "the first leader")
        second = procs.scheduler(w.config)
        live[second.pid] = second
        time.sleep(3)  # the standby is up and polling
        server = procs.serve(w.config, "--no-scheduler", workers=options.workers)
        warm_up(w, server.port)
        trials = []
        for trial in range(options.takeover_trials):
            holder = wait_until(w.lease_holder, 30, "a lease holder")
            pid = _holder_pid(holder)
            if pid not in live:
                raise RuntimeError(f"the lease holder {holder} is not a scheduler of this run")
            delay = random.uniform(0, LEASE_RENEW_EVERY)
            time.sleep(delay)
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            live.pop(pid).wait(timeout=10)
            key = post_one(server.port, w.sev1(PHASE_B + trial))
            takeover = page = None
            while time.monotonic() < killed_at + PAGE_WAIT_S and page is None:
                now = time.monotonic()
                if takeover is None and w.lease_holder() not in (None, holder):
                    takeover = now - killed_at
                arrived = accepted_at(w.fake, key)
                if arrived is not None:
                    page = arrived - killed_at
                time.sleep(0.05)
            trials.append(TakeoverTrial(takeover, page, delay))
            print(
                f"  b. trial {trial + 1}: standby took over {fmt_s(takeover)} after the kill, "
                f"SEV1 paged {fmt_s(page)} after it",
                flush=True,
            )
            replacement = procs.scheduler(w.config)  # two schedulers again
            live[replacement.pid] = replacement
            time.sleep(2)
        return trials


# --------------------------------------------------------------------------------------------
# c. kill -9 of everything mid-storm


@dataclass
class CrashResult:
    groups: int
    answered_before_kill: int = 0
    unanswered_at_kill: int = 0  # errors, 5xx or in flight when the kill came
    answered_after_restart: int = 0
    committed_but_unanswered: int = 0  # re-posted, and onwatch already had them (opened: false)
    never_answered: int = 0
    incidents_lost: int = 0  # got a 200, no incident for the group after the restart
    alerts_lost: int = 0  # got a 200, the alert (fingerprint) is not stored
    incidents_duplicated: int = 0  # groups with more than one incident
    pages_lost: int = 0  # incidents of the storm never paged
    pages_sent_twice: int = 0  # dedup keys PagerDuty accepted more than once (at least once)
    duplicate_pagerduty_incidents: int = 0
    restart_to_all_paged_s: float | None = None


def _post_until_killed(
    port: int, bodies: Sequence[bytes], concurrency: int, kill: Callable[[], None], kill_after: int
) -> list[int | None]:
    """Post every body once (no retry) from `concurrency` threads; `kill()` once
    `kill_after` have been answered 200. Per body: the incident id of its 200, or None."""
    answers: list[int | None] = [None] * len(bodies)
    jobs: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    for index in range(len(bodies)):
        jobs.put(index)
    for _ in range(concurrency):
        jobs.put(None)
    answered = threading.Semaphore(0)

    def work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while (index := jobs.get()) is not None:
                try:
                    conn.request("POST", WEBHOOK_PATH, body=bodies[index], headers=HEADERS)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    continue
                if response.status == 200:
                    answers[index] = int(json.loads(data)["incident_id"])
                    answered.release()
        finally:
            conn.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    for _ in range(kill_after):
        if not answered.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    kill()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def scenario_c(options: Options, root: Path, procs: Processes, fixture: dict[str, Any]) -> Any:
    """N groups posted; halfway, SIGKILL to the whole `onwatch serve` process group."""
    with world("c-crash-mid-storm", options, root, fixture) as w:
        server = procs.serve(w.config, workers=options.workers)
        warm_up(w, server.port)
        bodies = storm_bodies(w.fixture, PHASE_C, options.crash_groups)
        documents = [json.loads(body) for body in bodies]
        result = CrashResult(groups=len(bodies))

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # master, workers and scheduler

        print(f"  c. posting {len(bodies)} groups; SIGKILL to every process halfway", flush=True)
        answers = _post_until_killed(server.port, bodies, 8, kill, len(bodies) // 2)
        server.stop()  # reaps the master
        acked = {i for i, answer in enumerate(answers) if answer is not None}
        result.answered_before_kill = len(acked)
        result.unanswered_at_kill = len(bodies) - len(acked)

        restarted = procs.serve(w.config, workers=options.workers)
        ready_at = time.monotonic()
        retry = [bodies[i] for i in range(len(bodies)) if i not in acked]
        storm = post_storm(restarted.port, retry, 8, 30)  # what Alertmanager's retries do
        result.answered_after_restart = len(storm.answered_at)
        result.committed_but_unanswered = len(storm.answered_at) - storm.opened
        result.never_answered = len(retry) - len(storm.answered_at)

        with w.store.read() as session:
            incidents = session.execute(text("SELECT id, group_key FROM incident")).all()
            alerts = {
                (group_key, fingerprint)
                for group_key, fingerprint in session.execute(
                    text(
                        "SELECT i.group_key, a.fingerprint FROM alert a "
                        "JOIN incident i ON i.id = a.incident_id"
                    )
                )
            }
        by_group: dict[str, list[int]] = {}
        for incident_id, group_key in incidents:
            by_group.setdefault(group_key, []).append(int(incident_id))
        storm_groups = [document["groupKey"] for document in documents]
        for index in acked:
            document = documents[index]
            if not by_group.get(document["groupKey"]):
                result.incidents_lost += 1
            if (document["groupKey"], document["alerts"][0]["fingerprint"]) not in alerts:
                result.alerts_lost += 1
        result.incidents_duplicated = sum(1 for g in storm_groups if len(by_group.get(g, [])) > 1)

        keys = {f"onwatch-{i}" for g in storm_groups for i in by_group.get(g, [])}
        print(f"  c. restarted; waiting for {len(keys)} pages", flush=True)
        done = wait_for_pages(w.fake, keys, ready_at + 120)
        time.sleep(2.0)  # a late duplicate would arrive now
        accepted = Counter(k for _, k, status, _ in triggers(w.fake) if status == 202)
        result.pages_lost = sum(1 for key in keys if accepted[key] == 0)
        result.pages_sent_twice = sum(1 for key in keys if accepted[key] > 1)
        result.duplicate_pagerduty_incidents = sum(
            1 for key in keys if len(w.fake.incidents_for(key)) > 1
        )
        result.restart_to_all_paged_s = done - ready_at if done is not None else None
        return result


# --------------------------------------------------------------------------------------------
# d. PagerDuty fails for a while


def scenario_d(options: Options, root: Path, procs: Processes, fixture: dict[str, Any]) -> Any:
    """PagerDuty answers 500 for `outage_s` while N groups arrive; then it recovers."""
    with world("d-pagerduty-down", options, root, fixture) as w:
        server = procs.serve(w.config, workers=options.workers)
        warm_up(w, server.port)
        print(
            f"  d. PagerDuty answers 500 for {options.outage_s:g} s; "
            f"{options.outage_groups} groups arrive",
            flush=True,
        )
        w.fake.fail_next(10**9, 500)
        failing_since = time.monotonic()
        storm = post_storm(
            server.port, storm_bodies(w.fixture, PHASE_D, options.outage_groups), 8, 30
        )
        time.sleep(max(0.0, failing_since + options.outage_s - time.monotonic()))
        w.fake.fail_next(0, 500)
        recovered_at = time.monotonic()
        # Back-off doubles from 2 s to 5 min: the last retry comes at most about the outage's
        # length after the recovery.
        wait_for_pages(w.fake, set(storm.answered_at), recovered_at + 2 * options.outage_s + 60)
        time.sleep(2.0)
        return analyse("pagerduty-500", storm, w.fake, options.outage_groups, recovered_at)


# --------------------------------------------------------------------------------------------
# Report


def _spread(values: Sequence[float | None]) -> str:
    got = [v for v in values if v is not None]
    missing = len(values) - len(got)
    if not got:
        return "never"
    text = f"min {min(got):.1f} / median {statistics.median(got):.1f} / max {max(got):.1f} s"
    return text + (f" ({missing} never)" if missing else "")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict[str, Any], options: Options) -> list[tuple[str, str, str, str]]:
    """The table's rows: scenario, figure, value, target and verdict."""
    promise = TAKEOVER_WITHIN.total_seconds()
    rows: list[tuple[str, str, str, str]] = []
    if "a" in results:
        trials: list[KillTrial] = results["a"]
        pages = [t.page_s for t in trials]
        ok = all(p is not None and p <= promise for p in pages)
        rows += [
            (
                "a. scheduler child SIGKILLed",
                f"kill -> scheduler restarted ({len(trials)} trials)",
                _spread([t.restarted_s for t in trials]),
                "",
            ),
            ("", "kill -> new scheduler holds lease", _spread([t.lease_s for t in trials]), ""),
            (
                "",
                "kill -> SEV1 paged",
                _spread(pages),
                f"<= {promise:g} s  {_verdict(ok)}",
            ),
        ]
    if "b" in results:
        trials_b: list[TakeoverTrial] = results["b"]
        takeovers = [t.takeover_s for t in trials_b]
        ok = all(t is not None and t <= promise for t in takeovers)
        rows += [
            (
                "b. lease holder SIGKILLed",
                f"kill -> standby holds lease ({len(trials_b)} trials)",
                _spread(takeovers),
                f"<= {promise:g} s  {_verdict(ok)}",
            ),
            ("", "kill -> SEV1 paged", _spread([t.page_s for t in trials_b]), ""),
        ]
    if "c" in results:
        c: CrashResult = results["c"]
        clean = (
            c.incidents_lost
            + c.alerts_lost
            + c.incidents_duplicated
            + c.pages_lost
            + c.duplicate_pagerduty_incidents
            == 0
        )
        rows += [
            (
                "c. kill -9 all mid-storm",
                "groups: 200 before kill / unanswered",
                f"{c.answered_before_kill} / {c.unanswered_at_kill} of {c.groups}",
                "",
            ),
            (
                "",
                "re-posted after restart: 200 / never",
                f"{c.answered_after_restart} / {c.never_answered}",
                "",
            ),
            (
                "",
                "  of which committed before the kill",
                str(c.committed_but_unanswered),
                "(in flight: no 200 sent)",
            ),
            (
                "",
                "lost: incidents / alerts / pages",
                f"{c.incidents_lost} / {c.alerts_lost} / {c.pages_lost}",
                f"0  {_verdict(clean)}",
            ),
            ("", "duplicated incidents", str(c.incidents_duplicated), "0"),
            (
                "",
                "pages sent twice / duplicate PD incidents",
                f"{c.pages_sent_twice} / {c.duplicate_pagerduty_incidents}",
                "(at least once) / 0",
            ),
            ("", "restart ready -> all paged", fmt_s(c.restart_to_all_paged_s), ""),
        ]
    if "d" in results:
        d = results["d"]
        ok = d.lost == 0 and d.duplicate_incidents == 0
        rows += [
            (
                f"d. PagerDuty 500 for {options.outage_s:g} s",
                "pages: received / groups",
                f"{d.paged} / {d.groups}",
                "",
            ),
            (
                "",
                "lost / duplicate PD incidents",
                f"{d.lost} / {d.duplicate_incidents}",
                f"0 / 0  {_verdict(ok)}",
            ),
            ("", "keys accepted twice", str(d.duplicate_sends), "(report only)"),
            ("", "trigger requests (incl. the 500s)", str(d.trigger_attempts), ""),
            (
                "",
                "recovery -> first / last page",
                f"{fmt_s(d.first_page_after_recovery_s)} / {fmt_s(d.all_paged_after_recovery_s)}",
                "",
            ),
        ]
    return rows


def print_table(rows: list[tuple[str, str, str, str]], title: str) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print()
    print(title)
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])


# --------------------------------------------------------------------------------------------
# Main


@dataclass
class Options:
    scenarios: str
    database: str | None
    workers: int
    kill_trials: int
    takeover_trials: int
    crash_groups: int
    outage_s: float
    outage_groups: int
    keep: bool
    quick: bool = False
    seed: int = field(default_factory=lambda: random.randrange(1 << 30))


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="bench/faults.py",
        description="What a crash or a PagerDuty outage costs onwatch's paging: seconds to "
        "recover, and what is lost or duplicated.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer groups and trials, a 10 s PagerDuty outage"
    )
    parser.add_argument("--scenarios", default="abcd", help="which of a, b, c, d (default all)")
    parser.add_argument(
        "--database",
        metavar="URL",
        help="postgresql+psycopg://USER@HOST/DB: a fresh database per scenario on that server "
        "(default: SQLite files)",
    )
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--trials", type=int, default=5, help="takeover trials in b (5)")
    parser.add_argument("--groups", type=int, help="groups posted in c (1000, quick 200)")
    parser.add_argument(
        "--outage-seconds", type=float, help="PagerDuty failing in d (60, quick 10)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, dbs)")
    args = parser.parse_args(argv)
    scenarios = "".join(sorted(set(args.scenarios.replace(",", ""))))
    if not scenarios or set(scenarios) - set("abcd"):
        parser.error("--scenarios takes letters among a, b, c, d")
    if args.database and not args.database.startswith("postgresql+psycopg://"):
        parser.error("--database must be a postgresql+psycopg:// URL (SQLite is the default)")
    outage = args.outage_seconds if args.outage_seconds is not None else (10 if args.quick else 60)
    groups = args.groups if args.groups is not None else (200 if args.quick else 1000)
    if outage <= 0 or groups < 2 or args.trials < 1 or args.workers < 1:
        parser.error("--outage-seconds > 0, --groups >= 2, --trials and --workers >= 1")
    return Options(
        scenarios=scenarios,
        database=args.database,
        workers=args.workers,
        kill_trials=2 if args.quick else 3,
        takeover_trials=args.trials,
        crash_groups=groups,
        outage_s=outage,
        outage_groups=50 if args.quick else 200,
        keep=args.keep,
        quick=args.quick,
    )


SCENARIOS = {"a": scenario_a, "b": scenario_b, "c": scenario_c, "d": scenario_d}


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    random.seed(options.seed)
    fixture = json.loads((find_fixtures() / "raw" / "firing_single.json").read_bytes())
    root = Path(tempfile.mkdtemp(prefix="onwatch-bench-faults-"))
    procs = Processes(root)
    started = time.monotonic()
    results: dict[str, Any] = {}
    loads = {"start": load_average()}
    print(
        f"bench/faults: scenarios {','.join(options.scenarios)}, "
        f"{'PostgreSQL' if options.database else 'SQLite'}, work dir {root}",
        flush=True,
    )
    try:
        for letter in options.scenarios:
            print(f"scenario {letter}", flush=True)
            results[letter] = SCENARIOS[letter](options, root, procs, fixture)
            procs.stop_all()
            loads[f"after {letter}"] = load_average()
        title = (
            f"onwatch fault figures ({'quick' if options.quick else 'full'}; "
            f"{'PostgreSQL' if options.database else 'SQLite'}; gunicorn {options.workers} "
            f"workers; {os.cpu_count()} cores; {time.monotonic() - started:.0f} s)"
        )
        rows = report(results, options)
        print_table(rows, title)
        print(f"\n  machine load (1-minute average): {loads}")
        RESULTS_DIR.mkdir(exist_ok=True)
        out = RESULTS_DIR / f"faults-{datetime.now():%Y%m%d-%H%M%S}.json"
        figures = {
            "title": title,
            "timestamp": datetime.now(UTC).isoformat(),
            "options": asdict(options),
            "load_average": loads,
            "rows": rows,
            "results": {
                letter: [asdict(t) for t in value] if isinstance(value, list) else asdict(value)
                for letter, value in results.items()
            },
        }
        out.write_text(
            json.dumps(_json_safe(figures), indent=2, default=str) + "\n", encoding="utf-8"
        )
        print(f"figures written to {out.relative_to(REPO_ROOT)}")
        return 0
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"bench/faults: broke: {exc}", file=sys.stderr)
        for server in procs.servers:
            print(f"--- {server.log_path.name}:\n{server.log_tail()}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
        if options.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
