"""E-mail over SMTP with the standard library: one plain-text message per notice.

The message goes to the target's `to` addresses and, unless the target says otherwise, to the
people the notice names in `payload["recipients"]` (a handoff briefing's incoming and
outgoing person), each address once. Its Message-ID is made from the notice's dedup key, so
a message sent again after an answer was lost can be recognised as the same one.

SMTP's own classes decide what is retried: a 4xx reply (421 closing, 451 try later, 450
greylisting), a refused or dropped connection and a timeout are retryable; a 5xx reply (550
no such mailbox, 535 bad credentials, 554 refused) is permanent. Like every notifier it never
raises for delivery problems, and the password never appears in a detail.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from receiver.delivery.outcome import Delivery, shorten, unreachable
from receiver.notify.notifiers.base import Notice
from receiver.notify.settings import mailbox

log = logging.getLogger(__name__)

SERVICE = "the SMTP server"
TOPIC_HEADER = "X-Onwatch-Topic"
_MSGID_LEFT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_SECRET = "<redacted>"


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to connect; the password is kept out of the repr."""

    host: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False  # TLS from the first byte (port 465)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10


class EmailNotifier:
    """Sends each notice as one e-mail through one SMTP server; a new connection per send."""

    kind = "email"

    def __init__(
        self,
        server: SmtpServer,
        *,
        sender: str,
        to: Sequence[str] = (),
        send_to_people: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._server = server
        self._sender = mailbox(sender)
        self._to = [mailbox(address) for address in to]
        self._send_to_people = send_to_people
        self._clock = clock or (lambda: datetime.now(UTC))
        self._service = f"{SERVICE} {server.host}:{server.port}"

    def __repr__(self) -> str:
        return f"EmailNotifier({self._server.host}:{self._server.port})"

    def close(self) -> None:
        """Nothing to release: every send opens and closes its own connection."""

    def recipients(self, notice: Notice) -> list[Address]:
        """Whom `notice` goes to: the configured addresses, then the people it names; each
        address once."""
        people = people_of(notice.payload) if self._send_to_people else []
        return unique([*self._to, *people])

    def send(self, notice: Notice) -> Delivery:
        """One SMTP conversation; 4xx and no answer are retryable, 5xx is permanent."""
        recipients = self.recipients(notice)
        if not recipients:
            return Delivery(
                ok=False,
                detail=shorten(
                    f"no recipients for this {notice.topic or 'message'}: the target has no "
                    "`to` addresses and the message names no people to send to"
                ),
            )
        message = email_message(
            notice, sender=self._sender, recipients=recipients, now=self._clock()
        )
        try:
            refused = self._deliver(message, [r.addr_spec for r in recipients])
        except smtplib.SMTPRecipientsRefused as error:
            return self._scrubbed(refusal(error.recipients, self._service))
        except smtplib.SMTPServerDisconnected as error:
            return self._scrubbed(unreachable(self._service, error))
        except smtplib.SMTPResponseException as error:
            # Scrubbed before the detail is cut short, so no piece of the password survives.
            reply = self._scrub(_text(error.smtp_error))
            return self._scrubbed(answered(error.smtp_code, reply, self._service))
        except smtplib.SMTPException as error:
            # Not an answer: the server lacks what the configuration asks for (STARTTLS, AUTH
            # or a method smtplib speaks). Retrying will not change the server.
            return self._scrubbed(Delivery(ok=False, detail=shorten(f"{self._service}: {error}")))
        except (OSError, UnicodeError) as error:  # refused, reset, timeout, TLS handshake
            return self._scrubbed(unreachable(self._service, error))
        accepted = len(recipients) - len(refused)
        detail = f"{self._service} accepted it for {accepted} recipient" + "s" * (accepted != 1)
        if refused:
            # Sent to the others: a retry would send it to them twice, so it counts as sent.
            detail += "; refused " + _refused(refused)
            log.warning("%s %s: %s", notice.topic, notice.dedup_key, self._scrub(detail))
        return self._scrubbed(Delivery(ok=True, detail=shorten(detail)))

    def _deliver(self, message: EmailMessage, to: list[str]) -> dict[str, tuple[int, bytes]]:
        server = self._server
        if server.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host,
                server.port,
                timeout=server.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        try:
            if server.starttls and not server.ssl:
                client.starttls(context=ssl.create_default_context())
            if server.username is not None and server.password is not None:
                client.login(server.username, server.password)
            # The recipients refused while others were taken (all refused raises instead).
            return client.send_message(message, from_addr=self._sender.addr_spec, to_addrs=to)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()  # the message is accepted or not already: QUIT changes nothing

    def _scrub(self, text: str) -> str:
        """`text` without the password or its AUTH encodings (a server may echo them)."""
        if self._server.password:
            for secret in secrets_of(self._server.username or "", self._server.password):
                text = text.replace(secret, _SECRET)
        return text

    def _scrubbed(self, delivery: Delivery) -> Delivery:
        return replace(delivery, detail=self._scrub(delivery.detail))


def email_message(
    notice: Notice, *, sender: Address, recipients: Sequence[Address], now: datetime
) -> EmailMessage:
    """A plain-text e-mail: the notice's subject and text, with a Message-ID from its dedup
    key and a topic header for mail filters."""
    message = EmailMessage()
    message["Subject"] = " ".join(notice.subject.split())  # a header is one line
    message["From"] = sender
    message["To"] = list(recipients)
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id(notice.dedup_key, sender.domain)
    message[TOPIC_HEADER] = " ".join(notice.topic.split()) or "notice"
    # RFC 3834: vacation responders and auto-repliers leave an automated message alone.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.text, charset="utf-8")
    return message


def message_id(dedup_key: str, domain: str) -> str:
    """`<dedup key@domain>`: the same notice always gets the same id.

    A key that cannot be the left part of a Message-ID as it is becomes a hash of itself; no
    key (a message that is never deduplicated) gets a fresh id.
    """
    if not dedup_key:
        return make_msgid(domain=domain)
    left = dedup_key if _MSGID_LEFT.fullmatch(dedup_key) else _digest(dedup_key)
    return f"<{left}@{domain}>"


def people_of(payload: Mapping[str, Any]) -> list[Address]:
    """The addresses of `payload["recipients"]` (a list of {"name", "email"}); an entry with
    no usable address is left out and logged."""
    entries = payload.get("recipients") or []
    if not isinstance(entries, list):
        log.warning("notice payload recipients is not a list: %r", type(entries).__name__)
        return []
    found = []
    for entry in entries:
        email = entry.get("email") if isinstance(entry, Mapping) else None
        try:
            address = mailbox(str(email or ""))
        except ValueError as error:
            log.warning("notice recipient %r left out: %s", entry, error)
            continue
        name = entry.get("name") if isinstance(entry, Mapping) else None
        display = " ".join(str(name).split()) if name else address.display_name
        found.append(Address(display_name=display, addr_spec=address.addr_spec))
    return found


def unique(addresses: Iterable[Address]) -> list[Address]:
    """`addresses` in order, each mailbox once (compared without regard to case)."""
    seen: set[str] = set()
    kept = []
    for address in addresses:
        key = address.addr_spec.lower()
        if key not in seen:
            seen.add(key)
            kept.append(address)
    return kept


def answered(code: int, reply: bytes | str, service: str = SERVICE) -> Delivery:
    """A failed delivery for an SMTP reply: 4xx is temporary (retry), 5xx is permanent."""
    detail = f"{service} answered {code}" + (f": {_text(reply)}" if _text(reply) else "")
    return Delivery(ok=False, retryable=not 500 <= code < 600, detail=shorten(detail))


def refusal(refused: Mapping[str, tuple[int, bytes]], service: str = SERVICE) -> Delivery:
    """Every recipient was refused: retryable when one of them only for now (4xx, such as
    greylisting), permanent when every refusal is 5xx."""
    temporary = any(not 500 <= code < 600 for code, _ in refused.values())
    detail = f"{service} refused every recipient: " + _refused(refused)
    return Delivery(ok=False, retryable=temporary, detail=shorten(detail))


def secrets_of(username: str, password: str) -> list[str]:
    """The password as it could come back in a reply: itself and its AUTH encodings."""
    plain = f"\0{username}\0{password}".encode()
    return [
        password,
        base64.b64encode(plain).decode(),  # AUTH PLAIN
        base64.b64encode(password.encode()).decode(),  # AUTH LOGIN
    ]


def _refused(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {_text(reply)})" for address, (code, reply) in refused.items()
    )


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
