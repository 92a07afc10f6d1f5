"""Running the receiver under gunicorn: several worker processes, one shared metrics directory."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from typing import Any

from gunicorn.app.base import BaseApplication

from receiver.config.settings import Settings

# prometheus_client picks its multiprocess mode when it is first imported, so this module
# must not import it (nor receiver.metrics) at the top: `serve` sets the directory first.
MULTIPROC_ENV_VAR = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger(__name__)


class ReceiverServer(BaseApplication):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn with onwatch's app factory called in each worker after the fork.

    No app is preloaded in the master: every worker opens its own database connections.
    """

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("child_exit", _child_exit)

    def load(self) -> Any:
        from receiver.app import create_app  # in the worker, after the fork

        return create_app(self.settings)


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
) -> None:
    """Serve until stopped (SIGTERM/SIGINT), with metrics shared by all workers.

    `scheduler`, when given, is the command of the scheduler process started beside the
    workers (it shares their metrics directory) and stopped with them.
    """
    metrics_dir = tempfile.mkdtemp(prefix="onwatch-metrics-")
    # Must be set before any worker imports prometheus_client, so set it in the master now.
    os.environ[MULTIPROC_ENV_VAR] = metrics_dir
    companion = subprocess.Popen(list(scheduler)) if scheduler else None
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",  # keeps connections alive between Alertmanager's requests
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "timeout": 30,
        "graceful_timeout": 10,
        "proc_name": "onwatch",
        # gunicorn's control socket is one path per user: two onwatch servers would share it.
        "control_socket_disable": True,
    }
    try:
        ReceiverServer(settings, options).run()
    finally:
        if companion is not None:
            companion.terminate()
            try:
                companion.wait(timeout=15)
            except subprocess.TimeoutExpired:
                companion.kill()
        shutil.rmtree(metrics_dir, ignore_errors=True)
