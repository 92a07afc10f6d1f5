"""Notifiers: how onwatch tells people (a JSON webhook, a Slack incoming webhook, e-mail).

Every notifier has one method, `send(Notice) -> Delivery`, and never raises for delivery
problems. `build_notifier` is the one place a notifier is chosen from the configuration.
"""

from __future__ import annotations

from receiver.delivery.outcome import Delivery
from receiver.notify.notifiers.base import Notice, Notifier, redact
from receiver.notify.notifiers.email import EmailNotifier, SmtpServer
from receiver.notify.notifiers.slack import SlackNotifier
from receiver.notify.notifiers.webhook import WebhookNotifier
from receiver.notify.settings import NotificationTargetSettings

__all__ = [
    "Delivery",
    "EmailNotifier",
    "Notice",
    "Notifier",
    "SlackNotifier",
    "SmtpServer",
    "WebhookNotifier",
    "build_notifier",
    "redact",
]


def build_notifier(settings: NotificationTargetSettings, timeout: float = 10) -> Notifier:
    """The notifier for one configured target; ValueError for a disabled target (a webhook
    with no URL, an e-mail target with no SMTP host)."""
    if settings.kind == "email":
        return _email_notifier(settings, timeout)
    if settings.url is None:
        # Queueing skips a target without a URL, so nothing should ever ask for this one.
        raise ValueError(
            f'notification target "{settings.name}" has no url: it is disabled and sends nothing'
        )
    url = settings.url.get_secret_value()
    headers = {name: value.get_secret_value() for name, value in settings.headers.items()}
    if settings.kind == "webhook":
        return WebhookNotifier(url, headers, timeout=timeout)
    if settings.kind == "slack":
        return SlackNotifier(url, headers, timeout=timeout)
    raise ValueError(f'notification target "{settings.name}": unknown kind {settings.kind!r}')


def _email_notifier(settings: NotificationTargetSettings, timeout: float) -> EmailNotifier:
    smtp = settings.smtp
    if smtp is None or smtp.host is None or settings.sender is None:
        # Queueing skips a target without an SMTP host, as one without a URL.
        raise ValueError(
            f'notification target "{settings.name}" has no smtp host: '
            "it is disabled and sends nothing"
        )
    server = SmtpServer(
        host=smtp.host,
        port=smtp.port_number,
        starttls=smtp.tls_upgrade,
        ssl=smtp.ssl,
        username=smtp.username,
        password=smtp.password.get_secret_value() if smtp.password else None,
        timeout=smtp.timeout or timeout,
    )
    return EmailNotifier(
        server, sender=settings.sender, to=settings.to, send_to_people=settings.send_to_people
    )
