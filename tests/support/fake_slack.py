"""A fake Slack Web API on 127.0.0.1 that slack_sdk's WebClient talks to over HTTP.

It keeps channels and users, answers the methods onwatch calls with Slack's shapes and error
strings, records every call (and every POST to a `response_url` it hands out), and can
misbehave on request: `fail_next(n, status, error, retry_after)` answers the next n API calls
with an error (429 `ratelimited` with Retry-After, 500, ...), `refuse(method, error)` makes one
method fail for good (`missing_scope`, `channel_not_found`), `taken` holds channel names made
by hand (`name_taken`), and `set_down(True)` refuses connections. No test functions here.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer

BOT_TOKEN = "xoxb-fake-bot-token"
SIGNING_SECRET = "fake-signing-secret"


@dataclass(frozen=True)
class Call:
    """One API call as the fake saw it, and what it answered."""

    method: str  # "conversations.create", or "response_url" for a POST to one
    args: dict[str, Any]
    status: int
    answer: dict[str, Any]


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool
    topic: str = ""
    purpose: str = ""
    members: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)
    archived: bool = False


class FakeSlack(LoopbackServer):
    """A local Slack Web API; a context manager."""

    def __init__(self, *, users: dict[str, str] | None = None) -> None:
        super().__init__()
        self.users = dict(users or {})  # e-mail -> user id
        self.channels: dict[str, FakeChannel] = {}  # by id
        self.taken: set[str] = set()  # names of channels made by hand
        self._calls: list[Call] = []
        self._failures: list[tuple[int, str, str | None]] = []
        self._refusals: dict[str, str] = {}
        self._delays: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # ---- what tests read and script

    @property
    def base_url(self) -> str:
        """What `chat.slack.base_url` points at."""
        return f"http://127.0.0.1:{self._port}/api/"

    @property
    def response_url(self) -> str:
        """A URL to hand out as a command's `response_url`."""
        return f"http://127.0.0.1:{self._port}/response/1"

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def called(self, method: str) -> list[Call]:
        """The calls of one method, oldest first (successful or not)."""
        return [call for call in self.calls if call.method == method]

    def ok(self, method: str) -> list[Call]:
        """The successful calls of one method."""
        return [call for call in self.called(method) if call.answer.get("ok")]

    def channel_named(self, name: str) -> FakeChannel | None:
        with self._lock:
            return next((c for c in self.channels.values() if c.name == name), None)

    def fail_next(
        self,
        times: int,
        status: int = 500,
        error: str = "internal_error",
        retry_after: str | None = None,
    ) -> None:
        """Answer the next `times` API calls with `status` and Slack's `error`."""
        with self._lock:
            self._failures += [(status, error, retry_after)] * times

    def refuse(self, method: str, error: str) -> None:
        """Make `method` fail for good with `error` (200, ok: false, as Slack does)."""
        with self._lock:
            self._refusals[method] = error

    def slow(self, method: str, seconds: float) -> None:
        """Make `method` answer only after `seconds` (a slow Slack)."""
        with self._lock:
            self._delays[method] = seconds

    # ---- the server

    def _build(self, port: int) -> ThreadingHTTPServer:
        owner = self

        class Handler(_Handler):
            fake = owner

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = False
        return server

    def _handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json"):
            args = json.loads(body or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if path.startswith("/response/"):
            return self._record("response_url", args, 200, {"ok": True}, {})
        method = path.removeprefix("/api/")
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            refusal = self._refusals.get(method)
            delay = self._delays.get(method, 0.0)
        time.sleep(delay)
        if failure is not None:
            status, error, retry_after = failure
            extra = {"Retry-After": retry_after} if retry_after else {}
            return self._record(method, args, status, {"ok": False, "error": error}, extra)
        if headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return self._record(method, args, 200, {"ok": False, "error": "not_authed"}, {})
        if refusal is not None:
            return self._record(method, args, 200, {"ok": False, "error": refusal}, {})
        with self._lock:
            answer = self._answer(method, args)
        return self._record(method, args, 200, answer, {})

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        status: int,
        answer: dict[str, Any],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self._calls.append(Call(method, args, status, answer))
        return status, headers, answer

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "users.lookupByEmail":
            user = self.users.get(str(args.get("email")))
            return (
                {"ok": True, "user": {"id": user}}
                if user
                else {"ok": False, "error": "users_not_found"}
            )
        if method == "users.info":
            wanted = str(args.get("user"))
            email = next((e for e, user in self.users.items() if user == wanted), None)
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": wanted, "profile": {"email": email}}}
        if method == "conversations.create":
            name = str(args.get("name", ""))
            if name in self.taken or any(c.name == name for c in self.channels.values()):
                return {"ok": False, "error": "name_taken"}
            private = str(args.get("is_private")).lower() in ("true", "1")
            channel = FakeChannel(f"C{next(self._ids):08d}", name, private)
            self.channels[channel.id] = channel
            return {"ok": True, "channel": {"id": channel.id, "name": name}}
        channel = self.channels.get(str(args.get("channel", "")))
        if method == "chat.postMessage" and channel is None:
            named = str(args.get("channel", "")).lstrip("#")
            channel = next((c for c in self.channels.values() if c.name == named), None)
            if channel is None:  # an announcement channel the test did not make: it exists
                channel = FakeChannel(f"C{next(self._ids):08d}", named, False)
                self.channels[channel.id] = channel
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.archived and method != "conversations.archive":
            return {"ok": False, "error": "is_archived"}
        if method == "conversations.setTopic":
            channel.topic = str(args.get("topic", ""))
        elif method == "conversations.setPurpose":
            channel.purpose = str(args.get("purpose", ""))
        elif method == "conversations.invite":
            users = set(str(args.get("users", "")).split(","))
            if users <= channel.members:
                return {"ok": False, "error": "already_in_channel"}
            channel.members |= users
        elif method == "chat.postMessage":
            channel.messages.append(dict(args))
        elif method == "conversations.archive":
            if channel.archived:
                return {"ok": False, "error": "already_archived"}
            channel.archived = True
        else:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, "channel": {"id": channel.id}}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, answer = self.fake._handle(urlsplit(self.path).path, headers, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass
