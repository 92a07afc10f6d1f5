"""A local notification endpoint on 127.0.0.1: a Slack incoming webhook or any JSON webhook.

Real notifiers POST to it over HTTP. It records every request and answers 200 `ok` (what
Slack answers), or what a test scripts: `answer(status, body, headers)` for the next
request(s), `slack_error("no_service")` for Slack's own error answers, `set_down(True)` to
close the listening socket so connections are refused. No test functions live here.
`with NotifyServer() as server:` starts it and always stops it, joining every thread.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.loopback import LoopbackServer

SLACK_PATH = "/services/T0000000/B0000000/s3cretWebhookToken0000000"
# Slack's incoming-webhook errors: the plain-text body and the status it comes with.
SLACK_ERRORS = {
    "invalid_payload": 400,
    "no_text": 400,
    "too_many_attachments": 400,
    "invalid_token": 403,
    "action_prohibited": 403,
    "posting_to_general_channel_denied": 403,
    "no_service": 404,
    "channel_not_found": 404,
    "channel_is_archived": 410,
    "rollup_error": 500,
}


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    raw: bytes

    @property
    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.raw)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


OK = Answer(200, b"ok", (("Content-Type", "text/plain"),))


class NotifyServer(LoopbackServer):
    """A scripted HTTP endpoint on loopback; a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: deque[Answer] = deque()
        self._received: list[Received] = []
        super().__init__()

    def _build(self, port: int) -> ThreadingHTTPServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = False  # join request threads on close: nothing left behind
        return server

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def slack_url(self) -> str:
        """A URL shaped like a Slack incoming webhook's (its path is the secret)."""
        return self.base_url + SLACK_PATH

    @property
    def hook_url(self) -> str:
        return self.base_url + "/hooks/onwatch"

    @property
    def received(self) -> list[Received]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._received)

    def answer(
        self,
        status: int,
        body: str | bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with `status` and `body` (then 200 `ok` again)."""
        data = body.encode() if isinstance(body, str) else body
        scripted = Answer(status, data, tuple((headers or {}).items()))
        with self._lock:
            self._answers.extend([scripted] * times)

    def slack_error(self, error: str, *, times: int = 1) -> None:
        """Answer like Slack does for `error`: its status, the error string as the body."""
        self.answer(SLACK_ERRORS[error], error, {"Content-Type": "text/plain"}, times=times)

    def _handle(self, received: Received) -> Answer:
        with self._lock:
            self._received.append(received)
            return self._answers.popleft() if self._answers else OK


class _Handler(BaseHTTPRequestHandler):
    server_owner: NotifyServer
    protocol_version = "HTTP/1.0"  # one request a connection: stopping never waits on a client

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server_owner._handle(Received(self.command, self.path, headers, raw))
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output stays readable
