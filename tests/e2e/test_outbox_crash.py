"""The outbox survives a crash: pages committed with the incident are delivered after it.

A real `onwatch serve --no-scheduler` takes Alertmanager's notifications (so the pages are
committed but nobody delivers them), is killed with SIGKILL, and then `onwatch scheduler`
starts on the same database: every page reaches the fake PagerDuty exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import events, group, paging_config
from tests.support.servers import (
    REPO_ROOT,
    db_upgrade,
    free_port,
    fresh_postgres_database,
    get_json,
    incident_detail,
    onwatch_command,
    post_json,
    wait_for,
    write_config,
)

TOKEN = "e2e-token"
GROUPS = 3


def _config(path: Path, database_url: str, fake: FakePagerDuty) -> Path:
    config = paging_config(fake)
    config["dispatcher"] = {"poll_seconds": 0.2}
    extra = "".join(f"{key}: {json.dumps(value)}\n" for key, value in config.items())
    return write_config(path, database_url, bearer_token=TOKEN, extra=extra)


@contextmanager
def _process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start `onwatch ARGS` in its own process group; SIGKILL the group at the end."""
    with open(log, "wb") as err:
        process = subprocess.Popen(
            onwatch_command(*args),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
        )
    try:
        yield process
    except BaseException:
        print(log.read_text(errors="replace"))
        raise
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _crash_then_deliver(tmp_path: Path, database_url: str, fake: FakePagerDuty) -> None:
    config = _config(tmp_path / "onwatch.yaml", database_url, fake)
    if not database_url.startswith("sqlite"):
        db_upgrade(config)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [
        "serve",
        "--no-scheduler",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    with _process(serve, tmp_path / "serve.log") as server:
        wait_for(lambda: get_json(f"{base}/healthz", timeout=2)[0] == 200, what="onwatch up")
        incidents = []
        for number in range(GROUPS):
            status, body = post_json(f"{base}/api/v1/alertmanager", group(f"Crash{number}"), TOKEN)
            assert status == 200, body
            incidents.append(body["incident_id"])
        for incident in incidents:
            pages = incident_detail(base, incident)["pages"]
            assert [(p["target"], p["status"]) for p in pages][0] == ("primary", "pending")
        os.killpg(server.pid, signal.SIGKILL)  # kill -9, master and workers
        server.wait(timeout=10)
    assert events(fake) == []  # committed, never delivered

    with _process(["scheduler", "--config", str(config)], tmp_path / "scheduler.log") as runner:
        keys = {f"onwatch-{i}" for i in incidents}
        wait_for(
            lambda: {r.body["dedup_key"] for r in events(fake)} >= keys,
            timeout=20,
            what="every page after the crash",
        )
        time.sleep(1.0)  # several more dispatcher rounds: nothing is sent twice
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=15) == 0
    triggers: dict[str, Any] = {}
    for request in events(fake):
        triggers.setdefault(request.body["dedup_key"], []).append(request)
    assert {key: len(sent) for key, sent in triggers.items()} == dict.fromkeys(keys, 1)
    for key in keys:
        assert len(fake.incidents_for(key)) == 1


@pytest.fixture
def fake() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as server:
        yield server


def test_outbox_survives_a_crash_sqlite(tmp_path: Path, fake: FakePagerDuty) -> None:
    _crash_then_deliver(tmp_path, f"sqlite:///{tmp_path / 'onwatch.db'}", fake)


@pytest.mark.postgres
def test_outbox_survives_a_crash_postgresql(
    tmp_path: Path, fake: FakePagerDuty, postgres_server: str
) -> None:
    with fresh_postgres_database(postgres_server, prefix="onwatch_crash") as url:
        _crash_then_deliver(tmp_path, url, fake)
