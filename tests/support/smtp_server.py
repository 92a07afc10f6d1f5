"""A local SMTP server on 127.0.0.1, for the e-mail notifier: the standard library only.

It speaks the plain dialogue a mail relay speaks to smtplib (EHLO/HELO, AUTH PLAIN, MAIL
FROM, RCPT TO, DATA, RSET, NOOP, QUIT; no STARTTLS), records every message it accepts (the
envelope and the parsed e-mail) and answers what a test scripts:
`answer("mail", 451, "4.3.0 try later")` for the next MAIL FROM, `refuse("x@example.com")`
for every RCPT TO of that address, `drop("data")` to hang up instead of answering,
`stall()` to never say hello, `set_down(True)` to refuse connections. A 421 answer closes
the connection, as real servers do. No test functions live here.
`with SmtpServer() as server:` starts it and always stops it, joining every thread.
"""

from __future__ import annotations

import base64
import binascii
import socketserver
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Literal, cast

from tests.support.loopback import LoopbackServer

Stage = Literal["connect", "helo", "auth", "mail", "rcpt", "data", "message"]
STAGES: dict[str, Stage] = {
    "EHLO": "helo",
    "HELO": "helo",
    "AUTH": "auth",
    "MAIL": "mail",
    "RCPT": "rcpt",
    "DATA": "data",
}
LINE_LIMIT = 64 * 1024
IDLE_TIMEOUT_S = 5.0  # a client that says nothing for this long is hung up on
STALL_LIMIT_S = 10.0  # a stalled greeting waits at most this long (or until stop)


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    envelope_from: str
    recipients: tuple[str, ...]
    raw: bytes  # as sent, dot-unstuffed, CRLF line ends

    @property
    def message(self) -> EmailMessage:
        """The message parsed with the standard library's modern policy."""
        return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(self.raw))

    @property
    def text(self) -> str:
        """The plain-text body as a reader sees it (SMTP's CRLF line ends as newlines)."""
        return str(self.message.get_content()).replace("\r\n", "\n")


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    @property
    def closes(self) -> bool:
        return self.code == 421  # "service not available, closing transmission channel"


class SmtpServer(LoopbackServer):
    """A scripted SMTP server on loopback; a context manager."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials  # AUTH PLAIN must match these when given
        self._lock = threading.Lock()
        self._replies: dict[Stage, deque[Reply | None]] = defaultdict(deque)  # None: hang up
        self._refused: dict[str, Reply] = {}
        self._received: list[Received] = []
        self._commands: list[str] = []
        self._logins: list[tuple[str, str]] = []
        self._stalled = False
        self._stopping = threading.Event()
        super().__init__()

    def _build(self, port: int) -> socketserver.ThreadingTCPServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = False  # server_close joins the connection threads
            block_on_close = True

        self._stopping.clear()
        return Server(("127.0.0.1", port), Handler)

    def stop(self) -> None:
        """Stop serving, end stalled connections, close the socket and join every thread."""
        self._stopping.set()
        super().stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._port

    @property
    def received(self) -> list[Received]:
        """Every accepted message so far, oldest first."""
        with self._lock:
            return list(self._received)

    @property
    def commands(self) -> list[str]:
        """Every command verb so far (EHLO, MAIL, ...), over all connections."""
        with self._lock:
            return list(self._commands)

    @property
    def logins(self) -> list[tuple[str, str]]:
        """Every AUTH PLAIN (username, password) offered."""
        with self._lock:
            return list(self._logins)

    def answer(self, stage: Stage, code: int, text: str = "", *, times: int = 1) -> None:
        """Answer the next `times` commands of `stage` with `code` (then as usual again).

        "connect" is the greeting, "data" the answer to DATA (354 as usual) and "message"
        the answer after the message's final dot (250 as usual).
        """
        with self._lock:
            self._replies[stage].extend([Reply(code, text or "scripted")] * times)

    def drop(self, stage: Stage, *, times: int = 1) -> None:
        """Hang up instead of answering the next `times` commands of `stage`."""
        with self._lock:
            self._replies[stage].extend([None] * times)

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 no such mailbox") -> None:
        """Answer every RCPT TO of `address` with `code`."""
        with self._lock:
            self._refused[address.lower()] = Reply(code, text)

    def stall(self) -> None:
        """Accept connections but never greet (until stopped): the client times out."""
        with self._lock:
            self._stalled = True

    def _scripted(self, stage: Stage) -> tuple[bool, Reply | None]:
        with self._lock:
            replies = self._replies.get(stage)
            if replies:
                return True, replies.popleft()
            return False, None


class _Handler(socketserver.StreamRequestHandler):
    server_owner: SmtpServer
    timeout = IDLE_TIMEOUT_S

    def handle(self) -> None:
        owner = self.server_owner
        if owner._stalled:
            owner._stopping.wait(STALL_LIMIT_S)
            return
        self._reset()
        try:
            if not self._answer("connect", Reply(220, "127.0.0.1 onwatch test ESMTP")):
                return
            while not owner._stopping.is_set():
                line = self.rfile.readline(LINE_LIMIT)
                if not line:
                    return
                if not self._command(line.decode("utf-8", "replace").rstrip("\r\n")):
                    return
        except (TimeoutError, ConnectionError):
            return

    def _reset(self) -> None:
        self.envelope_from: str | None = None
        self.recipients: list[str] = []

    def _reply(self, reply: Reply | None, *lines: str) -> bool:
        """Send `reply` (with `lines` before its last line); False when the connection ends."""
        if reply is None:
            return False  # hang up without a word
        first = [f"{reply.code}-{line}" for line in lines]
        self.wfile.write(
            "".join(f"{x}\r\n" for x in [*first, f"{reply.code} {reply.text}"]).encode()
        )
        self.wfile.flush()
        return not reply.closes and reply.code != 221

    def _answer(self, stage: Stage, usual: Reply, *lines: str) -> bool:
        scripted, reply = self.server_owner._scripted(stage)
        return self._reply(reply if scripted else usual, *([] if scripted else lines))

    def _command(self, line: str) -> bool:
        owner = self.server_owner
        verb, _, argument = line.partition(" ")
        verb = verb.upper()
        with owner._lock:
            owner._commands.append(verb)
        if verb == "EHLO":
            self._reset()
            return self._answer(
                "helo", Reply(250, "SIZE 10485760"), "127.0.0.1 hello", "8BITMIME", "AUTH PLAIN"
            )
        if verb == "HELO":
            self._reset()
            return self._answer("helo", Reply(250, "127.0.0.1 hello"))
        if verb == "AUTH":
            return self._auth(argument)
        if verb == "MAIL":
            if not argument.upper().startswith("FROM:"):
                return self._reply(Reply(501, "5.5.4 syntax: MAIL FROM:<address>"))
            scripted, reply = owner._scripted("mail")
            if scripted:
                return self._reply(reply)
            self._reset()
            self.envelope_from = _path(argument[5:])
            return self._reply(Reply(250, "2.1.0 sender ok"))
        if verb == "RCPT":
            if self.envelope_from is None:
                return self._reply(Reply(503, "5.5.1 MAIL first"))
            if not argument.upper().startswith("TO:"):
                return self._reply(Reply(501, "5.5.4 syntax: RCPT TO:<address>"))
            address = _path(argument[3:])
            scripted, reply = owner._scripted("rcpt")
            if scripted:
                return self._reply(reply)
            with owner._lock:
                refused = owner._refused.get(address.lower())
            if refused is not None:
                return self._reply(refused)
            self.recipients.append(address)
            return self._reply(Reply(250, "2.1.5 recipient ok"))
        if verb == "DATA":
            return self._data()
        if verb == "RSET":
            self._reset()
            return self._reply(Reply(250, "2.0.0 reset"))
        if verb == "NOOP":
            return self._reply(Reply(250, "2.0.0 ok"))
        if verb == "QUIT":
            self._reply(Reply(221, "2.0.0 bye"))
            return False
        return self._reply(Reply(502, "5.5.2 command not implemented"))

    def _auth(self, argument: str) -> bool:
        owner = self.server_owner
        mechanism, _, initial = argument.partition(" ")
        if mechanism.upper() != "PLAIN" or not initial:
            return self._reply(Reply(504, "5.5.4 only AUTH PLAIN with an initial response"))
        try:
            _, username, password = base64.b64decode(initial, validate=True).decode().split("\0")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return self._reply(Reply(501, "5.5.2 cannot decode the response"))
        with owner._lock:
            owner._logins.append((username, password))
        scripted, reply = owner._scripted("auth")
        if scripted:
            return self._reply(reply)
        if owner.credentials is not None and owner.credentials != (username, password):
            return self._reply(Reply(535, "5.7.8 authentication credentials invalid"))
        return self._reply(Reply(235, "2.7.0 authenticated"))

    def _data(self) -> bool:
        owner = self.server_owner
        if not self.recipients:
            return self._reply(Reply(503, "5.5.1 RCPT first"))
        scripted, reply = owner._scripted("data")
        if scripted:
            return self._reply(reply)
        if not self._reply(Reply(354, "end with <CRLF>.<CRLF>")):
            return False
        lines = []
        while True:
            line = self.rfile.readline(LINE_LIMIT)
            if not line:
                return False  # the client went away mid-message: nothing is accepted
            if line in (b".\r\n", b".\n"):
                break
            lines.append(line[1:] if line.startswith(b".") else line)  # dot-unstuffing
        scripted, reply = owner._scripted("message")
        if scripted:
            self._reset()
            return self._reply(reply)
        assert self.envelope_from is not None
        with owner._lock:
            owner._received.append(
                Received(self.envelope_from, tuple(self.recipients), b"".join(lines))
            )
        self._reset()
        return self._reply(Reply(250, "2.0.0 queued"))


def _path(text: str) -> str:
    """The address of a MAIL FROM/RCPT TO path: `<a@b> SIZE=12` -> `a@b`."""
    text = text.strip()
    if text.startswith("<"):
        return text[1 : text.index(">")] if ">" in text else text[1:]
    return text.split(" ", 1)[0]
