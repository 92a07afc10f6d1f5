"""Running the receiver under gunicorn: several worker processes, one shared metrics
directory, and the scheduler process beside them, restarted when it dies.

Why the gunicorn master supervises the scheduler: every page and notification is delivered
by that one process. If it dies and nobody notices, incidents open, /healthz answers and
nothing is paged. gunicorn's arbiter already wakes on SIGCHLD and every second to keep its
workers alive; the scheduler is tended in the same loop, restarted after a back-off that
grows while it keeps dying (a crash loop must not spin), and told which dead holder's lease
it may take at once instead of waiting for it to expire.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from gunicorn import glogging
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker

from receiver.config.settings import Settings

# prometheus_client picks its multiprocess mode when it is first imported, so this module
# must not import it (nor receiver.metrics) at the top: `serve` sets the directory first.
MULTIPROC_ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger(__name__)

# The scheduler's restart back-off: the first restart comes quickly (pages are waiting), each
# quick death doubles the wait up to the cap, and a run this long resets it.
RESTART_FIRST_DELAY_S = 1.0
RESTART_MAX_DELAY_S = 60.0
RESTART_RESET_AFTER_S = 60.0
SCHEDULER_STOP_TIMEOUT_S = 15.0
# How long a thread may keep the GIL while another wants it (Python's default is 5 ms).
SWITCH_INTERVAL_S = 0.0005
# gunicorn's own error answers carry the parser's message; keep a hostile request's echo short.
ERROR_MESSAGE_MAX = 300


def is_loopback_host(host: str) -> bool:
    """True when listening on `host` (`serve --host`) is reachable from this machine only.

    `localhost`, 127.0.0.0/8 and ::1 are; so is a name every address of which is loopback.
    Everything else, the wildcard addresses (`0.0.0.0`, `::`, empty) first, is not.
    """
    name = host.strip().strip("[]")
    if not name:
        return False
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(str(address).split("%", 1)[0]).is_loopback for address in addresses
    )


def cannot_listen(host: str, port: int) -> str | None:
    """Why `serve` cannot listen on host:port (a port in use, say), or None.

    A bind test before gunicorn starts: gunicorn itself retries a busy port for seconds and
    prints tracebacks, and the scheduler process must not start for a server that cannot.
    """
    where = f"{host or '*'}:{port}"
    try:
        infos = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as exc:
        return f"cannot listen on {where}: {getattr(exc, 'strerror', None) or exc}"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            return f"cannot listen on {where}: {reason}"
    return None


# --------------------------------------------------------------------------------------------
# gunicorn's own error answers, as JSON


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error` with onwatch's error body: `{"error": "..."}`.

    gunicorn answers a request it cannot parse (bad request line or header, URL too long)
    before Flask sees it, with an HTML page; every other error onwatch gives is JSON, and
    clients (Alertmanager's log, scripts) should not have to tell the two apart.
    """
    if status_int >= 500 and not mesg:
        message = "internal error: see the onwatch log"
    else:
        message = mesg or reason
    if len(message) > ERROR_MESSAGE_MAX:
        message = message[:ERROR_MESSAGE_MAX] + "..."
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1")
    gunicorn_util.write_nonblock(sock, head + body)


class JsonErrorWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's gthread worker whose own error answers are JSON, like Flask's.

    gunicorn's `Worker.handle_error` picks the status and message for each parser error and
    writes them through `gunicorn.util.write_error`; in this worker process that function
    writes `write_json_error`'s JSON instead, so the status mapping stays gunicorn's own.
    """

    def init_process(self) -> None:
        gunicorn_util.write_error = write_json_error  # this worker process only (after fork)
        # The thread leading a group commit (receiver/store/group_commit.py) gives up the GIL
        # in every SQLite call and, with Python's default 5 ms switch interval, may wait that
        # long to get it back from a thread parsing a request, with the write lock held.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        super().init_process()


# --------------------------------------------------------------------------------------------
# The scheduler process, supervised by the gunicorn master


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with status {returncode}"


class SchedulerSupervisor:
    """Starts `onwatch scheduler` beside the workers and starts it again when it dies.

    Each process gets its own lease holder name; when one dies, the next is told that name
    (`--replaces`), so it takes the lease at once rather than after the lease's TTL: the
    master reaped the dead process, so nobody can still be renewing that lease. The child is
    also given the master's pid (`--parent-pid`): it exits, releasing the lease, when the
    master is gone, instead of paging on as an orphan with an old configuration.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[list[str]], subprocess.Popen[bytes]] | None = None,
    ) -> None:
        self.command = list(command)
        self.clock = clock
        self._spawn = spawn or (lambda argv: subprocess.Popen(argv))
        self.process: subprocess.Popen[bytes] | None = None
        self.holder = ""
        self.started_at = 0.0
        self.delay = RESTART_FIRST_DELAY_S
        self.restart_at: float | None = None
        self.dead_holder: str | None = None
        self.restarts = 0
        self.stopping = False

    def _holder(self) -> str:
        return f"{socket.gethostname()}:serve-{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def start(self) -> None:
        """Start the scheduler process (in the gunicorn master, once it listens)."""
        if self.stopping:
            return
        self.holder = self._holder()
        argv = [*self.command, "--parent-pid", str(os.getpid()), "--lease-holder", self.holder]
        if self.dead_holder:
            argv += ["--replaces", self.dead_holder]
        self.restart_at = None
        try:
            self.process = self._spawn(argv)
        except OSError as exc:  # out of processes or memory: the master must not die of it
            self.restart_at = self.clock() + self.delay
            log.error(
                "cannot start the scheduler process (%s); trying again in %.0f s", exc, self.delay
            )
            self.delay = min(self.delay * 2, RESTART_MAX_DELAY_S)
            return
        self.started_at = self.clock()
        if self.restarts:
            log.warning(
                "scheduler process started again (pid %d, restart %d)",
                self.process.pid,
                self.restarts,
            )

    def reap(self) -> None:
        """Notice the scheduler's death (on SIGCHLD, before gunicorn reaps every child)."""
        process = self.process
        if process is None or self.stopping or process.poll() is None:
            return
        self.process = None
        self.dead_holder = self.holder
        lived = self.clock() - self.started_at
        if lived >= RESTART_RESET_AFTER_S:
            self.delay = RESTART_FIRST_DELAY_S
        self.restart_at = self.clock() + self.delay
        log.error(
            "scheduler process (pid %d) %s after %.0f s: no page or notification is sent "
            "until it is back; starting it again in %.0f s",
            process.pid,
            _describe_exit(process.returncode or 0),
            lived,
            self.delay,
        )
        self.delay = min(self.delay * 2, RESTART_MAX_DELAY_S)

    def tend(self) -> None:
        """Restart the scheduler once its back-off has passed (every turn of the master)."""
        self.reap()
        if self.restart_at is not None and self.clock() >= self.restart_at:
            self.restarts += 1
            self.start()

    def stop_soon(self) -> None:
        """Ask the scheduler to stop (SIGTERM: it releases the lease); no restart after this."""
        self.stopping = True
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        """Stop the scheduler and wait for it (SIGKILL after `SCHEDULER_STOP_TIMEOUT_S`)."""
        self.stop_soon()
        process = self.process
        if process is None:
            return
        try:
            process.wait(timeout=SCHEDULER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("scheduler process (pid %d) did not stop: killing it", process.pid)
            process.kill()
            process.wait(timeout=SCHEDULER_STOP_TIMEOUT_S)


class _ReceiverArbiter(Arbiter):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's master, which also tends the scheduler process (if any)."""

    def __init__(self, app: Any, supervisor: SchedulerSupervisor | None) -> None:
        self.supervisor = supervisor
        super().__init__(app)

    def start(self) -> None:
        super().start()  # listening: a server that cannot bind starts no scheduler
        if self.supervisor is not None:
            self.supervisor.start()

    def reap_workers(self) -> None:
        # gunicorn's waitpid(-1) reaps every child, the scheduler too, and drops its status:
        # look at the scheduler first (as gunicorn does for its own dirty arbiter).
        if self.supervisor is not None:
            self.supervisor.reap()
        super().reap_workers()

    def manage_workers(self) -> None:
        super().manage_workers()
        if self.supervisor is not None:
            self.supervisor.tend()

    def stop(self, graceful: bool = True) -> None:
        if self.supervisor is not None:
            self.supervisor.stop_soon()  # stops alongside the workers, not after them
        super().stop(graceful)


class JsonGunicornLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's own log lines (`gunicorn.error`) as JSON lines, for `--log-format json`."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from receiver.logevents import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


class ReceiverServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn with onwatch's app factory called in each worker after the fork.

    No app is preloaded in the master: every worker opens its own database connections.
    """

    def __init__(
        self,
        settings: Settings,
        options: dict[str, Any],
        supervisor: SchedulerSupervisor | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.supervisor = supervisor
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("child_exit", _child_exit)

    def load(self) -> Any:
        from receiver.app import create_app  # in the worker, after the fork
        from receiver.rota.warm_up import warm_up_in_background

        app = create_app(self.settings)
        warm_up_in_background(app)  # far "who is on call" questions answered from memory
        return app

    def run(self) -> None:
        """gunicorn's `BaseApplication.run`, with the arbiter that tends the scheduler."""
        try:
            _ReceiverArbiter(self, self.supervisor).run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)


def _child_exit(_server: Any, worker: Any) -> None:
    # A dead worker's live gauges must stop counting; its counters stay summed.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    scheduler: Sequence[str] = (),
    log_format: str = "text",
) -> None:
    """Serve until stopped (SIGTERM/SIGINT), with metrics shared by all workers.

    `scheduler`, when given, is the command of the scheduler process started beside the
    workers (it shares their metrics directory), restarted when it dies and stopped with
    them.
    """
    metrics_dir = tempfile.mkdtemp(prefix="onwatch-metrics-")
    # Must be set before any worker imports prometheus_client, so set it in the master now.
    os.environ[MULTIPROC_ENV_VAR] = metrics_dir
    supervisor = SchedulerSupervisor(scheduler) if scheduler else None
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # gthread keeps connections alive between Alertmanager's requests; this subclass
        # answers gunicorn's own errors (unparseable requests) as JSON.
        "worker_class": f"{__name__}.JsonErrorWorker",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "timeout": 30,
        "graceful_timeout": 10,
        "proc_name": "onwatch",
        # gunicorn's control socket is one path per user: two onwatch servers would share it.
        "control_socket_disable": True,
    }
    if log_format == "json":
        options["logger_class"] = f"{__name__}.JsonGunicornLogger"
    try:
        ReceiverServer(settings, options, supervisor).run()
    finally:
        if supervisor is not None:
            supervisor.stop()
        shutil.rmtree(metrics_dir, ignore_errors=True)
