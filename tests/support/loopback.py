"""A test server's life on 127.0.0.1: a socketserver in a thread, stopped with every thread
joined, able to go down and come back on the same port. The fake PagerDuty, the notification
endpoint and the SMTP server differ only in what they answer."""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Subclasses build their socketserver in `_build(port)`; this runs and stops it."""

    def __init__(self) -> None:
        self._port = 0
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None

    def _build(self, port: int) -> socketserver.BaseServer:
        raise NotImplementedError

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 (the same port again after `set_down(False)`)."""
        server = self._build(self._port)
        self._port = server.server_address[1]  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join every thread."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def is_down(self) -> bool:
        """True while connections are refused."""
        return self._server is None

    def set_down(self, down: bool) -> None:
        """Refuse connections (listening socket closed), or listen again on the same port."""
        if down and not self.is_down:
            self.stop()
        elif not down and self.is_down:
            self.start()
