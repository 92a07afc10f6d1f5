"""A kill -9 in the middle of a group commit: every request is either answered 200 and stored
whole (incident, alert, timeline, pages in the outbox), or not answered and, once Alertmanager
retries it, stored exactly once.

A real `onwatch serve --no-scheduler` (one worker, many threads, so that concurrent requests
share transactions) on SQLite. The test holds the database's writer lock itself (the lock
file every onwatch writer takes) so that concurrent requests are known to be waiting in one
group commit, then kills the server with SIGKILL; and it kills it once more under load, at
whatever point the writer has reached.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.support.fake_pagerduty import FakePagerDuty
from tests.support.paging import group, paging_config
from tests.support.servers import (
    REPO_ROOT,
    free_port,
    get_json,
    get_text,
    onwatch_command,
    post_json,
    wait_for,
    write_config,
)
from tests.support.writer_lock import sqlite_writer_lock

TOKEN = "e2e-token"
BATCH = 12  # concurrent requests held in one group commit


@contextmanager
def _serve(config: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`onwatch serve` with one worker of 32 threads; SIGKILL to its group at the end."""
    args = ["serve", "--no-scheduler", "--config", str(config), "--host", "127.0.0.1"]
    args += ["--port", str(port), "--workers", "1", "--threads", "32"]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            onwatch_command(*args),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: get_json(f"{base}/healthz", timeout=2)[0] == 200, what="onwatch up")
        yield process
    except BaseException:
        print(log.read_text(errors="replace")[-5000:])
        raise
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Posters:
    """Threads posting bodies to the webhook; who got which answer (None: no answer)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: dict[str, int | None] = {}
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def post(self, names: list[str]) -> None:
        """Post each name's group from its own thread, all at once."""
        for name in names:
            thread = threading.Thread(target=self._one, args=(name,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _one(self, name: str) -> None:
        try:
            status, _ = post_json(self.url, group(name), TOKEN, timeout=20)
        except OSError:  # the server died before answering
            status = None
        with self.lock:
            self.answers[name] = status

    def join(self) -> None:
        for thread in self.threads:
            thread.join(30)

    def answered(self) -> set[str]:
        with self.lock:
            return {name for name, status in self.answers.items() if status == 200}


def _stored(database: Path) -> dict[str, dict[str, Any]]:
    """By alert name: what the database holds of each group's incident."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT i.id, json_extract(i.group_labels, '$.alertname'), "
            "(SELECT count(*) FROM alert a WHERE a.incident_id = i.id), "
            "(SELECT count(*) FROM timeline_entry t WHERE t.incident_id = i.id "
            " AND t.kind = 'incident_opened'), "
            "(SELECT count(*) FROM outbox_message m WHERE m.incident_id = i.id "
            " AND m.action = 'trigger') "
            "FROM incident i"
        ).fetchall()
    finally:
        connection.close()
    stored: dict[str, dict[str, Any]] = {}
    for incident_id, name, alerts, opened, pages in rows:
        assert name not in stored, f"two incidents for group {name}"
        stored[name] = {"id": incident_id, "alerts": alerts, "opened": opened, "pages": pages}
    return stored


def _assert_whole(stored: dict[str, dict[str, Any]]) -> None:
    """Every stored incident was written by one whole request: never half of one."""
    for name, incident in stored.items():
        assert incident["alerts"] == 1, (name, incident)
        assert incident["opened"] == 1, (name, incident)
        assert incident["pages"] >= 1, (name, incident)  # the outbox, same transaction


def _shared_commits(base: str) -> float:
    """Commits that served more than one request, from onwatch's /metrics."""
    _, text = get_text(f"{base}/metrics")
    samples = {}
    for line in text.splitlines():
        if line.startswith("onwatch_store_write_batch_size_"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return (
        samples["onwatch_store_write_batch_size_count"]
        - samples['onwatch_store_write_batch_size_bucket{le="1.0"}']
    )


def test_kill_during_group_commit_loses_nothing_answered(tmp_path: Path) -> None:
    database = tmp_path / "onwatch.db"
    with FakePagerDuty() as fake:
        config = paging_config(fake)
        extra = "".join(f"{key}: {json.dumps(value)}\n" for key, value in config.items())
        config_path = write_config(
            tmp_path / "onwatch.yaml", f"sqlite:///{database}", bearer_token=TOKEN, extra=extra
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/api/v1/alertmanager"
        log = tmp_path / "serve.log"
        everything: list[str] = []

        with _serve(config_path, port, log) as server:
            # Requests that arrive together are committed together.
            together = Posters(url)
            names = [f"Together{n}" for n in range(BATCH)]
            everything += names
            with sqlite_writer_lock(database):
                together.post(names)
                time.sleep(1.0)  # all of them are waiting for the one writer now
            together.join()
            assert together.answered() == set(names)
            assert _shared_commits(base) >= 1

            # Killed while a group commit waits for the writer lock: nobody is answered.
            held = Posters(url)
            held_names = [f"Held{n}" for n in range(BATCH)]
            everything += held_names
            with sqlite_writer_lock(database):
                held.post(held_names)
                time.sleep(1.0)
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
            held.join()
            assert held.answered() == set()

        stored = _stored(database)
        assert not set(held_names) & set(stored)
        assert set(names) <= set(stored)

        with _serve(config_path, port, log) as server:
            # Killed under load, wherever the writer is: in a batch, committing, answering.
            load = Posters(url)
            load_names = [f"Load{n}" for n in range(400)]
            everything += load_names
            stop = threading.Event()

            def feed() -> None:
                for start in range(0, len(load_names), 16):
                    if stop.is_set():
                        return
                    load.post(load_names[start : start + 16])
                    time.sleep(0.01)

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            wait_for(lambda: len(load.answered()) >= 60, timeout=60, what="60 answers")
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
            stop.set()
            feeder.join(30)
            load.join()

        stored = _stored(database)
        _assert_whole(stored)
        answered = together.answered() | load.answered()
        assert answered <= set(stored), "answered 200 but not stored"
        assert len(load.answered()) < len(load.answers)  # the kill did cut requests off

        # Alertmanager retries whatever got no 200: each group ends with exactly one incident.
        with _serve(config_path, port, log):
            for name in everything:
                if name in answered:
                    continue
                status, body = post_json(url, group(name), TOKEN)
                assert status == 200, body
        stored = _stored(database)
        _assert_whole(stored)
        assert set(stored) == set(everything)
