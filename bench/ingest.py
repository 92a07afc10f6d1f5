#!/usr/bin/env python3
"""Benchmark of onwatch's webhook `POST /api/v1/alertmanager` under gunicorn on SQLite.

Why it is built this way:
- A figure alone says little on a shared 2-core machine, so every figure is measured twice in
  the same run: against onwatch, and against a bare Flask endpoint (`bench/bare_app.py`) that
  only decodes the JSON body, served by gunicorn with the same worker settings. The ratio is
  what the targets use where they can.
- onwatch is idempotent: an identical re-sent body writes nothing. Replaying one body would
  measure a no-op, so payloads are generated per request from the Alertmanager 0.25 fixtures
  (distinct groupKey, labels and fingerprints), mixing first-firing notifications (which open
  an incident, the expensive path) with repeats, updates and resolutions. See `MIX_1`.
- Throughput is closed-loop (wrk, with `bench/ingest.lua`); latency is open-loop at a fixed
  rate, measured from each request's scheduled send time so that a slow server cannot hide its
  stalls by slowing the sender down (coordinated omission).

Run `bench/ingest --help`. Results go to stdout and to `bench/results/ingest-<time>.json`.
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
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import SQLAlchemyError

from receiver.cli import DEFAULT_THREADS, DEFAULT_WORKERS  # what `onwatch serve` runs

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LUA_SCRIPT = BENCH_DIR / "ingest.lua"
WEBHOOK_PATH = "/api/v1/alertmanager"
TOKEN = "bench-token"
HEADERS = {
    "Content-Type": "application/json",
    "Authorization": f"Bearer {TOKEN}",
    "User-Agent": "Alertmanager/0.25.0",
}
GROUP_PLACEHOLDER = "@G@"
GROUP_SIZE = 100
LATENCY_RATE = 200.0  # offered requests/s of the open-loop latency phases

# Targets (see the brief in the module docstring of the report).
TARGET_ALERTS_PER_S = 20000.0
TARGET_P99_MS = 50.0
TARGET_RSS_MB = 150.0

# Phase numbers go into the group token, so that no two phases share a group.
PHASE_WARMUP, PHASE_TPUT_1, PHASE_LAT_1, PHASE_TPUT_100, PHASE_LAT_100 = 0, 1, 2, 3, 4
PHASE_TPUT_NEW = 5
# With several server processes each gets its own load generator, whose phase numbers are
# offset by this much per process (phases stay one hex digit, below 16) so that no two
# generators send the same group.
PHASE_OFFSET_PER_PROCESS = 8
TARGET_NEW_RATIO = 0.50  # 1-alert traffic where every request opens a new incident
TARGET_MIX_RATIO = 0.60  # the 1-alert mix
TARGET_P99_100_MS = 500.0  # 100-alert bodies at 200 requests/s: all answered, p99 under this


@dataclass(frozen=True)
class Step:
    """One request of the repeating mix: a template kind, and which group it is about.

    lag 0 starts a new group (a first-firing notification: onwatch opens an incident);
    lag N is about the group started N new groups earlier (a repeat, update or resolution).
    """

    kind: str
    lag: int


# The 1-alert mix, 10 requests per cycle: 5 first-firing notifications of new groups (open an
# incident), 2 identical repeats (Alertmanager's repeat_interval / HA peers: nothing is
# written), 1 update (same alert, changed annotation: the alert row is updated), 2 resolved
# notifications (the incident is resolved). The lags make every repeat/update/resolution
# refer to a group that was opened a few requests earlier.
MIX_1: tuple[Step, ...] = (
    *(Step("firing", 0) for _ in range(5)),
    Step("firing", 3),
    Step("firing", 4),
    Step("updated", 5),
    Step("resolved", 6),
    Step("resolved", 7),
)
MIX_1_TEXT = (
    "1-alert mix per 10 requests: 5 first-firing (new group -> new incident), "
    "2 identical repeats (no write), 1 update (changed annotation), 2 resolved (resolve incident)"
)
# Every request of the new-groups phase opens an incident (an outage firing many groups).
MIX_NEW: tuple[Step, ...] = (Step("firing", 0),)
MIX_NEW_TEXT = "1-alert new groups: every request is the first notification of a new group"
# Every 100-alert request is the first notification of a new group of 100 firing alerts.
MIX_100: tuple[Step, ...] = (Step("firing", 0),)
MIX_100_TEXT = f"{GROUP_SIZE}-alert mix: every request is a new group of {GROUP_SIZE} firing alerts"

# Alert names and severities for the 1-alert groups: gives the rules engine some variety.
SINGLE_VARIANTS = (
    ("HighErrorRate", "critical"),
    ("HighLatency", "warning"),
    ("DiskWillFillIn4Hours", "warning"),
    ("PodCrashLooping", "critical"),
    ("CertificateExpiringSoon", "info"),
    ("QueueBacklogGrowing", "warning"),
)


# --------------------------------------------------------------------------------------
# Payloads


def go_json(document: Any) -> str:
    """Compact JSON as Alertmanager (Go's encoder) writes it: raw UTF-8, HTML chars escaped."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
    )


def go_time(moment: datetime) -> str:
    """RFC 3339 in UTC with trailing zeros of the fraction trimmed, as Alertmanager sends it."""
    fraction = f"{moment.microsecond // 1000:03d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def _fingerprint_suffix(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def find_fixtures() -> Path:
    """The real Alertmanager captures kept in the repository (tests/fixtures/alertmanager)."""
    found = REPO_ROOT / "tests" / "fixtures" / "alertmanager"
    if not (found / "raw" / "firing_single.json").is_file():
        raise SystemExit(f"bench/ingest: Alertmanager fixtures not found in {found}")
    return found


def single_templates(fixture: dict[str, Any], now: datetime) -> dict[str, list[str]]:
    """1-alert templates per kind (firing, updated, resolved), one per variant in each kind.

    The group token replaces @G@ in the service label (hence groupKey and instance) and in the
    first half of the fingerprint, so every group is distinct to onwatch.
    """
    starts_at, ends_at = go_time(now - timedelta(minutes=10)), go_time(now - timedelta(minutes=1))
    base_alert = fixture["alerts"][0]
    templates: dict[str, list[str]] = {"firing": [], "updated": [], "resolved": []}
    for name, severity in SINGLE_VARIANTS:
        service = f"svc-{GROUP_PLACEHOLDER}"
        labels = dict(
            sorted(
                {
                    **base_alert["labels"],
                    "alertname": name,
                    "instance": f"{service}-1:8080",
                    "job": service,
                    "service": service,
                    "severity": severity,
                }.items()
            )
        )
        for kind in templates:
            annotations = dict(base_alert["annotations"])
            annotations["summary"] = f"{name} on {service}"
            ratio = "17.9" if kind == "updated" else "12.3"
            annotations["description"] = f"{name}: {ratio}% over the last 5 minutes on {service}."
            status = "resolved" if kind == "resolved" else "firing"
            alert = {
                **base_alert,
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": starts_at,
                "endsAt": ends_at if kind == "resolved" else "0001-01-01T00:00:00Z",
                "fingerprint": GROUP_PLACEHOLDER + _fingerprint_suffix(name),
            }
            body = {
                **fixture,
                "status": status,
                "alerts": [alert],
                "groupLabels": {"alertname": name, "service": service},
                "commonLabels": labels,
                "commonAnnotations": annotations,
                "groupKey": f'{{}}:{{alertname="{name}", service="{service}"}}',
            }
            templates[kind].append(go_json(body))
    return templates


def group_templates(fixture: dict[str, Any], now: datetime) -> dict[str, list[str]]:
    """One firing template of GROUP_SIZE alerts (like group_5.json, scaled up)."""
    base_alert = fixture["alerts"][0]
    service = f"api-{GROUP_PLACEHOLDER}"
    starts_at = go_time(now - timedelta(minutes=3))
    alerts = []
    for index in range(GROUP_SIZE):
        instance = f"api-{index + 1}:9100"
        alerts.append(
            {
                **base_alert,
                "labels": dict(
                    sorted(
                        {**base_alert["labels"], "instance": instance, "service": service}.items()
                    )
                ),
                "annotations": {
                    **base_alert["annotations"],
                    "description": f"{instance} has been unreachable for more than 1 minute.",
                },
                "startsAt": starts_at,
                "fingerprint": f"{GROUP_PLACEHOLDER}{index:08x}",
            }
        )
    common = {k: v for k, v in alerts[0]["labels"].items() if k != "instance"}
    name = common["alertname"]
    body = {
        **fixture,
        "alerts": alerts,
        "groupLabels": {"alertname": name, "service": service},
        "commonLabels": common,
        "commonAnnotations": {"summary": base_alert["annotations"]["summary"]},
        "groupKey": f'{{}}:{{alertname="{name}", service="{service}"}}',
    }
    return {"firing": [go_json(body)]}


@dataclass(frozen=True)
class Plan:
    """How one phase generates its bodies; mirrored exactly by `bench/ingest.lua`."""

    phase: int
    steps: tuple[Step, ...]
    templates: dict[str, list[str]]

    def write(self, path: Path) -> Path:
        """Write the plan in the line format `ingest.lua` reads."""
        lines = [str(self.phase), str(len(self.steps))]
        lines += [f"{step.kind} {step.lag}" for step in self.steps]
        for kind, variants in self.templates.items():
            lines += [f"{kind} {template}" for template in variants]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def bodies(self, tid: int) -> Iterator[bytes]:
        """The endless body sequence of one sender (same algorithm as `request()` in Lua)."""
        fresh = 0
        index = 0
        while True:
            step = self.steps[index % len(self.steps)]
            index += 1
            if step.lag == 0:
                fresh += 1
                group = fresh
            else:
                group = fresh - step.lag
                if group < 1:
                    group = fresh
            variants = self.templates[step.kind]
            template = variants[group % len(variants)]
            token = f"{self.phase:x}{tid:x}{group:06x}"
            yield (template.replace(GROUP_PLACEHOLDER, token) + "\n").encode()

    @property
    def alerts_per_request(self) -> int:
        """Alerts per body (all templates of a plan have the same count)."""
        first = next(iter(self.templates.values()))[0]
        return len(json.loads(first.replace(GROUP_PLACEHOLDER, "0" * 8))["alerts"])


# --------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1 (the race is harmless here)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 (state) on


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (the gunicorn workers of a master), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and int(stat[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime of the given processes, in seconds (processes gone count as 0)."""
    ticks = 0
    for pid in pids:
        stat = _proc_stat(pid)
        if stat is not None:
            ticks += int(stat[11]) + int(stat[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (MiB), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def write_batches(port: int) -> tuple[float, float]:
    """(write transactions, requests they served) from one onwatch's /metrics: how well the
    group commit gathered concurrent requests. (0, 0) when the metric cannot be read."""
    with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        text = conn.getresponse().read().decode()
        conn.close()
        samples = {
            sample.name: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        return (
            samples.get("onwatch_store_write_batch_size_count", 0.0),
            samples.get("onwatch_store_write_batch_size_sum", 0.0),
        )
    return 0.0, 0.0


class Fleet:
    """The server processes of one side of the comparison: one, or several on one database."""

    def __init__(self, servers: Sequence[Server]) -> None:
        self.servers = list(servers)

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    def workers(self) -> list[int]:
        return [pid for server in self.servers for pid in server.workers()]

    def cpu(self) -> dict[int, float]:
        """CPU seconds so far: the masters together (key 0), and each worker."""
        merged: dict[int, float] = {0: 0.0}
        for server in self.servers:
            for pid, seconds in server.cpu().items():
                merged[pid] = merged.get(pid, 0.0) + seconds
        return merged


class Server:
    """One gunicorn master started by the benchmark; always stopped with `stop()`."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path) -> None:
        self.name, self.argv, self.port, self.log_path = name, argv, port, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        """Start it and wait until `GET /readyz` answers 200."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # gunicorn >= 23 puts a control socket in $XDG_RUNTIME_DIR, else in
                # ~/.gunicorn/: keep ours in the work dir, away from other gunicorns.
                env={**os.environ, "XDG_RUNTIME_DIR": str(self.log_path.parent)},
                start_new_session=True,  # its own process group, so stop() can reach stragglers
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n" + self.log_tail()
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s:\n" + self.log_tail())

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        """The gunicorn worker processes now (children of the master)."""
        return children_of(self.pid)

    def cpu(self) -> dict[int, float]:
        """CPU seconds used so far by the master (key 0) and by each current worker."""
        return {0: cpu_seconds([self.pid])} | {pid: cpu_seconds([pid]) for pid in self.workers()}

    def log_tail(self, lines: int = 30) -> str:
        """The end of its log, for error messages."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL to its process group if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def onwatch_argv(config: Path, port: int, workers: int, threads: int) -> list[str]:
    """`onwatch serve ...`: the venv's console script, else `python -m receiver.cli`."""
    script = Path(sys.executable).parent / "onwatch"
    found = str(script) if script.is_file() else shutil.which("onwatch")
    command = [found] if found else [sys.executable, "-m", "receiver.cli"]
    return [
        *command,
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


def bare_argv(port: int, workers: int, threads: int) -> list[str]:
    """gunicorn with the settings `receiver/server.py` gives onwatch (gthread, timeouts, logs)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--chdir",
        str(BENCH_DIR),
        "-k",
        "gthread",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--log-level",
        "info",
        "--error-logfile",
        "-",
        "bare_app:app",
    ]


# --------------------------------------------------------------------------------------
# Load generators


@dataclass
class LoadResult:
    """What one load phase measured."""

    generator: str
    duration_s: float
    completed: int
    statuses: dict[str, int]
    socket_errors: int
    unfinished: int = 0  # open loop: scheduled but not answered by the end of the grace time
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    fresh_groups: int = 0
    server_cpu_cores: float = 0.0
    generator_cpu_cores: float = 0.0
    offered_rate: float | None = None
    worker_cpu_cores: list[float] = field(default_factory=list)  # per worker: shows imbalance
    samples: dict[str, str] = field(default_factory=dict)  # first body per non-2xx status

    @property
    def ok(self) -> int:
        """Answers with a 2xx status."""
        return sum(n for code, n in self.statuses.items() if code.startswith("2"))

    @property
    def failed(self) -> int:
        """Non-2xx answers, socket errors and (open loop) requests never answered."""
        return self.completed - self.ok + self.socket_errors + self.unfinished

    @property
    def rate(self) -> float:
        """2xx answers per second."""
        return self.ok / self.duration_s if self.duration_s else 0.0


def cpu_figures(server: Server | Fleet, before: dict[int, float], wall_s: float) -> dict[str, Any]:
    """Server CPU in cores during a phase: total, and per worker (gunicorn does not balance
    keep-alive connections, so one worker may serve most of them and cap the throughput)."""
    after = server.cpu()
    used = {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}
    return {
        "server_cpu_cores": sum(used.values()) / wall_s,
        "worker_cpu_cores": [round(used[pid] / wall_s, 2) for pid in sorted(used) if pid],
    }


def find_wrk(install: bool) -> str | None:
    """Path of wrk; installs the Debian package when missing and allowed (root + apt-get)."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    print("wrk not found: installing it with apt-get (once) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        if subprocess.run(argv, env=env, capture_output=True, check=False).returncode != 0:
            return None
    return shutil.which("wrk")


def run_wrk(
    wrk: str,
    port: int,
    plan_file: Path,
    duration_s: float,
    connections: int,
    threads: int,
    server: Server,
) -> LoadResult:
    """Closed-loop throughput with wrk; CPU of wrk and of the server measured around it."""
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        "--",
        str(plan_file),
    ]
    server_cpu = server.cpu()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    marker = [line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if done.returncode != 0 or not marker:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(marker[0].removeprefix("BENCH_RESULT "))
    samples: dict[str, str] = {}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_SAMPLE "):
            code, _, text = line.removeprefix("BENCH_SAMPLE ").partition(" ")
            samples.setdefault(code, text)
    errors = data["errors"]
    duration = data["duration_us"] / 1e6
    return LoadResult(
        generator="wrk",
        duration_s=duration,
        completed=data["requests"],
        statuses=dict(data["statuses"]),
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        p50_ms=data["latency_us"]["p50"] / 1000,
        p99_ms=data["latency_us"]["p99"] / 1000,
        max_ms=data["latency_us"]["max"] / 1000,
        fresh_groups=data["fresh_groups"],
        **cpu_figures(server, server_cpu, wall),
        generator_cpu_cores=(
            after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        )
        / wall,
        samples=samples,
    )


class _Sender:
    """Keep-alive HTTP/1.1 connections for the Python generators, shared bookkeeping."""

    def __init__(self, ports: Sequence[int], timeout_s: float) -> None:
        self.ports, self.timeout_s = list(ports), timeout_s
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.socket_errors = 0
        self.samples: dict[str, str] = {}
        self.frozen = False  # set at the end of a phase: later answers are not counted
        self.connections: list[http.client.HTTPConnection] = []

    def connect(self) -> http.client.HTTPConnection:
        with self.lock:  # connections spread over the server processes in turn
            port = self.ports[len(self.connections) % len(self.ports)]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout_s)
            self.connections.append(conn)
        return conn

    def post(self, conn: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
        """POST once; a keep-alive connection the server closed while idle is reopened."""
        for attempt in (1, 2):
            try:
                conn.request("POST", WEBHOOK_PATH, body=body, headers=HEADERS)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()  # gunicorn closes idle keep-alive connections after 2 s
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def record(self, started: float, outcome: tuple[int, bytes] | None) -> None:
        finished = time.perf_counter()
        with self.lock:
            if self.frozen:
                return
            if outcome is None:
                self.socket_errors += 1
                return
            status, body = outcome
            self.statuses[str(status)] += 1
            self.latencies.append(finished - started)
            if not 200 <= status < 300:
                text = body[:300].decode(errors="replace").replace("\n", " ")
                self.samples.setdefault(str(status), text)

    def freeze(self) -> int:
        """Stop counting and unblock every connection; returns the answers counted."""
        with self.lock:
            self.frozen = True
            counted = sum(self.statuses.values()) + self.socket_errors
            for conn in self.connections:
                if conn.sock is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
        return counted


def _percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (inf values allowed)."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def run_open_loop(
    ports: Sequence[int],
    plan: Plan,
    rate: float,
    duration_s: float,
    grace_s: float,
    senders: int,
    server: Server | Fleet,
) -> LoadResult:
    """Send at a fixed rate whatever the answers; latency counts from the scheduled time.

    A request still queued or unanswered `grace_s` after the last scheduled send counts as
    unfinished, with infinite latency in the percentiles: a saturated server shows up as such.
    """
    sender = _Sender(ports, timeout_s=duration_s + grace_s + 5)
    jobs: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()

    def work() -> None:
        conn = sender.connect()
        while (job := jobs.get()) is not None:
            scheduled, body = job
            if sender.frozen:
                continue
            try:
                outcome: tuple[int, bytes] | None = sender.post(conn, body)
            except (OSError, http.client.HTTPException):
                outcome = None
                conn.close()
            sender.record(scheduled, outcome)

    pool = [threading.Thread(target=work, daemon=True) for _ in range(senders)]
    for thread in pool:
        thread.start()
    total = int(rate * duration_s)
    bodies = plan.bodies(tid=0)
    server_cpu, own = server.cpu(), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter() + 0.05
    for index in range(total):
        scheduled = start + index / rate
        body = next(bodies)
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put((scheduled, body))
    for _ in pool:
        jobs.put(None)
    deadline = start + duration_s + grace_s
    for thread in pool:
        thread.join(max(0.0, deadline - time.perf_counter()))
    wall = time.perf_counter() - start
    counted = sender.freeze()
    used = resource.getrusage(resource.RUSAGE_SELF)
    latencies = sorted(sender.latencies) + [math.inf] * (total - counted)
    return LoadResult(
        generator=f"python open loop, {senders} connections",
        duration_s=duration_s,
        completed=sum(sender.statuses.values()),
        statuses=dict(sender.statuses),
        socket_errors=sender.socket_errors,
        unfinished=total - counted,
        p50_ms=_percentile(latencies, 0.50) * 1000 if latencies else None,
        p99_ms=_percentile(latencies, 0.99) * 1000 if latencies else None,
        max_ms=latencies[-1] * 1000 if latencies else None,
        fresh_groups=sum(1 for i in range(total) if plan.steps[i % len(plan.steps)].lag == 0),
        **cpu_figures(server, server_cpu, wall),
        generator_cpu_cores=(used.ru_utime + used.ru_stime - own.ru_utime - own.ru_stime) / wall,
        offered_rate=rate,
        samples=sender.samples,
    )


def run_closed_loop_python(
    port: int, plan: Plan, duration_s: float, connections: int, server: Server
) -> LoadResult:
    """Fallback when wrk is unavailable: back-to-back requests from Python threads.

    With the GIL this can be slower than the bare endpoint; the report says so.
    """
    sender = _Sender([port], timeout_s=30)
    stop_at = 0.0
    fresh = Counter[int]()

    def work(tid: int) -> None:
        conn = sender.connect()
        bodies = plan.bodies(tid)
        index = 0
        while time.perf_counter() < stop_at:
            body = next(bodies)
            if plan.steps[index % len(plan.steps)].lag == 0:
                fresh[tid] += 1
            index += 1
            started = time.perf_counter()
            try:
                outcome: tuple[int, bytes] | None = sender.post(conn, body)
            except (OSError, http.client.HTTPException):
                outcome = None
                conn.close()
            sender.record(started, outcome)

    pool = [
        threading.Thread(target=work, args=(tid,), daemon=True)
        for tid in range(min(connections, 16))
    ]
    server_cpu, own = server.cpu(), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    stop_at = started + duration_s
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=duration_s + 35)
    wall = time.perf_counter() - started
    sender.freeze()
    used = resource.getrusage(resource.RUSAGE_SELF)
    latencies = sorted(sender.latencies)
    return LoadResult(
        generator=f"python closed loop, {len(pool)} connections",
        duration_s=wall,
        completed=sum(sender.statuses.values()),
        statuses=dict(sender.statuses),
        socket_errors=sender.socket_errors,
        p50_ms=_percentile(latencies, 0.50) * 1000 if latencies else None,
        p99_ms=_percentile(latencies, 0.99) * 1000 if latencies else None,
        max_ms=latencies[-1] * 1000 if latencies else None,
        fresh_groups=sum(fresh.values()),
        **cpu_figures(server, server_cpu, wall),
        generator_cpu_cores=(used.ru_utime + used.ru_stime - own.ru_utime - own.ru_stime) / wall,
        samples=sender.samples,
    )


# --------------------------------------------------------------------------------------
# The benchmark


@dataclass
class ServerResult:
    """Everything measured against one server."""

    name: str
    phases: dict[str, LoadResult] = field(default_factory=dict)
    worker_rss_mb: dict[str, float] = field(default_factory=dict)
    log_findings: dict[str, int] = field(default_factory=dict)
    database: dict[str, int] = field(default_factory=dict)
    # onwatch's write transactions and the requests they served (group commit), summed over
    # its server processes
    write_batches: tuple[float, float] = (0.0, 0.0)


@dataclass
class Options:
    """Command-line options, resolved."""

    workers: int
    threads: int
    duration_s: float
    latency_duration_s: float
    warmup_s: float
    grace_s: float
    connections: int
    senders: int
    generator: str
    keep: bool
    database: str | None = None  # a PostgreSQL server URL; None: a SQLite file
    processes: int = 1  # `onwatch serve` processes on the one database


LOG_PATTERNS = {
    "tracebacks": "Traceback (most recent call last)",
    "worker timeouts": "WORKER TIMEOUT",
    "database is locked": "database is locked",
    "write conflicts retried": "write conflict with a concurrent request",
    "ERROR lines": " ERROR ",
    "WARNING lines": " WARNING ",
}


def scan_log(path: Path) -> dict[str, int]:
    """How often each known trouble sign appears in a server's log."""
    text = path.read_text(errors="replace") if path.exists() else ""
    counts = {name: text.count(needle) for name, needle in LOG_PATTERNS.items()}
    return {name: n for name, n in counts.items() if n}


def database_counts(url: str) -> dict[str, int]:
    """Rows onwatch wrote, to check that the mix really exercised the write paths."""
    queries = {
        "incidents": "SELECT count(*) FROM incident",
        "incidents open": "SELECT count(*) FROM incident WHERE status = 'open'",
        "incidents resolved": "SELECT count(*) FROM incident WHERE status = 'resolved'",
        "alerts": "SELECT count(*) FROM alert",
        "timeline entries": "SELECT count(*) FROM timeline_entry",
    }
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: int(connection.execute(sqlalchemy.text(sql)).scalar_one())
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


def combine(parts: Sequence[LoadResult]) -> LoadResult:
    """The closed-loop results of several servers loaded at once, as one phase."""
    if len(parts) == 1:
        return parts[0]
    statuses: Counter[str] = Counter()
    samples: dict[str, str] = {}
    for part in parts:
        statuses.update(part.statuses)
        for code, text in part.samples.items():
            samples.setdefault(code, text)

    def worst(values: list[float | None]) -> float | None:
        known = [value for value in values if value is not None]
        return max(known) if known else None

    duration = sum(part.duration_s for part in parts) / len(parts)
    return LoadResult(
        generator=f"{len(parts)} x {parts[0].generator}",
        duration_s=duration,
        completed=sum(part.completed for part in parts),
        statuses=dict(statuses),
        socket_errors=sum(part.socket_errors for part in parts),
        p50_ms=worst([part.p50_ms for part in parts]),
        p99_ms=worst([part.p99_ms for part in parts]),
        max_ms=worst([part.max_ms for part in parts]),
        fresh_groups=sum(part.fresh_groups for part in parts),
        server_cpu_cores=sum(part.server_cpu_cores for part in parts),
        generator_cpu_cores=sum(part.generator_cpu_cores for part in parts),
        worker_cpu_cores=[core for part in parts for core in part.worker_cpu_cores],
        samples=samples,
    )


def measure(
    fleet: Fleet,
    name: str,
    plans: dict[str, Plan],
    options: Options,
    wrk: str | None,
    work_dir: Path,
) -> ServerResult:
    """Warm up, then run the phases against the running servers."""
    result = ServerResult(name=name)

    def throughput(plan: Plan, seconds: float) -> LoadResult:
        if not wrk:
            return run_closed_loop_python(
                fleet.ports[0], plan, seconds, options.connections, fleet.servers[0]
            )
        connections = max(1, options.connections // len(fleet.servers))
        parts: list[LoadResult | None] = [None] * len(fleet.servers)

        def one(index: int) -> None:
            # Each server's generator sends groups of its own (its own phase numbers).
            own = replace(plan, phase=plan.phase + PHASE_OFFSET_PER_PROCESS * index)
            plan_file = own.write(work_dir / f"plan-{name}-{own.phase}.txt")
            parts[index] = run_wrk(
                wrk,
                fleet.servers[index].port,
                plan_file,
                seconds,
                connections,
                min(2, connections),
                fleet.servers[index],
            )

        threads = [
            threading.Thread(target=one, args=(index,)) for index in range(len(fleet.servers))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if any(part is None for part in parts):
            raise RuntimeError(f"a load generator against {name} failed")
        return combine([part for part in parts if part is not None])

    print(f"  {name}: warm-up {options.warmup_s:g} s", flush=True)
    throughput(plans["warmup"], options.warmup_s)
    for key, label in (
        ("tput_new", "1-alert new-group throughput"),
        ("tput_1", "1-alert throughput"),
        ("lat_1", "1-alert latency"),
        ("tput_100", f"{GROUP_SIZE}-alert throughput"),
        ("lat_100", f"{GROUP_SIZE}-alert latency"),
    ):
        plan = plans[key]
        if key.startswith("tput"):
            print(f"  {name}: {label}, {options.duration_s:g} s closed loop", flush=True)
            phase = throughput(plan, options.duration_s)
        else:
            print(
                f"  {name}: {label}, {options.latency_duration_s:g} s at "
                f"{LATENCY_RATE:g} req/s open loop",
                flush=True,
            )
            phase = run_open_loop(
                fleet.ports,
                plan,
                LATENCY_RATE,
                options.latency_duration_s,
                options.grace_s,
                options.senders,
                fleet,
            )
        result.phases[key] = phase
        if phase.failed:
            print(
                f"  !!! {name}: {phase.failed} failed requests in {label}: "
                f"statuses {phase.statuses}, socket errors {phase.socket_errors}, "
                f"unfinished {phase.unfinished}",
                flush=True,
            )
    for pid in fleet.workers():
        rss = rss_mb(pid)
        if rss is not None:
            result.worker_rss_mb[str(pid)] = round(rss, 1)
    if name == "onwatch":
        batches = [write_batches(port) for port in fleet.ports]
        result.write_batches = (sum(b[0] for b in batches), sum(b[1] for b in batches))
    return result


def build_plans(fixtures: Path) -> dict[str, Plan]:
    """Every phase's plan, with timestamps relative to now."""
    now = datetime.now(UTC)
    raw = fixtures / "raw"
    single = single_templates(json.loads((raw / "firing_single.json").read_bytes()), now)
    group = group_templates(json.loads((raw / "group_5.json").read_bytes()), now)
    return {
        "warmup": Plan(PHASE_WARMUP, MIX_1, single),
        "tput_1": Plan(PHASE_TPUT_1, MIX_1, single),
        "tput_new": Plan(PHASE_TPUT_NEW, MIX_NEW, single),
        "lat_1": Plan(PHASE_LAT_1, MIX_1, single),
        "tput_100": Plan(PHASE_TPUT_100, MIX_100, group),
        "lat_100": Plan(PHASE_LAT_100, MIX_100, group),
    }


# --------------------------------------------------------------------------------------
# Report


def verdict(ok: bool | None) -> str:
    """PASS/FAIL, or n/a when the figure could not be measured."""
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def fmt_ms(phase: LoadResult | None) -> str:
    """'p50 / p99 ms', with 'inf' when requests were never answered."""
    if phase is None or phase.p50_ms is None or phase.p99_ms is None:
        return "-"

    def one(value: float) -> str:
        return "inf" if math.isinf(value) else f"{value:.1f}"

    return f"{one(phase.p50_ms)} / {one(phase.p99_ms)} ms"


def report(onwatch: ServerResult, bare: ServerResult, options: Options) -> dict[str, Any]:
    """Print the table and return the figures (also written as JSON)."""
    o, b = onwatch.phases, bare.phases
    rps_o, rps_b = o["tput_1"].rate, b["tput_1"].rate
    ratio = rps_o / rps_b if rps_b else 0.0
    new_o, new_b = o["tput_new"].rate, b["tput_new"].rate
    new_ratio = new_o / new_b if new_b else 0.0
    p99_100 = o["lat_100"].p99_ms
    alerts_o = o["tput_100"].rate * GROUP_SIZE
    alerts_b = b["tput_100"].rate * GROUP_SIZE
    p99_1 = o["lat_1"].p99_ms
    rss_o = max(onwatch.worker_rss_mb.values(), default=0.0)
    rss_b = max(bare.worker_rss_mb.values(), default=0.0)
    errors_o = sum(phase.failed for phase in o.values())
    errors_b = sum(phase.failed for phase in b.values())
    targets = {
        "new_groups_ratio": new_ratio >= TARGET_NEW_RATIO,
        "rps_ratio": ratio >= TARGET_MIX_RATIO,
        "alerts_per_s": alerts_o >= TARGET_ALERTS_PER_S,
        "p99_1_alert": p99_1 is not None and p99_1 < TARGET_P99_MS,
        "p99_100_alert": p99_100 is not None
        and p99_100 < TARGET_P99_100_MS
        and o["lat_100"].failed == 0,
        "worker_rss": bool(onwatch.worker_rss_mb) and rss_o < TARGET_RSS_MB,
    }
    database = "PostgreSQL" if options.database else "SQLite WAL"
    processes = f"{options.processes} x " if options.processes > 1 else ""
    title = (
        f"onwatch ingest benchmark ({processes}gunicorn gthread, {options.workers} workers x "
        f"{options.threads} threads, {database}) on {os.cpu_count()} cores"
    )
    rows = [
        ("scenario", "onwatch", "bare flask", "ratio", "target", ""),
        (
            "1-alert new groups requests/s",
            f"{new_o:.0f}",
            f"{new_b:.0f}",
            f"{new_ratio * 100:.1f} %",
            f">= {TARGET_NEW_RATIO * 100:.0f} %",
            verdict(targets["new_groups_ratio"]),
        ),
        (
            "1-alert mix requests/s",
            f"{rps_o:.0f}",
            f"{rps_b:.0f}",
            f"{ratio * 100:.1f} %",
            f">= {TARGET_MIX_RATIO * 100:.0f} %",
            verdict(targets["rps_ratio"]),
        ),
        (
            f"{GROUP_SIZE}-alert alerts/s",
            f"{alerts_o:.0f}",
            f"{alerts_b:.0f}",
            f"{alerts_o / alerts_b * 100:.1f} %" if alerts_b else "-",
            f">= {TARGET_ALERTS_PER_S:.0f}/s",
            verdict(targets["alerts_per_s"]),
        ),
        (
            f"  ({GROUP_SIZE}-alert requests/s)",
            f"{o['tput_100'].rate:.1f}",
            f"{b['tput_100'].rate:.1f}",
            "",
            "",
            "",
        ),
        (
            f"p50 / p99 @ {LATENCY_RATE:.0f} req/s (1 alert)",
            fmt_ms(o["lat_1"]),
            fmt_ms(b["lat_1"]),
            "",
            f"p99 < {TARGET_P99_MS:.0f} ms",
            verdict(targets["p99_1_alert"]),
        ),
        (
            f"p50 / p99 @ {LATENCY_RATE:.0f} req/s ({GROUP_SIZE} al.)",
            fmt_ms(o["lat_100"]),
            fmt_ms(b["lat_100"]),
            "",
            f"all answered, p99 < {TARGET_P99_100_MS:.0f} ms",
            verdict(targets["p99_100_alert"]),
        ),
        (
            "worker RSS (max)",
            f"{rss_o:.0f} MB",
            f"{rss_b:.0f} MB",
            "",
            f"< {TARGET_RSS_MB:.0f} MB",
            verdict(targets["worker_rss"]),
        ),
        ("errors (non-2xx, socket, unanswered)", str(errors_o), str(errors_b), "", "", ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    print()
    print(title)
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    print()
    print("details:")
    print(f"  {MIX_1_TEXT}")
    print(f"  {MIX_NEW_TEXT}")
    if options.processes > 1:
        print(
            f"  {options.processes} server processes on one database: closed-loop phases load "
            "each with its own wrk at once (requests/s summed, p99 the worst); open-loop phases "
            "spread the requests over them"
        )
    print(f"  {MIX_100_TEXT}")
    for name, result in (("onwatch", onwatch), ("bare", bare)):
        for key, phase in result.phases.items():
            offered = f", offered {phase.offered_rate:g}/s" if phase.offered_rate else ""
            print(
                f"  {name:7} {key:8} {phase.rate:8.1f} req/s 2xx{offered}, "
                f"p50/p99 {fmt_ms(phase)}, server CPU {phase.server_cpu_cores:.2f} cores "
                f"(workers {phase.worker_cpu_cores}), "
                f"generator CPU {phase.generator_cpu_cores:.2f} cores ({phase.generator}), "
                f"statuses {phase.statuses}"
                + (f", socket errors {phase.socket_errors}" if phase.socket_errors else "")
                + (f", UNANSWERED {phase.unfinished}" if phase.unfinished else "")
            )
            for code, text in phase.samples.items():
                print(f"  {'':7} {key:8} first {code} answer: {text}")
        rss = ", ".join(f"{pid}: {mb:.0f} MB" for pid, mb in result.worker_rss_mb.items())
        print(f"  {name:7} worker RSS after the load: {rss}")
        if result.log_findings:
            print(f"  {name:7} server log: {result.log_findings}")
        transactions, requests = result.write_batches
        if transactions:
            print(
                f"  {name:7} group commit: {requests:.0f} requests written in "
                f"{transactions:.0f} transactions ({requests / transactions:.1f} per transaction)"
            )
    if onwatch.database:
        print(f"  onwatch database after the run: {onwatch.database}")
    if errors_o or errors_b:
        print()
        print(
            f"!!! ERRORS: onwatch {errors_o} failed requests, bare {errors_b}: "
            "the figures above include failures; see the details."
        )
    figures = {
        "title": title,
        "timestamp": datetime.now(UTC).isoformat(),
        "options": asdict(options),
        "cpu_count": os.cpu_count(),
        "mix": {"1_alert": MIX_1_TEXT, f"{GROUP_SIZE}_alert": MIX_100_TEXT},
        "summary": {
            "rps_1_alert": {"onwatch": rps_o, "bare": rps_b, "ratio": ratio},
            "rps_1_alert_new_groups": {"onwatch": new_o, "bare": new_b, "ratio": new_ratio},
            "alerts_per_s_100": {"onwatch": alerts_o, "bare": alerts_b},
            "latency_1_alert_ms": {
                "onwatch": [o["lat_1"].p50_ms, o["lat_1"].p99_ms],
                "bare": [b["lat_1"].p50_ms, b["lat_1"].p99_ms],
            },
            "latency_100_alert_ms": {
                "onwatch": [o["lat_100"].p50_ms, o["lat_100"].p99_ms],
                "bare": [b["lat_100"].p50_ms, b["lat_100"].p99_ms],
            },
            "worker_rss_max_mb": {"onwatch": rss_o, "bare": rss_b},
            "errors": {"onwatch": errors_o, "bare": errors_b},
        },
        "targets": {key: verdict(ok) for key, ok in targets.items()},
        "servers": {
            result.name: {
                "phases": {
                    key: {**asdict(phase), "rate": phase.rate, "failed": phase.failed}
                    for key, phase in result.phases.items()
                },
                "worker_rss_mb": result.worker_rss_mb,
                "log_findings": result.log_findings,
                "write_batches": {
                    "transactions": result.write_batches[0],
                    "requests": result.write_batches[1],
                },
                "database": result.database,
            }
            for result in (onwatch, bare)
        },
    }
    return _json_safe(figures)


def _json_safe(value: Any) -> Any:
    """inf (unanswered requests) is not JSON: write it as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


# --------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None) -> Options:
    """Command-line options; --quick shortens every phase for a smoke run."""
    parser = argparse.ArgumentParser(
        prog="bench/ingest",
        description="Benchmark onwatch's Alertmanager webhook against a bare Flask endpoint.",
    )
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
        "--duration",
        type=float,
        default=None,
        help="seconds per throughput and per latency phase (default 12 and 15; --quick: 3 and 3)",
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run (~30 s)")
    parser.add_argument(
        "--connections",
        type=int,
        default=None,
        help="closed-loop connections (default 4 x workers x threads)",
    )
    parser.add_argument(
        "--generator",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="closed-loop generator: wrk (installed with apt-get if missing "
        "and run as root), python, or auto (wrk, else python)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (database, logs) and print its path",
    )
    parser.add_argument(
        "--database",
        default=None,
        help="postgresql+psycopg://USER@HOST:PORT/DB: run on a fresh database created on that "
        "server (and dropped afterwards) instead of a SQLite file",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="onwatch serve processes on the one database, each with its own port "
        "(the bare endpoint gets as many); default 1",
    )
    args = parser.parse_args(argv)
    if args.database and not args.database.startswith("postgresql+psycopg://"):
        parser.error("--database must be a postgresql+psycopg:// URL (SQLite is the default)")
    if not 1 <= args.processes <= 2:
        parser.error("--processes must be 1 or 2 (phase numbers leave room for two)")
    if args.duration is not None:
        tput = lat = args.duration
    elif args.quick:
        tput = lat = 3.0
    else:
        tput, lat = 12.0, 15.0
    return Options(
        workers=args.workers,
        threads=args.threads,
        duration_s=tput,
        latency_duration_s=lat,
        warmup_s=1.0 if args.quick else 2.0,
        grace_s=3.0 if args.quick else 5.0,
        connections=args.connections or 4 * args.workers * args.threads,
        senders=64,
        generator=args.generator,
        keep=args.keep,
        database=args.database,
        processes=args.processes,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run both servers one after the other (never at once), print and save the figures."""
    options = parse_args(argv)
    fixtures = find_fixtures()
    wrk = None if options.generator == "python" else find_wrk(install=True)
    if options.generator == "wrk" and wrk is None:
        print("bench/ingest: wrk is not available and could not be installed", file=sys.stderr)
        return 1
    if wrk is None:
        print(
            "NOTE: wrk unavailable; using the Python closed-loop generator, which may be the "
            "bottleneck against the bare endpoint (compare its CPU figures).",
            flush=True,
        )
    plans = build_plans(fixtures)
    work_dir = Path(tempfile.mkdtemp(prefix="onwatch-bench-"))
    servers: list[Server] = []
    with contextlib.ExitStack() as stack:
        try:
            url = database_url(options, work_dir, stack)
            config = work_dir / "onwatch.yaml"
            config.write_text(
                json.dumps({"database": {"url": url}, "webhook": {"bearer_token": TOKEN}}) + "\n",
                encoding="utf-8",
            )
            if options.database:
                migrate(config)
            print(
                f"fixtures: {fixtures}; generator: {wrk or 'python'}; work dir: {work_dir}",
                flush=True,
            )
            results = {}
            for name in ("bare", "onwatch"):
                fleet = Fleet([])
                for index in range(options.processes):
                    port = free_port()
                    argv_ = (
                        bare_argv(port, options.workers, options.threads)
                        if name == "bare"
                        else onwatch_argv(config, port, options.workers, options.threads)
                    )
                    server = Server(name, argv_, port, work_dir / f"{name}-{index}.log")
                    servers.append(server)
                    fleet.servers.append(server)
                    print(f"starting {name} on 127.0.0.1:{port}", flush=True)
                    server.start()
                try:
                    results[name] = measure(fleet, name, plans, options, wrk, work_dir)
                finally:
                    for server in fleet.servers:
                        server.stop()
                for server in fleet.servers:
                    for finding, count in scan_log(server.log_path).items():
                        findings = results[name].log_findings
                        findings[finding] = findings.get(finding, 0) + count
            results["onwatch"].database = database_counts(url)
            figures = report(results["onwatch"], results["bare"], options)
            RESULTS_DIR.mkdir(exist_ok=True)
            out = RESULTS_DIR / f"ingest-{datetime.now():%Y%m%d-%H%M%S}.json"
            out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
            print(f"\nfigures written to {out.relative_to(REPO_ROOT)}")
            return 0
        except (RuntimeError, OSError, sqlite3.Error, SQLAlchemyError) as exc:
            print(f"bench/ingest: broke: {exc}", file=sys.stderr)
            return 1
        finally:
            for server in servers:
                server.stop()
            if options.keep:
                print(f"kept {work_dir}")
            else:
                shutil.rmtree(work_dir, ignore_errors=True)


def database_url(options: Options, work_dir: Path, stack: contextlib.ExitStack) -> str:
    """A fresh SQLite file, or a fresh database on the PostgreSQL server of `--database`
    (dropped when `stack` closes)."""
    if not options.database:
        return f"sqlite:///{work_dir / 'bench.db'}"
    if str(REPO_ROOT) not in sys.path:  # the tests' helper that creates and drops it
        sys.path.insert(0, str(REPO_ROOT))
    from tests.support.servers import fresh_postgres_database

    return stack.enter_context(fresh_postgres_database(options.database, "onwatch_bench"))


def migrate(config: Path) -> None:
    """`onwatch db upgrade`: serve refuses a shared database whose schema is not current."""
    done = subprocess.run(
        [sys.executable, "-m", "receiver.cli", "db", "upgrade", "--config", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"onwatch db upgrade failed:\n{done.stderr}")


if __name__ == "__main__":
    sys.exit(main())
