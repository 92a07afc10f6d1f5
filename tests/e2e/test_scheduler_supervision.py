"""The scheduler beside `onwatch serve` is supervised, and its death is visible.

What the fault run found: `kill -9` of the scheduler child stopped all paging while /readyz
and /healthz said 200; `kill -9` of the master and workers left the scheduler running as an
orphan holding the lease, so the restarted server's scheduler waited for ever. Here, against
a real `onwatch serve` paging a fake PagerDuty on loopback: the killed scheduler is started
again and pages flow; an orphan exits and releases the lease; /readyz and the overdue gauge
tell when nothing delivers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from receiver.config.settings import DatabaseSettings
from receiver.jobs.lease import lease_expires_at
from receiver.store.database import Store
from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import events, group, paging_config
from tests.support.servers import (
    REPO_ROOT,
    backend_config,
    free_port,
    get_json,
    get_text,
    onwatch_command,
    post_json,
    running_onwatch,
    wait_for,
    write_config,
)

# The processes are found in /proc (Linux), as a fault run finds them.
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds the scheduler process in /proc"
)

TOKEN = "e2e-token"
WAIT_S = 60.0  # generous: these are not timings (bench/faults.py measures those)


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cmdline: list[str]


def _processes() -> list[Proc]:
    """Live processes (zombies excluded: they are dead, just not reaped yet) from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] == "Z":
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            found.append(
                Proc(int(entry.name), int(fields[1]), [a.decode(errors="replace") for a in argv])
            )
    return found


def _schedulers(config: Path) -> list[Proc]:
    """The `onwatch scheduler` processes running with this test's configuration file."""
    return [
        proc for proc in _processes() if "scheduler" in proc.cmdline and str(config) in proc.cmdline
    ]


def _alive(pid: int) -> bool:
    return any(proc.pid == pid for proc in _processes())


def _paging_config(path: Path, fake: FakePagerDuty) -> None:
    """Append a rota paging the fake PagerDuty, polled every 0.2 s, to a config file."""
    config = paging_config(fake)
    config["dispatcher"] = {"poll_seconds": 0.2}
    with path.open("a", encoding="utf-8") as out:
        for key, value in config.items():
            out.write(f"{key}: {json.dumps(value)}\n")


def _sev1(name: str) -> dict[str, Any]:
    return group(name, impact_revenue="true")  # the revenue-impact rule: SEV1, every layer


def _paged(fake: FakePagerDuty, incident_id: int) -> bool:
    key = f"onwatch-{incident_id}"
    return any(
        r.body.get("dedup_key") == key and r.body.get("event_action") == "trigger"
        for r in events(fake)
        if r.status == 202
    )


def _overdue_gauge(base: str) -> float:
    status, text = get_text(f"{base}/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith("onwatch_outbox_oldest_overdue_seconds "):
            return float(line.split()[1])
    raise AssertionError("no onwatch_outbox_oldest_overdue_seconds in /metrics")


@pytest.fixture
def fake() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as server:
        yield server


@contextmanager
def _onwatch(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`onwatch ARGS` in its own process group; SIGTERM, then SIGKILL to the group, at the
    end (also when the test failed, which prints its log)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            onwatch_command(*args),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        yield process
    except BaseException:
        print(log.read_text(errors="replace"))
        raise
    finally:
        if process.poll() is None:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --------------------------------------------------------------------------------------------


def _sqlite_config(tmp_path: Path, fake: FakePagerDuty) -> Path:
    config = write_config(
        tmp_path / "onwatch.yaml", f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=TOKEN
    )
    _paging_config(config, fake)
    return config


def test_serve_restarts_a_killed_scheduler_and_pages_flow_again(
    tmp_path: Path, fake: FakePagerDuty
) -> None:
    log = tmp_path / "serve.log"
    config = _sqlite_config(tmp_path, fake)
    with running_onwatch(config, workers=1, threads=2, log_path=log) as base:
        [first] = wait_for(lambda: _schedulers(config), timeout=WAIT_S, what="the scheduler")
        os.kill(first.pid, signal.SIGKILL)
        status, body = post_json(f"{base}/api/v1/alertmanager", _sev1("AfterKill"), TOKEN)
        assert status == 200 and body["severity"] == "SEV1", body

        wait_for(lambda: _paged(fake, body["incident_id"]), timeout=WAIT_S, what="the page")
        [second] = _schedulers(config)
        assert second.pid != first.pid and second.ppid == first.ppid
        # It took the dead scheduler's lease at once instead of waiting for it to expire.
        dead_holder = first.cmdline[first.cmdline.index("--lease-holder") + 1]
        assert second.cmdline[second.cmdline.index("--replaces") + 1] == dead_holder
        assert get_json(f"{base}/readyz")[0] == 200
    text = log.read_text(encoding="utf-8")
    assert f"scheduler process (pid {first.pid}) was killed by SIGKILL" in text
    assert f"scheduler process started again (pid {second.pid}, restart 1)" in text


def test_the_scheduler_exits_with_serve_and_a_new_serve_takes_over(
    tmp_path: Path, fake: FakePagerDuty
) -> None:
    config = _sqlite_config(tmp_path, fake)
    store = Store(DatabaseSettings(url=f"sqlite:///{tmp_path / 'onwatch.db'}"))
    try:
        with running_onwatch(config, workers=2, threads=2, log_path=tmp_path / "a.log"):
            [scheduler] = wait_for(lambda: _schedulers(config), timeout=WAIT_S, what="scheduler")
            master = scheduler.ppid
            workers = [p.pid for p in _processes() if p.ppid == master and p != scheduler]
            for pid in (master, *workers):  # kill -9 of the master and its workers
                os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not _alive(scheduler.pid), timeout=WAIT_S, what="no orphan")
            # It released the lease on its way out: nobody has to wait for it to expire.
            assert lease_expires_at(store) is None

        with running_onwatch(config, workers=1, threads=2, log_path=tmp_path / "b.log") as base:
            # Ready means this server's scheduler holds the lease; and it pages.
            status, body = post_json(f"{base}/api/v1/alertmanager", _sev1("Restarted"), TOKEN)
            assert status == 200, body
            wait_for(lambda: _paged(fake, body["incident_id"]), timeout=WAIT_S, what="the page")
    finally:
        store.dispose()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_readyz_and_the_overdue_gauge_say_when_no_scheduler_delivers(
    backend: str, tmp_path: Path, fake: FakePagerDuty, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with backend_config(
        backend,
        tmp_path,
        postgres_admin_url=lambda: request.getfixturevalue("postgres_server"),
        bearer_token=TOKEN,
    ) as config:
        _paging_config(config, fake)
        serve = ["serve", "--no-scheduler", "--config", str(config), "--port", str(port)]
        with _onwatch([*serve, "--workers", "1"], tmp_path / "serve.log"):
            wait_for(lambda: get_json(f"{base}/healthz", timeout=2)[0] == 200, what="healthz")
            status, body = get_json(f"{base}/readyz")
            assert status == 503
            assert body["error"].startswith("scheduler: no scheduler holds the lease"), body

            status, body = post_json(f"{base}/api/v1/alertmanager", _sev1("Unpaged"), TOKEN)
            assert status == 200, body
            incident = body["incident_id"]
            wait_for(lambda: _overdue_gauge(base) > 0, timeout=WAIT_S, what="an overdue page")
            assert get_json(f"{base}/healthz")[0] == 200  # liveness: the process answers

            scheduler = ["scheduler", "--config", str(config)]
            with _onwatch(scheduler, tmp_path / "scheduler.log") as standalone:
                wait_for(lambda: _paged(fake, incident), timeout=WAIT_S, what="the page")
                wait_for(lambda: get_json(f"{base}/readyz")[0] == 200, what="ready")
                wait_for(lambda: _overdue_gauge(base) == 0, what="nothing overdue")
                standalone.send_signal(signal.SIGTERM)
                assert standalone.wait(timeout=30) == 0

            # A clean stop released the lease: no scheduler, not ready.
            status, body = get_json(f"{base}/readyz")
            assert status == 503 and body["error"].startswith("scheduler:"), body
