"""Helpers for tests that run real servers on loopback: onwatch under gunicorn, a real
Alertmanager (tests/support/alertmanager-harness.sh), a TCP proxy that can cut a database off,
fresh PostgreSQL databases and small JSON HTTP clients.

No test functions live here. Every helper that starts a process or a thread stops it again,
also when the test fails, and shows that process's log when something went wrong.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.support.paths import HARNESS, REPO_ROOT

READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------------------------
# Small things


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], *, timeout: float = 30.0, step: float = 0.2, what: str = ""
) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds.

    On timeout the AssertionError shows the last value (or exception) seen, which usually
    says what was still missing.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = condition()
        except Exception as exc:  # e.g. a 503 while a server settles: keep polling
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what or condition}; last seen: {last!r}"
            )
        time.sleep(step)


# --------------------------------------------------------------------------------------------
# JSON over HTTP (urllib only)


def _request(
    method: str, url: str, data: bytes | None, token: str | None, timeout: float
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    if not raw:
        return status, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def get_json(url: str, token: str | None = None, *, timeout: float = 10.0) -> tuple[int, Any]:
    """GET `url`; (status, decoded JSON body) also for error answers."""
    return _request("GET", url, None, token, timeout)


def post_json(
    url: str, body: Any, token: str | None = None, *, timeout: float = 10.0
) -> tuple[int, Any]:
    """POST `body` (bytes are sent as they are, anything else as JSON); (status, JSON body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return _request("POST", url, data, token, timeout)


def get_text(url: str, *, timeout: float = 10.0) -> tuple[int, str]:
    """GET `url` as text (for /metrics)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def list_incidents(base_url: str, status: str | None = None) -> list[dict[str, Any]]:
    """Every incident (one page of up to 500, newest first), optionally by status."""
    query = f"?limit=500&status={status}" if status else "?limit=500"
    code, body = get_json(f"{base_url}/api/v1/incidents{query}")
    assert code == 200, f"GET /api/v1/incidents{query}: {code} {body}"
    assert body["next"] is None, "more than one page of incidents"
    return list(body["incidents"])


def incident_detail(base_url: str, incident_id: int) -> dict[str, Any]:
    """One incident with its `alerts` and `timeline`."""
    code, body = get_json(f"{base_url}/api/v1/incidents/{incident_id}")
    assert code == 200, f"GET /api/v1/incidents/{incident_id}: {code} {body}"
    return dict(body)


# --------------------------------------------------------------------------------------------
# Configuration and databases


def write_config(
    path: Path, database_url: str, *, bearer_token: str | None = "e2e-token", extra: str = ""
) -> Path:
    """Write an onwatch configuration file; `bearer_token=None` leaves the webhook open."""
    lines = ["database:", f"  url: {json.dumps(database_url)}"]
    if bearer_token is not None:
        lines += ["webhook:", f"  bearer_token: {json.dumps(bearer_token)}"]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def onwatch_command(*args: str) -> list[str]:
    """`onwatch ARGS...` run with this interpreter (the package is installed in its venv)."""
    return [sys.executable, "-m", "receiver.cli", *args]


def run_onwatch(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run a short onwatch command to completion and capture its output."""
    return subprocess.run(
        onwatch_command(*args),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def db_upgrade(config_path: Path) -> None:
    """`onwatch db upgrade --config PATH`, which PostgreSQL needs before `onwatch serve`."""
    result = run_onwatch("db", "upgrade", "--config", str(config_path))
    assert result.returncode == 0, (
        f"onwatch db upgrade failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_database(admin_url: str, prefix: str = "onwatch_e2e") -> Iterator[str]:
    """Create `<prefix>_<random>` on the server of `admin_url`; yield its SQLAlchemy URL
    (postgresql+psycopg://...) and drop it again (WITH (FORCE): servers may still be
    connected when a test fails)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def backend_config(
    backend: str,
    tmp_path: Path,
    *,
    postgres_admin_url: Callable[[], str],
    bearer_token: str | None = "e2e-token",
) -> Iterator[Path]:
    """A ready-to-serve config file on `backend` ("sqlite" or "postgresql").

    SQLite: a new file under `tmp_path` (`onwatch serve` migrates it itself). PostgreSQL: a
    fresh database, migrated with `onwatch db upgrade`, dropped afterwards.
    `postgres_admin_url` is called only for PostgreSQL (it may skip the test).
    """
    config = tmp_path / f"onwatch-{backend}.yaml"
    if backend == "sqlite":
        yield write_config(
            config, f"sqlite:///{tmp_path / 'onwatch.db'}", bearer_token=bearer_token
        )
        return
    assert backend == "postgresql", backend
    with fresh_postgres_database(postgres_admin_url()) as url:
        write_config(config, url, bearer_token=bearer_token)
        db_upgrade(config)
        yield config


# --------------------------------------------------------------------------------------------
# onwatch under gunicorn


def _show_log(title: str, *paths: Path) -> None:
    # Printed to stderr: pytest shows it in the report of a failed test.
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        print(
            f"\n===== {title}: {path} =====\n{text}\n===== end of {path.name} =====",
            file=sys.stderr,
        )


def _log_text(*paths: Path) -> str:
    parts = []
    for path in paths:
        with suppress(OSError):
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the gunicorn master (it stops its workers), SIGKILL its group after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
    # The process started its own session: its group holds the master and its workers only.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running_onwatch(
    config_path: Path,
    *,
    workers: int = 2,
    threads: int = 4,
    log_path: Path | None = None,
    env: dict[str, str] | None = None,
    json_logs: bool = False,
) -> Iterator[str]:
    """Run `onwatch serve` on a free loopback port until the block ends; yield its base URL.

    stderr (gunicorn's and onwatch's log) goes to `log_path` (default: next to the config),
    stdout to `<log_path>.stdout`. Ready means `/readyz` answered 200. On any failure, in
    start-up or in the test, both logs are printed so that pytest shows them.
    """
    port = free_port()
    log_path = log_path or config_path.parent / f"onwatch-{port}.log"
    out_path = log_path.with_name(log_path.name + ".stdout")
    base_url = f"http://127.0.0.1:{port}"
    command = onwatch_command(
        "serve",
        "--config",
        str(config_path),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        *(("--log-format", "json") if json_logs else ()),
    )
    with open(log_path, "wb") as err, open(out_path, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: nothing outlives the test
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"onwatch serve exited with {process.returncode} before it was ready:\n"
                    + _log_text(log_path, out_path)
                )
            with suppress(OSError):
                status, _ = get_json(f"{base_url}/readyz", timeout=2)
                if status == 200:
                    break
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"onwatch serve not ready on {base_url} after {READY_TIMEOUT_S} s:\n"
                    + _log_text(log_path, out_path)
                )
            time.sleep(0.1)
        yield base_url
    except BaseException:
        _show_log("onwatch log", log_path, out_path)
        raise
    finally:
        _stop_process(process)


# --------------------------------------------------------------------------------------------
# A real Alertmanager


@contextmanager
def running_alertmanager(
    webhook_url: str, *, bearer: str, group_by: str = "alertname,service"
) -> Iterator[str]:
    """A real Alertmanager (group_wait/group_interval 1s, send_resolved) that sends every
    notification to `webhook_url` with `Authorization: Bearer <bearer>`; yields its base URL
    (`<url>/api/v2/alerts`). The harness installs the Debian package if it is missing."""
    if not HARNESS.is_file():
        raise FileNotFoundError(f"{HARNESS} not found")
    with tempfile.TemporaryDirectory(prefix="onwatch-am-") as workdir:
        pidfile = Path(workdir) / "alertmanager.pid"
        env = {
            **os.environ,
            "AM_PIDFILE": str(pidfile),
            "WEBHOOK_URL": webhook_url,
            "WEBHOOK_BEARER": bearer,
            "AM_GROUP_BY": group_by,
        }
        env.pop("AM_PORT", None)  # always a free port
        try:
            started = subprocess.run(
                ["bash", str(HARNESS)],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,  # a first run may apt-get install the package
                check=False,
            )
            if started.returncode != 0:
                raise RuntimeError(
                    f"alertmanager-harness failed ({started.returncode}):\n{started.stderr}"
                )
            url = started.stdout.strip().splitlines()[-1]
            try:
                yield url
            except BaseException:
                with suppress(OSError):  # the harness records its work dir in $AM_PIDFILE.dir
                    am_dir = Path(Path(f"{pidfile}.dir").read_text().strip())
                    _show_log("alertmanager log", am_dir / "alertmanager.log")
                raise
        finally:
            subprocess.run(
                ["bash", str(HARNESS), "--stop"],
                env=env,
                capture_output=True,
                timeout=30,
                check=False,
            )


def post_to_alertmanager(am_url: str, alerts: list[dict[str, Any]]) -> None:
    """`POST /api/v2/alerts` (what Prometheus does); Alertmanager answers 200 with no body."""
    status, body = post_json(f"{am_url}/api/v2/alerts", alerts)
    assert status == 200, f"Alertmanager refused the alerts: {status} {body}"


# --------------------------------------------------------------------------------------------
# A TCP forwarder that can be cut


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`; `stop()` refuses new connections and cuts the
    open ones (a database that went away), `start()` serves again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._running = threading.Event()

    def __enter__(self) -> TcpProxy:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._running.set()
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    def stop(self) -> None:
        self._running.clear()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
            self._acceptor = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            connections, self._connections = self._connections, set()
        for sock in connections:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        listener = self._listener
        while self._running.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._connections.discard(source)
            source.close()  # each pump closes the socket it reads; the other pump the other


def libpq_url(sqlalchemy_url: str) -> str:
    """The same PostgreSQL URL as psycopg itself takes it."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
