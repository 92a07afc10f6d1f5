"""`onwatch serve` tends its scheduler process: restarted when it dies, with a back-off that
grows while it keeps dying, told whose lease it may take at once, and stopped with serve.

The gunicorn master drives `SchedulerSupervisor` (on SIGCHLD and every second); here a fake
process and an injected clock drive it, so the back-off is checked without waiting for it.
(tests/e2e/test_scheduler_supervision.py kills real processes.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from receiver.server import (
    RESTART_FIRST_DELAY_S,
    RESTART_MAX_DELAY_S,
    RESTART_RESET_AFTER_S,
    SchedulerSupervisor,
)

COMMAND = ["onwatch", "scheduler", "--config", "onwatch.yaml"]


class FakeProcess:
    """What the supervisor uses of a `subprocess.Popen`."""

    def __init__(self, argv: list[str], pid: int) -> None:
        self.argv, self.pid = argv, pid
        self.returncode: int | None = None
        self.signals: list[str] = []
        self.stubborn = False  # ignores SIGTERM

    def poll(self) -> int | None:
        return self.returncode

    def die(self, returncode: int = -signal.SIGKILL) -> None:
        self.returncode = returncode

    def terminate(self) -> None:
        self.signals.append("TERM")
        if not self.stubborn:
            self.returncode = -signal.SIGTERM

    def kill(self) -> None:
        self.signals.append("KILL")
        self.returncode = -signal.SIGKILL

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            raise subprocess.TimeoutExpired("onwatch scheduler", timeout or 0)
        return self.returncode


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def spawned() -> list[FakeProcess]:
    return []


@pytest.fixture
def supervisor(clock: Clock, spawned: list[FakeProcess]) -> SchedulerSupervisor:
    def spawn(argv: list[str]) -> FakeProcess:
        spawned.append(FakeProcess(argv, 100 + len(spawned)))
        return spawned[-1]

    return SchedulerSupervisor(COMMAND, clock=clock, spawn=spawn)  # type: ignore[arg-type]


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def test_the_scheduler_knows_its_parent_and_its_lease_name(
    supervisor: SchedulerSupervisor, spawned: list[FakeProcess]
) -> None:
    supervisor.start()
    [process] = spawned
    assert process.argv[: len(COMMAND)] == COMMAND
    assert _option(process.argv, "--parent-pid") == str(os.getpid())
    assert _option(process.argv, "--lease-holder") == supervisor.holder
    assert _option(process.argv, "--replaces") is None  # nobody died before it


def test_a_dead_scheduler_is_started_again_and_takes_its_lease(
    supervisor: SchedulerSupervisor,
    spawned: list[FakeProcess],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor.start()
    first = spawned[0]
    clock.now += 120
    first.die()
    supervisor.tend()
    assert len(spawned) == 1  # not at once: after the back-off
    assert "scheduler process (pid 100) was killed by SIGKILL after 120 s" in caplog.text

    clock.now += RESTART_FIRST_DELAY_S
    supervisor.tend()
    [_, second] = spawned
    assert _option(second.argv, "--replaces") == _option(first.argv, "--lease-holder")
    assert _option(second.argv, "--lease-holder") != _option(first.argv, "--lease-holder")
    assert "scheduler process started again (pid 101, restart 1)" in caplog.text
    supervisor.tend()
    assert len(spawned) == 2  # it lives: nothing more


def test_a_crash_loop_backs_off_and_a_long_run_resets_it(
    supervisor: SchedulerSupervisor, spawned: list[FakeProcess], clock: Clock
) -> None:
    supervisor.start()
    waits = []
    for _ in range(9):  # dies at once, every time (a broken configuration, a bad deploy)
        spawned[-1].die(2)
        supervisor.reap()
        assert supervisor.restart_at is not None
        waits.append(supervisor.restart_at - clock.now)
        clock.now = supervisor.restart_at
        supervisor.tend()
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert max(waits) == RESTART_MAX_DELAY_S

    clock.now += RESTART_RESET_AFTER_S  # this one ran for a minute: a fresh failure
    spawned[-1].die()
    supervisor.reap()
    assert supervisor.restart_at == clock.now + RESTART_FIRST_DELAY_S


def test_a_failed_spawn_is_retried_not_fatal(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[list[str]] = []

    def spawn(argv: list[str]) -> FakeProcess:
        attempts.append(argv)
        if len(attempts) == 1:
            raise OSError(11, "Resource temporarily unavailable")
        return FakeProcess(argv, 7)

    supervisor = SchedulerSupervisor(COMMAND, clock=clock, spawn=spawn)  # type: ignore[arg-type]
    supervisor.start()
    assert supervisor.process is None and "cannot start the scheduler process" in caplog.text
    clock.now += RESTART_FIRST_DELAY_S
    supervisor.tend()
    assert supervisor.process is not None and len(attempts) == 2


def test_stopping_stops_the_scheduler_and_restarts_nothing(
    supervisor: SchedulerSupervisor, spawned: list[FakeProcess], clock: Clock
) -> None:
    supervisor.start()
    supervisor.stop_soon()  # gunicorn stops: SIGTERM now, alongside the workers
    assert spawned[0].signals == ["TERM"]
    clock.now += 3600
    supervisor.tend()
    assert len(spawned) == 1
    supervisor.stop()
    assert spawned[0].poll() is not None


def test_a_scheduler_that_ignores_sigterm_is_killed(
    supervisor: SchedulerSupervisor, spawned: list[FakeProcess]
) -> None:
    supervisor.start()
    spawned[0].stubborn = True
    supervisor.stop()
    assert spawned[0].signals == ["TERM", "KILL"]


def test_a_scheduler_started_by_serve_follows_its_parent() -> None:
    # In a child process: the prctl call would otherwise tie this test run to its own parent.
    probe = (
        "import os, sys\n"
        "from receiver.jobs.parent import ask_for_signal_on_parent_death, follow_parent\n"
        "alive = follow_parent(os.getppid())\n"
        "orphaned = follow_parent(os.getppid() + 100000)\n"
        "print(alive(), orphaned(), ask_for_signal_on_parent_death())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    linux = sys.platform.startswith("linux")
    assert result.stdout.split() == ["True", "False", str(linux)], result.stderr
    assert "its onwatch serve process" in result.stderr  # the orphan says why it stops
