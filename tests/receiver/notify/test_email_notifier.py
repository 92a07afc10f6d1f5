"""The e-mail notifier against a local SMTP server on loopback: the message as it arrives,
whom it goes to, every answer class, the password kept out of details, the `email` target's
configuration, and the notification dispatcher delivering a handoff briefing by mail.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from receiver.composition import build_rota
from receiver.config.settings import ConfigError, Settings, load_settings
from receiver.delivery.outbox import FAILED, PENDING, SENT
from receiver.delivery.outcome import Delivery
from receiver.handoffs.briefings import brief_due_handoffs
from receiver.notify.dispatcher import NotificationDispatcher
from receiver.notify.models import NotificationMessage
from receiver.notify.notifiers import EmailNotifier, Notice, SmtpServer, build_notifier
from receiver.notify.notifiers.email import message_id
from receiver.notify.outbox import enqueue
from receiver.notify.settings import NotificationTargetSettings
from receiver.store.database import Store
from tests.support.clock import Clock
from tests.support.rota_config import rota_config
from tests.support.smtp_server import SmtpServer as LocalSmtpServer

SENT_AT = datetime(2026, 11, 9, 9, 0, 30, tzinfo=UTC)
FAST_S = 2.0  # a failing send comes back at once: the dispatcher retries, not the notifier
PASSWORD = "s3cret-pw"
KEY = "handoff-ops-primary-20261109T0900Z"


def notice(**overrides: Any) -> Notice:
    """A handoff briefing for b (incoming) and a (outgoing); tests override what they are
    about."""
    values: dict[str, Any] = {
        "topic": "handoff_briefing",
        "subject": "Handoff ops primary: a -> b at Mon 2026-11-09 09:00 GMT",
        "text": "Open incidents (1)\n- #1 [SEV2] checkout: identified\n",
        "payload": {
            "kind": "handoff_briefing",
            "recipients": [
                {"name": "b", "email": "b@example.com"},
                {"name": "a", "email": "a@example.com"},
            ],
        },
        "dedup_key": KEY,
    }
    values.update(overrides)
    return Notice(**values)


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    with LocalSmtpServer() as running:
        yield running


def notifier(
    smtp: LocalSmtpServer,
    *,
    to: tuple[str, ...] = ("ops-team@example.com",),
    send_to_people: bool = True,
    **server: Any,
) -> EmailNotifier:
    """A notifier for the local server, plain SMTP (no STARTTLS), on a fixed clock."""
    options: dict[str, Any] = {"starttls": False, "timeout": 2} | server
    return EmailNotifier(
        SmtpServer(host=smtp.host, port=smtp.port, **options),
        sender="onwatch <onwatch@example.com>",
        to=to,
        send_to_people=send_to_people,
        clock=lambda: SENT_AT,
    )


def timed(sender: EmailNotifier, sent: Notice) -> tuple[Delivery, float]:
    started = time.monotonic()
    delivery = sender.send(sent)
    return delivery, time.monotonic() - started


# ------------------------------------------------------------------------------------------
# The message


def test_email_notifier_sends_one_plain_text_message_with_the_documented_headers(smtp):
    delivery = notifier(smtp).send(notice())

    assert delivery == Delivery(
        ok=True, detail=f"the SMTP server 127.0.0.1:{smtp.port} accepted it for 3 recipients"
    )
    [received] = smtp.received
    assert received.envelope_from == "onwatch@example.com"
    assert received.recipients == ("ops-team@example.com", "b@example.com", "a@example.com")
    message = received.message
    assert message["From"] == "onwatch <onwatch@example.com>"
    assert message["To"] == "ops-team@example.com, b <b@example.com>, a <a@example.com>"
    assert message["Subject"] == "Handoff ops primary: a -> b at Mon 2026-11-09 09:00 GMT"
    assert message["Date"] == "Mon, 09 Nov 2026 09:00:30 +0000"
    assert message["Message-ID"] == f"<{KEY}@example.com>"
    assert message["X-Onwatch-Topic"] == "handoff_briefing"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert received.text == "Open incidents (1)\n- #1 [SEV2] checkout: identified\n"
    assert smtp.commands == ["EHLO", "MAIL", "RCPT", "RCPT", "RCPT", "DATA", "QUIT"]


def test_email_notifier_keeps_the_text_as_written(smtp):
    text = ".a line starting with a dot\nZoë paged at 03:12 — twice\n" + "x" * 300 + "\n"

    assert notifier(smtp).send(notice(subject="one\ntwo  lines", text=text)).ok

    message = smtp.received[0].message
    assert smtp.received[0].text == text
    assert message["Subject"] == "one two lines"  # a header is one line


def test_email_notifier_writes_to_each_address_once(smtp):
    people = [
        {"name": "b", "email": "B@Example.com"},
        {"name": "b again", "email": "b@example.com"},  # incoming and outgoing: one person
        {"name": "ops", "email": "ops-team@example.com"},  # also a configured address
    ]

    notifier(smtp).send(notice(payload={"recipients": people}))

    assert smtp.received[0].recipients == ("ops-team@example.com", "B@Example.com")
    assert smtp.received[0].message["To"] == "ops-team@example.com, b <B@Example.com>"


def test_email_notifier_without_send_to_people_writes_only_to_its_addresses(smtp):
    sender = notifier(smtp, to=("ops-team@example.com", "leads@example.com"), send_to_people=False)

    sender.send(notice())

    assert smtp.received[0].recipients == ("ops-team@example.com", "leads@example.com")


def test_email_notifier_writes_to_the_people_alone_when_it_has_no_addresses(smtp):
    notifier(smtp, to=()).send(notice())

    assert smtp.received[0].recipients == ("b@example.com", "a@example.com")


def test_email_notifier_leaves_out_recipients_without_a_usable_address(smtp):
    people = [
        {"name": "no address"},
        {"name": "broken", "email": "not an address"},
        {"name": "injected", "email": "x@example.com\r\nBcc: everyone@example.com"},
        "a string",
        {"name": "a", "email": "a@example.com"},
    ]

    assert notifier(smtp, to=()).send(notice(payload={"recipients": people})).ok

    assert smtp.received[0].recipients == ("a@example.com",)
    assert "Bcc" not in smtp.received[0].raw.decode()


@pytest.mark.parametrize(
    ("payload", "to", "send_to_people"),
    [
        ({}, (), True),  # a status update names nobody, and the target has no addresses
        ({"recipients": []}, (), True),
        ({"recipients": [{"name": "a", "email": "a@"}]}, (), True),
        (notice().payload, (), False),
    ],
)
def test_email_notifier_with_no_recipients_fails_for_good_and_says_so(
    smtp, payload, to, send_to_people
):
    sender = notifier(smtp, to=to, send_to_people=send_to_people)

    delivery = sender.send(notice(payload=payload))

    assert not delivery.ok and not delivery.retryable
    assert delivery.detail.startswith("no recipients for this handoff_briefing")
    assert smtp.commands == []  # not even a connection


def test_message_id_is_the_dedup_key_so_a_resent_message_is_recognised(smtp):
    sender = notifier(smtp)

    sender.send(notice())
    sender.send(notice())
    sender.send(notice(dedup_key="onwatch-42-update-1"))

    ids = [r.message["Message-ID"] for r in smtp.received]
    assert ids == [
        f"<{KEY}@example.com>",
        f"<{KEY}@example.com>",
        "<onwatch-42-update-1@example.com>",
    ]


def test_message_id_of_an_awkward_or_missing_key():
    awkward = message_id("reminder 42 <due>", "example.com")

    assert awkward == message_id("reminder 42 <due>", "example.com")
    assert awkward.startswith("<") and awkward.endswith("@example.com>")
    assert " " not in awkward and awkward.count("<") == 1
    assert message_id("", "example.com") != message_id("", "example.com")


# ------------------------------------------------------------------------------------------
# The answers


@pytest.mark.parametrize(
    ("stage", "code", "text", "retryable"),
    [
        ("connect", 421, "4.3.2 too busy, try later", True),
        ("connect", 554, "5.7.1 no SMTP service for you", False),
        ("mail", 451, "4.3.0 local error, try later", True),
        ("mail", 421, "4.4.5 too many connections", True),
        ("mail", 550, "5.7.1 sender rejected", False),
        ("data", 451, "4.3.0 try later", True),
        ("data", 554, "5.5.0 transaction failed", False),
        ("message", 452, "4.3.1 insufficient system storage", True),
        ("message", 552, "5.3.4 message too big", False),
    ],
)
def test_email_notifier_answers_are_classified_by_class(smtp, stage, code, text, retryable):
    smtp.answer(stage, code, text)

    delivery = notifier(smtp).send(notice())

    assert not delivery.ok and delivery.retryable is retryable
    assert delivery.detail == f"the SMTP server 127.0.0.1:{smtp.port} answered {code}: {text}"
    assert smtp.received == []


def test_email_notifier_every_recipient_refused_is_permanent(smtp):
    for address in ("ops-team@example.com", "b@example.com", "a@example.com"):
        smtp.refuse(address, 550, "5.1.1 no such mailbox")

    delivery = notifier(smtp).send(notice())

    assert not delivery.ok and not delivery.retryable
    assert delivery.detail == (
        f"the SMTP server 127.0.0.1:{smtp.port} refused every recipient: "
        "ops-team@example.com (550 5.1.1 no such mailbox); "
        "b@example.com (550 5.1.1 no such mailbox); a@example.com (550 5.1.1 no such mailbox)"
    )


def test_email_notifier_recipients_refused_for_now_are_retried(smtp):
    smtp.refuse("ops-team@example.com", 550, "5.1.1 no such mailbox")
    smtp.refuse("b@example.com", 450, "4.2.0 greylisted, come back later")
    smtp.refuse("a@example.com", 451, "4.3.0 mailbox busy")

    delivery = notifier(smtp).send(notice())

    assert not delivery.ok and delivery.retryable
    assert "b@example.com (450 4.2.0 greylisted, come back later)" in delivery.detail


def test_email_notifier_some_recipients_refused_counts_as_sent(smtp, caplog):
    smtp.refuse("a@example.com", 550, "5.1.1 no such mailbox")

    delivery = notifier(smtp).send(notice())

    # Sent to the others: retrying would send it to them twice.
    assert delivery.ok
    assert delivery.detail == (
        f"the SMTP server 127.0.0.1:{smtp.port} accepted it for 2 recipients; "
        "refused a@example.com (550 5.1.1 no such mailbox)"
    )
    assert smtp.received[0].recipients == ("ops-team@example.com", "b@example.com")
    assert "refused a@example.com" in caplog.text


@pytest.mark.parametrize("stage", ["connect", "mail", "rcpt", "data", "message"])
def test_email_notifier_a_dropped_connection_is_retryable(smtp, stage):
    smtp.drop(stage)

    delivery, elapsed = timed(notifier(smtp), notice())

    assert not delivery.ok and delivery.retryable
    assert delivery.detail == (
        f"the SMTP server 127.0.0.1:{smtp.port} unreachable: SMTPServerDisconnected"
    )
    assert smtp.received == [] and elapsed < FAST_S


def test_email_notifier_down_is_retryable_fast(smtp):
    smtp.set_down(True)

    delivery, elapsed = timed(notifier(smtp), notice())

    assert not delivery.ok and delivery.retryable
    assert delivery.detail == (
        f"the SMTP server 127.0.0.1:{smtp.port} unreachable: ConnectionRefusedError"
    )
    assert elapsed < FAST_S


def test_email_notifier_a_server_that_never_answers_times_out_as_retryable(smtp):
    smtp.stall()

    delivery, elapsed = timed(notifier(smtp, timeout=0.3), notice())

    assert not delivery.ok and delivery.retryable
    assert "unreachable" in delivery.detail
    assert elapsed < FAST_S


def test_email_notifier_starttls_the_server_does_not_offer_is_permanent(smtp):
    delivery = notifier(smtp, starttls=True).send(notice())

    assert not delivery.ok and not delivery.retryable
    assert "STARTTLS extension not supported by server" in delivery.detail
    assert "MAIL" not in smtp.commands  # nothing went out in clear


def test_email_notifier_logs_in_with_the_configured_credentials(smtp):
    smtp.credentials = ("onwatch", PASSWORD)

    delivery = notifier(smtp, username="onwatch", password=PASSWORD).send(notice())

    assert delivery.ok
    assert smtp.logins == [("onwatch", PASSWORD)]


@pytest.mark.parametrize(("code", "retryable"), [(535, False), (454, True)])
def test_email_notifier_never_puts_the_password_in_a_detail(smtp, code, retryable):
    sender = notifier(smtp, username="onwatch", password=PASSWORD)
    # A careless server echoing what it was sent: the password and AUTH PLAIN's encoding.
    smtp.answer("auth", code, f"5.7.8 bad credentials {PASSWORD} AG9ud2F0Y2gAczNjcmV0LXB3")

    delivery = sender.send(notice())

    assert not delivery.ok and delivery.retryable is retryable
    assert PASSWORD not in delivery.detail and "AG9ud2F0Y2gAczNjcmV0LXB3" not in delivery.detail
    assert delivery.detail.endswith("bad credentials <redacted> <redacted>")
    assert PASSWORD not in repr(sender) and PASSWORD not in repr(sender._server)


# ------------------------------------------------------------------------------------------
# The configuration


def target(**values: Any) -> NotificationTargetSettings:
    document = {"name": "ops-mail", "kind": "email", "from": "onwatch@example.com"} | values
    return NotificationTargetSettings.model_validate(document)


def load_targets(tmp_path: Path, *targets: dict[str, Any], environ: dict[str, str] | None = None):
    path = tmp_path / "onwatch.yaml"
    path.write_text(yaml.safe_dump({"notifications": {"targets": list(targets)}}))
    return load_settings(path, environ or {}).notifications.targets


def test_email_target_defaults():
    settings = target(smtp={"host": "smtp.example.com"})

    assert settings.enabled and settings.send_to_people and settings.to == []
    assert settings.smtp is not None
    assert (settings.smtp.port_number, settings.smtp.tls_upgrade, settings.smtp.ssl) == (
        587,
        True,
        False,
    )
    implicit = target(smtp={"host": "smtp.example.com", "ssl": True}).smtp
    assert implicit is not None and (implicit.port_number, implicit.tls_upgrade) == (465, False)


def test_email_target_from_interpolated_variables(tmp_path):
    environ = {"SMTP_HOST": "smtp.example.com", "SMTP_PORT": "2525", "SMTP_PASSWORD": PASSWORD}
    document = {
        "name": "ops-mail",
        "kind": "email",
        "smtp": {
            "host": "${SMTP_HOST}",
            "port": "${SMTP_PORT:-587}",
            "username": "onwatch",
            "password": "${SMTP_PASSWORD}",
            "timeout": 5,
        },
        "from": "onwatch <onwatch@example.com>",
        "to": ["ops-team@example.com"],
    }

    [settings] = load_targets(tmp_path, document, environ=environ)

    assert settings.enabled and settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port_number, settings.smtp.timeout) == (
        "smtp.example.com",
        2525,
        5,
    )
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    built = build_notifier(settings)
    assert isinstance(built, EmailNotifier) and built.kind == "email"
    assert PASSWORD not in repr(built)


def test_email_target_with_an_unset_host_is_configured_but_disabled(tmp_path):
    document = {
        "name": "ops-mail",
        "kind": "email",
        "smtp": {"host": "${SMTP_HOST}", "username": "onwatch", "password": "${SMTP_PASSWORD}"},
        "from": "onwatch@example.com",
    }

    [settings] = load_targets(tmp_path, document)

    assert not settings.enabled
    with pytest.raises(ValueError, match='"ops-mail" has no smtp host: it is disabled'):
        build_notifier(settings)


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (
            {"name": "m", "kind": "email", "smtp": {"host": "h"}},
            "notifications.targets[0].from: required for an email target (the sender)",
        ),
        (
            {"name": "m", "kind": "email", "smtp": {"host": "h"}, "from": ""},
            "notifications.targets[0].from: required for an email target (the sender)",
        ),
        (
            {"name": "m", "kind": "email", "from": "onwatch@example.com"},
            "notifications.targets[0].smtp: required for an email target "
            "(the SMTP server, {host: ...})",
        ),
        (
            {"name": "m", "kind": "email", "smtp": {"port": 25}, "from": "onwatch@example.com"},
            "notifications.targets[0].smtp.host: Field required",
        ),
        (
            {"name": "m", "kind": "email", "smtp": {"host": "h"}, "from": "onwatch at example"},
            "notifications.targets[0].from: expected one e-mail address such as "
            "onwatch@example.com, got 'onwatch at example'",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h"},
                "from": "onwatch@example.com",
                "to": ["ops@example.com", "ops@"],
            },
            "notifications.targets[0].to[1]: expected one e-mail address such as "
            "onwatch@example.com, got 'ops@'",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h"},
                "from": "onwatch@example.com",
                "to": ["a@example.com, b@example.com"],
            },
            "notifications.targets[0].to[0]: expected one e-mail address such as "
            "onwatch@example.com, got 'a@example.com, b@example.com'",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h"},
                "from": "onwatch@example.com",
                "send_to_people": False,
            },
            "notifications.targets[0].to: required when send_to_people is false: "
            "nobody would get the mail",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "url": "https://hooks.example.com/x",
                "smtp": {"host": "h"},
                "from": "onwatch@example.com",
            },
            "notifications.targets[0].url: not used by email targets (they send through smtp)",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h", "port": 70000},
                "from": "onwatch@example.com",
            },
            "notifications.targets[0].smtp.port: Input should be less than or equal to 65535",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h", "ssl": True, "starttls": True},
                "from": "onwatch@example.com",
            },
            "notifications.targets[0].smtp.starttls: not with ssl: true (ssl is TLS from the "
            "first byte, port 465; starttls upgrades a plain connection, port 587)",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h", "username": "u", "password": "p", "starttls": False},
                "from": "onwatch@example.com",
            },
            "notifications.targets[0].smtp.password: would cross the network in clear: "
            "set starttls: true or ssl: true",
        ),
        (
            {
                "name": "m",
                "kind": "email",
                "smtp": {"host": "h", "username": "u"},
                "from": "onwatch@example.com",
            },
            "notifications.targets[0].smtp.password: required with a username "
            "(is its ${VAR} unset?)",
        ),
        (
            {"name": "m", "kind": "webhook", "url": "https://x.example.com", "to": ["a@b.org"]},
            "notifications.targets[0].to: only email targets use it, not webhook targets",
        ),
        (
            {"name": "m", "kind": "slack", "url": "https://x.example.com", "smtp": {"host": "h"}},
            "notifications.targets[0].smtp: only email targets use it, not slack targets",
        ),
        (
            {"name": "m", "kind": "webhook", "url": "ftp://x.example.com"},
            "notifications.targets[0].url: expected an http:// or https:// URL",
        ),
    ],
)
def test_email_target_problems_name_the_key(tmp_path, document, error):
    with pytest.raises(ConfigError) as caught:
        load_targets(tmp_path, document)

    assert caught.value.errors == [error]


def test_webhook_and_slack_targets_are_validated_as_before(tmp_path):
    hook, chat, unset = load_targets(
        tmp_path,
        {"name": "hook", "kind": "webhook", "url": "https://hooks.example.com/onwatch"},
        {"name": "chat", "kind": "slack", "url": "https://hooks.slack.com/services/T/B/x"},
        {"name": "unset", "kind": "webhook", "url": "${HOOK_URL}"},
    )

    assert hook.enabled and chat.enabled and not unset.enabled
    assert hook.smtp is None and hook.sender is None and hook.to == []


# ------------------------------------------------------------------------------------------
# Through the outbox


@pytest.fixture
def mail_target(smtp: LocalSmtpServer) -> NotificationTargetSettings:
    return target(
        smtp={"host": smtp.host, "port": smtp.port, "starttls": False, "timeout": 2},
        to=["ops-team@example.com"],
    )


def queue(store: Store, clock: Clock, sent: Notice) -> None:
    store.write(
        lambda session: enqueue(
            session,
            target="ops-mail",
            topic=sent.topic,
            subject=sent.subject,
            text=sent.text,
            dedup_key=sent.dedup_key,
            now=clock(),
            deadline=timedelta(hours=1),
            payload=dict(sent.payload),
        )
    )


def statuses(store: Store) -> list[tuple[str, int, str]]:
    with store.read() as session:
        rows = session.exec(select(NotificationMessage).order_by(NotificationMessage.id)).all()
        return [(row.status, row.attempts, row.last_error) for row in rows]


def test_dispatcher_mails_a_queued_briefing_and_retries_a_temporary_refusal(
    store: Store, clock: Clock, smtp: LocalSmtpServer, mail_target: NotificationTargetSettings
):
    dispatcher = NotificationDispatcher(
        store=store, notifiers={"ops-mail": build_notifier(mail_target)}, clock=clock
    )
    queue(store, clock, notice())
    smtp.answer("mail", 451, "4.3.0 try again later")

    assert dispatcher.run_once() == 1
    [(status, attempts, error)] = statuses(store)
    assert (status, attempts) == (PENDING, 1)
    assert error == f"the SMTP server 127.0.0.1:{smtp.port} answered 451: 4.3.0 try again later"
    assert smtp.received == []

    clock.advance(minutes=10)
    assert dispatcher.run_once() == 1

    assert statuses(store) == [(SENT, 2, "")]
    [received] = smtp.received
    assert received.recipients == ("ops-team@example.com", "b@example.com", "a@example.com")
    assert received.message["Message-ID"] == f"<{KEY}@example.com>"
    assert received.message["Subject"] == notice().subject
    assert received.text == notice().text


def test_dispatcher_fails_a_briefing_every_recipient_refuses(
    store: Store, clock: Clock, smtp: LocalSmtpServer, mail_target: NotificationTargetSettings
):
    for address in ("ops-team@example.com", "a@example.com", "b@example.com"):
        smtp.refuse(address)
    queue(store, clock, notice())

    NotificationDispatcher(
        store=store, notifiers={"ops-mail": build_notifier(mail_target)}, clock=clock
    ).run_once()

    [(status, attempts, error)] = statuses(store)
    assert (status, attempts) == (FAILED, 1)
    assert "refused every recipient" in error


def test_handoff_is_briefed_by_mail_to_the_incoming_and_outgoing_person(
    store: Store, clock: Clock, smtp: LocalSmtpServer
):
    config = rota_config()
    config["database"] = {"url": store.settings.url}
    config["notifications"] = {
        "targets": [
            {
                "name": "ops-mail",
                "kind": "email",
                "smtp": {"host": smtp.host, "port": smtp.port, "starttls": False},
                "from": "onwatch <onwatch@example.com>",
            },
            {"name": "ops-mail-unset", "kind": "email", "smtp": {"host": ""}, "from": "o@x.org"},
        ]
    }
    config["rotations"][0]["notify"] = ["ops-mail", "ops-mail-unset"]
    settings = Settings.model_validate(config)
    clock.now = SENT_AT

    assert brief_due_handoffs(
        settings=settings, store=store, rota=build_rota(settings), now=clock()
    )

    notifiers = {"ops-mail": build_notifier(settings.notifications.target("ops-mail"))}
    assert NotificationDispatcher(store=store, notifiers=notifiers, clock=clock).run_once() == 2
    assert [status for status, _, _ in statuses(store)] == [SENT, SENT]
    primary, secondary = smtp.received
    assert primary.recipients == ("b@example.com", "a@example.com")  # incoming, outgoing
    assert secondary.recipients == ("e@example.com", "d@example.com")
    assert primary.message["To"] == "b <b@example.com>, a <a@example.com>"
    assert primary.message["Subject"] == "Handoff ops primary: a -> b at Mon 2026-11-09 09:00 GMT"
    assert primary.message["Message-ID"] == f"<{KEY}@example.com>"
    assert primary.message["X-Onwatch-Topic"] == "handoff_briefing"
