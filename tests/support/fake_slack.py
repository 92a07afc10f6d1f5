"""A fake Slack Web API on 127.0.0.1 that slack_sdk's WebClient talks to over HTTP.

It keeps channels and users, answers the methods onwatch calls with Slack's shapes and error
strings, records every call (and every POST to a `response_url` it hands out), and can
misbehave on request: `fail_next(n, status, error, retry_after)` answers the next n API calls
with an error (429 `ratelimited` with Retry-After, 500, ...), `refuse(method, error)` makes one
method fail for good (`missing_scope`, `channel_not_found`), `taken` holds channel names made
by hand (`name_taken`), `make_channel` makes one as someone (or the bot) at some time,
`lose_next_create(status)` makes the next `conversations.create` make its channel and then
answer `status` as if the answer were lost, and `set_down(True)` refuses connections. The bot
is `BOT_USER` (`auth.test`); `conversations.list` pages `page_size` channels at a time. No
test functions here.
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
BOT_USER = "UONWATCHBOT"


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
    creator: str = BOT_USER
    created: int = 0  # Unix seconds, as Slack gives it


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
        self._lost_creates: list[int] = []
        self.page_size = 100
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

    def lose_next_create(self, status: int = 500) -> None:
        """The next `conversations.create` makes its channel, then answers `status` with
        `internal_error`: the answer was lost, as on a timeout."""
        with self._lock:
            self._lost_creates.append(status)

    def make_channel(self, name: str, *, creator: str, created: float) -> FakeChannel:
        """A channel that exists already, made by `creator` at `created` (Unix seconds)."""
        with self._lock:
            channel = FakeChannel(f"C{next(self._ids):08d}", name, False)
            channel.creator, channel.created = creator, int(created)
            self.channels[channel.id] = channel
            return channel

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
            lost = (
                self._lost_creates.pop(0)
                if method == "conversations.create" and answer.get("ok") and self._lost_creates
                else None
            )
        if lost is not None:
            return self._record(method, args, lost, {"ok": False, "error": "internal_error"}, {})
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
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BONWATCH"}
        if method == "views.open":
            if not args.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            return {"ok": True, "view": {"id": f"V{next(self._ids):08d}", **args["view"]}}
        if method == "conversations.list":
            return self._list(args)
        if method == "conversations.create":
            name = str(args.get("name", ""))
            if name in self.taken or any(c.name == name for c in self.channels.values()):
                return {"ok": False, "error": "name_taken"}
            private = str(args.get("is_private")).lower() in ("true", "1")
            channel = FakeChannel(
                f"C{next(self._ids):08d}", name, private, created=int(time.time())
            )
            self.channels[channel.id] = channel
            return {"ok": True, "channel": self._shown(channel)}
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
            ts = f"{1_800_000_000 + next(self._ids)}.000100"
            channel.messages.append({**args, "ts": ts})
            return {"ok": True, "channel": channel.id, "ts": ts}
        elif method == "chat.update":
            message = next((m for m in channel.messages if m["ts"] == args.get("ts")), None)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.update(text=args.get("text", ""), blocks=args.get("blocks"))
        elif method == "conversations.archive":
            if channel.archived:
                return {"ok": False, "error": "already_archived"}
            channel.archived = True
        else:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, "channel": {"id": channel.id}}

    @staticmethod
    def _shown(channel: FakeChannel) -> dict[str, Any]:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_private": channel.is_private,
            "is_archived": channel.archived,
            "creator": channel.creator,
            "created": channel.created,
        }

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.list: by types, exclude_archived, paged by an opaque cursor."""
        types = str(args.get("types") or "public_channel").split(",")
        wanted = [
            c
            for c in self.channels.values()
            if ("private_channel" if c.is_private else "public_channel") in types
            and not (c.archived and str(args.get("exclude_archived")).lower() in ("true", "1"))
        ]
        start = int(str(args.get("cursor") or "0"))
        size = min(int(str(args.get("limit") or 100)), self.page_size)
        page = wanted[start : start + size]
        after = str(start + size) if start + size < len(wanted) else ""
        return {
            "ok": True,
            "channels": [self._shown(c) for c in page],
            "response_metadata": {"next_cursor": after},
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack

    def do_GET(self) -> None:  # noqa: N802 (slack_sdk GETs conversations.list)
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers["content-type"] = "application/x-www-form-urlencoded"
        self._answer(*self.fake._handle(url.path, headers, url.query.encode()))

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._answer(*self.fake._handle(urlsplit(self.path).path, headers, body))

    def _answer(self, status: int, extra: dict[str, str], answer: dict[str, Any]) -> None:
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
