"""The `notifications:` section: where status updates, reminders and announcements go.

`notifications.targets` names each place a message can go (a generic JSON webhook, a Slack
incoming webhook, e-mail over SMTP); `notifications.audiences` groups targets under the
process's audiences, each with the template it reads (the internal update or the executive
one); the process's table decides which audiences hear about an incident of each severity,
and the configuration may change it. Rotations name their own team's targets with `notify:`.
"""

from __future__ import annotations

import email.policy
import re
from email.headerregistry import Address
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from receiver.config.base import SettingsModel
from receiver.config.interpolation import blank_is_unset
from response.rendering import TemplateName, check_template
from rules.severity import SeverityName

NotifierKind = Literal["webhook", "slack", "email"]
HTTP_KINDS = ("webhook", "slack")


# The seed's "Communication" column.
DEFAULT_SEVERITY_AUDIENCES: dict[SeverityName, list[str]] = {
    "SEV1": ["exec", "all-hands"],
    "SEV2": ["leadership", "affected-teams"],
    "SEV3": ["team", "stakeholders"],
    "SEV4": ["team"],
}
TEAM = "team"  # the audience that always includes the rotation's own `notify:` targets
SEED_AUDIENCES = ("exec", "all-hands", "leadership", "affected-teams", TEAM, "stakeholders")
EXECUTIVE_AUDIENCES = ("exec", "leadership")


# An ASCII addr-spec: a dot-atom local part and a host name (no quoted local parts, no IP
# literals, no SMTPUTF8), which every SMTP server takes.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})*")


def mailbox(text: str) -> Address:
    """One e-mail address, bare or with a display name; ValueError saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected an e-mail address such as onwatch@example.com")
    if "\r" in text or "\n" in text:
        raise ValueError(f"an e-mail address is one line, got {text!r}")
    try:
        header = email.policy.default.header_factory("To", text)
    except (IndexError, TypeError, ValueError):  # the parser trips over some malformed input
        header = None
    addresses = list(header.addresses) if header is not None else []
    if header is None or header.defects or len(addresses) != 1:
        raise ValueError(f"expected one e-mail address such as onwatch@example.com, got {text!r}")
    if not _ADDR_SPEC.fullmatch(addresses[0].addr_spec):
        raise ValueError(
            f"expected an address like name@example.com (ASCII, no quotes), got {text!r}"
        )
    return addresses[0]


def _address(text: str) -> str:
    return str(mailbox(text))


EmailAddress = Annotated[str, AfterValidator(_address)]


class SmtpSettings(SettingsModel):
    """The SMTP server an e-mail target sends through. The password is a secret."""

    host: str | None  # required; "" (an unset `${VAR}`) leaves the target configured but off
    port: int | None = Field(default=None, ge=1, le=65535)  # 587, or 465 with ssl
    ssl: bool = False  # TLS from the first byte (port 465)
    starttls: bool | None = None  # upgrade a plain connection (port 587); default: unless ssl
    timeout: float | None = Field(default=None, gt=0, le=300)  # seconds; default 10
    username: str | None = None
    password: SecretStr | None = Field(default=None, validate_default=True)

    unset = field_validator("host", "port", "username", "password", "timeout", mode="before")(
        blank_is_unset
    )

    @field_validator("starttls")
    @classmethod
    def _one_kind_of_tls(cls, starttls: bool | None, info: ValidationInfo) -> bool | None:
        if starttls and info.data.get("ssl"):
            raise ValueError(
                "not with ssl: true (ssl is TLS from the first byte, port 465; "
                "starttls upgrades a plain connection, port 587)"
            )
        return starttls

    @field_validator("password")
    @classmethod
    def _login(cls, password: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        data = info.data
        if data.get("host") is None:
            return password  # not configured (or host invalid): nothing to log in to
        username = data.get("username")
        if username is not None and password is None:
            raise ValueError("required with a username (is its ${VAR} unset?)")
        if password is not None and username is None:
            raise ValueError("given without a username")
        ssl, starttls = data.get("ssl", False), data.get("starttls")
        if password is not None and not (ssl or (starttls is not False)):
            raise ValueError("would cross the network in clear: set starttls: true or ssl: true")
        return password

    @property
    def tls_upgrade(self) -> bool:
        """True when the connection is upgraded with STARTTLS."""
        return (not self.ssl) if self.starttls is None else self.starttls

    @property
    def port_number(self) -> int:
        """The port to connect to: the configured one, else 465 with ssl, else 587."""
        return self.port or (465 if self.ssl else 587)


class NotificationTargetSettings(SettingsModel):
    """One place messages go. A Slack webhook URL and an SMTP password are secrets: they are
    kept out of reprs.

    `webhook` and `slack` targets POST to `url`; `email` targets send through `smtp` from
    `from` to the `to` addresses and, with `send_to_people`, to the people a message names
    (a handoff briefing's incoming and outgoing person).
    """

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: NotifierKind
    url: SecretStr | None = None
    headers: dict[str, SecretStr] = {}
    smtp: SmtpSettings | None = None
    sender: EmailAddress | None = Field(default=None, alias="from")
    send_to_people: bool = True
    to: list[EmailAddress] = Field(default=[], validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _email_keys(cls, data: Any) -> Any:
        # A missing `smtp` or `from` of an email target is checked by their field validators,
        # so that the error names the key (a default's error would name "sender").
        if isinstance(data, dict) and data.get("kind") == "email":
            return {"smtp": None, "from": None, **data}
        return data

    url_blank_is_unset = field_validator("url", mode="before")(blank_is_unset)
    sender_blank_is_unset = field_validator("sender", mode="before")(blank_is_unset)

    @field_validator("url")
    @classmethod
    def _http(cls, url: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if url is not None and info.data.get("kind") == "email":
            raise ValueError("not used by email targets (they send through smtp)")
        if url is not None and not url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return url

    @field_validator("headers")
    @classmethod
    def _http_headers(cls, headers: dict[str, SecretStr], info: ValidationInfo) -> Any:
        if headers and info.data.get("kind") == "email":
            raise ValueError("not used by email targets (HTTP headers for webhook and slack)")
        return headers

    @field_validator("smtp", "sender")
    @classmethod
    def _email_only_required(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if kind == "email" and value is None:
            what = "the SMTP server, {host: ...}" if info.field_name == "smtp" else "the sender"
            raise ValueError(f"required for an email target ({what})")
        if kind in HTTP_KINDS and value is not None:
            raise ValueError(f"only email targets use it, not {kind} targets")
        return value

    @field_validator("send_to_people")
    @classmethod
    def _email_only(cls, value: bool, info: ValidationInfo) -> bool:
        # Runs only when the key is given: the default means nothing to a webhook.
        if info.data.get("kind") in HTTP_KINDS:
            raise ValueError(f"only email targets use it, not {info.data['kind']} targets")
        return value

    @field_validator("to")
    @classmethod
    def _someone(cls, to: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("kind")
        if kind in HTTP_KINDS and to:
            raise ValueError(f"only email targets use it, not {kind} targets")
        if kind == "email" and not to and info.data.get("send_to_people") is False:
            raise ValueError("required when send_to_people is false: nobody would get the mail")
        return to

    @property
    def enabled(self) -> bool:
        """A target whose URL (or SMTP host) is unset, as by an empty `${VAR}`, is configured
        but sends nothing."""
        if self.kind == "email":
            return self.smtp is not None and self.smtp.host is not None
        return self.url is not None


class AudienceSettings(SettingsModel):
    """One audience: the template it reads and the targets that reach it."""

    template: TemplateName = "internal"
    targets: list[str] = []


class TemplateSettings(SettingsModel):
    """Jinja2 files replacing the built-in templates (paths relative to the working dir)."""

    internal: Path | None = None
    executive: Path | None = None

    @field_validator("internal", "executive")
    @classmethod
    def _usable(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        if not path.is_file():
            raise ValueError(f"no such template file: {path}")
        check_template(path)  # a TemplateError (a ValueError) names the file, line and problem
        return path


class NotificationSettings(SettingsModel):
    """Where messages go, per audience and per severity."""

    targets: list[NotificationTargetSettings] = []
    audiences: dict[str, AudienceSettings] = {}
    severity_audiences: dict[SeverityName, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_SEVERITY_AUDIENCES.items()}
    )
    templates: TemplateSettings = TemplateSettings()

    @field_validator("severity_audiences", mode="before")
    @classmethod
    def _merge_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {**DEFAULT_SEVERITY_AUDIENCES, **value}

    @model_validator(mode="after")
    def _references(self) -> NotificationSettings:
        names = [target.name for target in self.targets]
        problems = [f'targets: "{n}" is used twice' for n in set(names) if names.count(n) > 1]
        for audience, settings in self.audiences.items():
            for i, target in enumerate(settings.targets):
                if target not in names:
                    problems.append(f'audiences.{audience}.targets[{i}]: unknown target "{target}"')
        for severity, audiences in self.severity_audiences.items():
            for i, audience in enumerate(audiences):
                if audience not in self.audiences and audience not in SEED_AUDIENCES:
                    problems.append(
                        f'severity_audiences.{severity}[{i}]: unknown audience "{audience}" '
                        f"(define it under notifications.audiences)"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def target(self, name: str) -> NotificationTargetSettings:
        """The target called `name` (validated to exist wherever it is referenced)."""
        return next(target for target in self.targets if target.name == name)

    def targets_of(self, audience: str) -> list[str]:
        """The targets configured for `audience` (none for a seed audience left unset)."""
        settings = self.audiences.get(audience)
        return list(settings.targets) if settings else []

    def template_of(self, audience: str) -> TemplateName:
        """Which template `audience` reads; exec and leadership read the executive one."""
        if audience in self.audiences:
            return self.audiences[audience].template
        return "executive" if audience in EXECUTIVE_AUDIENCES else "internal"
