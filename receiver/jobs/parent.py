"""A scheduler started by `onwatch serve` lives and dies with it.

Without this, a `kill -9` of the gunicorn master leaves its scheduler running as an orphan
(parent pid 1) that holds the lease: the restarted `serve`'s own scheduler waits for ever
while the orphan pages on with the old configuration. Two mechanisms, because either alone
has a gap: on Linux the kernel sends SIGTERM the moment the parent dies (prctl
PR_SET_PDEATHSIG); everywhere, the run loop also compares `os.getppid()` with the parent's
pid each round, which covers other platforms and a parent that died before the prctl call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def ask_for_signal_on_parent_death(signum: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # no libc or no prctl: the poll below still works
        return False


def follow_parent(parent_pid: int) -> Callable[[], bool]:
    """Tie this process to `parent_pid`; a check that answers False once the parent is gone.

    Call it first thing: when the parent is already gone (it died before the prctl call
    could cover it), the returned check answers False at once.
    """
    ask_for_signal_on_parent_death()

    def parent_alive() -> bool:
        if os.getppid() == parent_pid:
            return True
        log.warning(
            "scheduler: its onwatch serve process (pid %d) is gone; stopping and releasing "
            "the lease",
            parent_pid,
        )
        return False

    return parent_alive
