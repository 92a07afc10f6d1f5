"""onwatch's one YAML configuration file: loading, `${VAR}` interpolation and validation.

The file is validated once, at start, into a typed `Settings` object that is passed down
explicitly. Every problem is reported with its key path (`rules[2].match[0]: ...`) so that a
person can fix the file without reading a traceback. Secrets are `SecretStr`: they never show
up in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from receiver.config.base import SettingsModel
from receiver.config.interpolation import blank_is_unset, interpolate
from receiver.config.keypath import format_location
from receiver.notify.settings import NotificationSettings
from receiver.pages.settings import WebSettings
from receiver.paging.routing import routing_problems
from receiver.report.settings import ReportSettings
from receiver.response.settings import ResponseSettings
from receiver.rota.settings import (
    CalendarSettings,
    PersonSettings,
    RotationSettings,
    rota_problems,
)
from receiver.slack.settings import ChatSettings
from rules import Rule, RuleSet, Severity, default_rules, parse_matcher, parse_matchers
from rules.engine import NO_RULE_MATCHED
from rules.severity import SeverityName

CONFIG_ENV_VAR = "ONWATCH_CONFIG"
ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigError(Exception):
    """The configuration cannot be used; `errors` holds one `key.path: problem` line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _check_matcher(text: str) -> str:
    parse_matcher(text)  # raises MatcherError (a ValueError) naming the problem
    return text


MatcherText = Annotated[str, AfterValidator(_check_matcher)]


class BasicAuth(SettingsModel):
    username: str
    password: SecretStr


class WebhookSettings(SettingsModel):
    """Credentials Alertmanager must present on `POST /api/v1/alertmanager`."""

    bearer_token: SecretStr | None = None
    basic_auth: BasicAuth | None = None

    blanks_are_unset = field_validator("bearer_token", mode="before")(blank_is_unset)

    @property
    def has_credentials(self) -> bool:
        """True when at least one credential is configured (else the webhook is open)."""
        return self.bearer_token is not None or self.basic_auth is not None


class ApiSettings(SettingsModel):
    """Who may call `/api/v1`: a bearer token, else only callers on loopback.

    Without a token the API is closed to every other address, and `onwatch serve` refuses a
    non-loopback address until a token is set or `open: true` says the network is trusted.
    """

    bearer_token: SecretStr | None = None
    open: bool = False  # true: no token needed from any address (a trusted network only)

    blanks_are_unset = field_validator("bearer_token", mode="before")(blank_is_unset)


class PagerDutyWebhookSettings(SettingsModel):
    """The v3 webhook subscription's signing secret (`POST /api/v1/pagerduty`)."""

    secret: SecretStr | None = None

    blanks_are_unset = field_validator("secret", mode="before")(blank_is_unset)


class DispatcherSettings(SettingsModel):
    """How the outbox is delivered: a message still failing after `deadline_minutes` fails."""

    deadline_minutes: float = Field(default=60, gt=0)
    poll_seconds: float = Field(default=0.5, gt=0, le=60)


class ServerSettings(SettingsModel):
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # /readyz fails once an outbox message is this late (seconds past its due time): the
    # scheduler is not delivering, whatever else answers.
    ready_overdue_after_s: float = Field(default=120, gt=0, le=24 * 3600)


class RetentionSettings(SettingsModel):
    """How long finished work is kept. Incidents, timelines and the page ledger are kept
    (the monthly report compares 13 months); delivered, failed and cancelled outbox and
    notification messages are pruned after `outbox_days`."""

    outbox_days: float = Field(default=30, gt=0, le=3650)


class DatabaseSettings(SettingsModel):
    url: str = "sqlite:///onwatch.db"
    # How long a writer waits for SQLite's lock before the request answers 503 (Alertmanager
    # retries 5xx), in seconds.
    sqlite_busy_timeout_s: float = Field(default=5.0, ge=0)
    # PostgreSQL: how long to wait for a connection, and for one statement, before the request
    # answers 503; a silent network partition must not hang every worker.
    connect_timeout_s: float = Field(default=5.0, gt=0, le=300)
    statement_timeout_s: float = Field(default=10.0, gt=0, le=3600)

    @field_validator("url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not (url.startswith("sqlite:") or url.startswith("postgresql+psycopg:")):
            raise ValueError(
                "expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, "
                f"got a URL starting with {url.split(':', 1)[0]!r}"
            )
        return url

    @property
    def is_sqlite(self) -> bool:
        """SQLite is embedded: onwatch migrates it on start, and serialises its writers."""
        return self.url.startswith("sqlite:")


class RuleSettings(SettingsModel):
    """One severity rule: all its matchers must match; the first matching rule wins."""

    name: str = Field(min_length=1)
    severity: SeverityName
    match: list[MatcherText] = []
    match_annotations: list[MatcherText] = []
    service: str | None = Field(default=None, min_length=1)
    description: str = ""

    def to_rule(self) -> Rule:
        """The pure-domain rule this entry describes."""
        return Rule(
            name=self.name,
            severity=Severity.parse(self.severity),
            label_matchers=parse_matchers(self.match),
            annotation_matchers=parse_matchers(self.match_annotations),
            service=self.service,
            description=self.description,
        )


class RoutingSettings(SettingsModel):
    service_label: str = "service"
    default_service: str = "unrouted"
    fallback_severity: SeverityName = "SEV3"
    # Notification targets (names from `notifications.targets`) told about an incident that
    # pages nobody: its service is covered by no rotation and there is no catch-all rotation.
    unrouted_notify: list[str] = []


class RulesFile(SettingsModel):
    """The severity rules: your own, tried in order, then (by default) the seed's tree."""

    rules: list[RuleSettings] = []
    default_rules: bool = True
    routing: RoutingSettings = RoutingSettings()

    @model_validator(mode="after")
    def _unique_rule_names(self) -> RulesFile:
        seen: set[str] = {NO_RULE_MATCHED}  # reserved for "no rule matched" decisions
        builtin = {rule.name for rule in default_rules()} if self.default_rules else set()
        for rule in self.rules:
            if rule.name in seen or rule.name in builtin:
                raise ValueError(f'rule name "{rule.name}" is used twice')
            seen.add(rule.name)
        return self

    def rule_set(self) -> RuleSet:
        """Build the ordered rule set the receiver grades alerts with."""
        own = tuple(rule.to_rule() for rule in self.rules)
        builtin = default_rules() if self.default_rules else ()
        return RuleSet(
            rules=own + builtin,
            service_label=self.routing.service_label,
            default_service=self.routing.default_service,
            fallback_severity=Severity.parse(self.routing.fallback_severity),
        )


class Settings(RulesFile):
    """Everything onwatch reads from its configuration file."""

    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    webhook: WebhookSettings = WebhookSettings()
    api: ApiSettings = ApiSettings()
    people: list[PersonSettings] = []
    rotations: list[RotationSettings] = []
    calendar: CalendarSettings = CalendarSettings()
    pagerduty_webhook: PagerDutyWebhookSettings = PagerDutyWebhookSettings()
    dispatcher: DispatcherSettings = DispatcherSettings()
    retention: RetentionSettings = RetentionSettings()
    report: ReportSettings = ReportSettings()
    response: ResponseSettings = ResponseSettings()
    notifications: NotificationSettings = NotificationSettings()
    chat: ChatSettings = ChatSettings()
    web: WebSettings = WebSettings()

    @model_validator(mode="after")
    def _rota_references(self) -> Settings:
        # Not a ValueError: these carry their own key paths and must reach the user as such.
        problems = rota_problems(self.people, self.rotations)
        problems += routing_problems(self.people, self.rotations)
        targets = {target.name for target in self.notifications.targets}
        for r, rotation in enumerate(self.rotations):
            for i, name in enumerate(rotation.notify):
                if name not in targets:
                    problems.append(
                        f'rotations[{r}].notify[{i}]: unknown notification target "{name}" '
                        "(define it under notifications.targets)"
                    )
        for i, name in enumerate(self.routing.unrouted_notify):
            if name not in targets:
                problems.append(
                    f'routing.unrouted_notify[{i}]: unknown notification target "{name}" '
                    "(define it under notifications.targets)"
                )
        if problems:
            raise ConfigError(problems)
        return self


def uncovered_default_service(settings: Settings) -> str | None:
    """`routing.default_service` when no rotation would page for it (none lists it and none is
    the catch-all): alerts without a service label would page nobody. Else None."""
    service = settings.routing.default_service
    if any(r.catch_all or service in r.services for r in settings.rotations):
        return None
    return service


def _format_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and indentation)"
        lines.append(f"{format_location(item['loc'])}: {message}")
    return lines


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError([f"{path}: expected a mapping of keys at the top level"])
    return document


def load_model(
    model: type[ModelT], path: str | Path, environ: Mapping[str, str] | None = None
) -> ModelT:
    """Read, interpolate and validate a YAML file as `model`, or raise ConfigError."""
    document = interpolate(_read_yaml(Path(path)), os.environ if environ is None else environ)
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


def load_settings(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Load onwatch's configuration file, or raise ConfigError listing every problem."""
    return load_model(Settings, path, environ)


def resolve_config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`--config PATH` wins, else `$ONWATCH_CONFIG`; one of them is required."""
    env = os.environ if environ is None else environ
    path = explicit or env.get(CONFIG_ENV_VAR)
    if not path:
        raise ConfigError([f"no configuration file: pass --config PATH or set ${CONFIG_ENV_VAR}"])
    return path
