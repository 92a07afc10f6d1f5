"""A rotation's `paging:` section: which pager reaches its people, and how escalation runs.

Validated into typed models like the rest of the configuration. Secrets are `SecretStr`; an
unset `${VAR}` (interpolated to "") counts as not given. Problems that depend on another key
(the chosen pager's credentials) are ValueErrors whose message names every key path, from
`paging.` down, so the caller's location prefix plus the message point at the line to fix.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from receiver.config.base import SettingsModel, parse_duration
from rules.severity import SEVERITIES, SeverityName

PagerKind = Literal["dry-run", "pagerduty-events", "pagerduty-rest", "webhook"]

PAGES_NOBODY = "SEV4"  # the seed: SEV4 is queued for the next business day, never paged
DEFAULT_ACK_TIMEOUT: dict[SeverityName, str] = {"SEV1": "5m", "SEV2": "5m", "SEV3": "15m"}


def _blank_is_unset(value: Any) -> Any:
    # An unset ${ONWATCH_PAGERDUTY_...} interpolates to "": that means "not given".
    return None if isinstance(value, str) and not value.strip() else value


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
    return url


class RoutingKeySettings(SettingsModel):
    """Events API v2 integration keys of PagerDuty services that each wake one person or
    one layer, so that onwatch's rota (not the default service's escalation policy) decides
    who is woken. A page goes to its person's key, else its layer's (`primary`, ...,
    `escalation`), else the default `routing_key`. Blank values (an unset `${VAR}`) are
    dropped: that person or layer falls back to the next key.
    """

    people: dict[str, SecretStr] = {}
    layers: dict[str, SecretStr] = {}

    @field_validator("people", "layers", mode="before")
    @classmethod
    def _blanks_are_unset(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic reports the wrong type
        return {name: key for name, key in value.items() if _blank_is_unset(key) is not None}

    @property
    def given(self) -> bool:
        """True when at least one person or layer has a key of its own."""
        return bool(self.people or self.layers)


class PagerDutySettings(SettingsModel):
    """PagerDuty credentials and endpoints (the URLs are overridable for a local fake)."""

    # Events API v2 integration key: the default for pages with no key of their own below.
    routing_key: SecretStr | None = None
    routing_keys: RoutingKeySettings = RoutingKeySettings()
    api_token: SecretStr | None = None  # REST API token
    from_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    service_id: str | None = None
    events_url: str = "https://events.pagerduty.com"
    api_url: str = "https://api.pagerduty.com"

    blanks_are_unset = field_validator(
        "routing_key", "api_token", "from_email", "service_id", mode="before"
    )(_blank_is_unset)
    urls_are_http = field_validator("events_url", "api_url")(_http_url)

    @field_validator("events_url", "api_url", mode="before")
    @classmethod
    def _blank_url_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[str(info.field_name)].default
        return value


class WebhookPagerSettings(SettingsModel):
    url: str | None = None
    headers: dict[str, SecretStr] = {}  # often an Authorization header: keep it out of reprs

    url_blank_is_unset = field_validator("url", mode="before")(_blank_is_unset)

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, url: str | None) -> str | None:
        return None if url is None else _http_url(url)


_REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    # pager kind -> (key path under `paging.`, environment variable the example file uses)
    "pagerduty-events": (("pagerduty.routing_key", "ONWATCH_PAGERDUTY_ROUTING_KEY"),),
    "pagerduty-rest": (
        ("pagerduty.api_token", "ONWATCH_PAGERDUTY_API_TOKEN"),
        ("pagerduty.from_email", "ONWATCH_PAGERDUTY_FROM"),
        ("pagerduty.service_id", "ONWATCH_PAGERDUTY_SERVICE_ID"),
    ),
    "webhook": (("webhook.url", ""),),
}


class PagerSettings(SettingsModel):
    """Which pager to use and its credentials; what `build_pager` needs."""

    pager: PagerKind = "dry-run"
    pagerduty: PagerDutySettings = PagerDutySettings()
    webhook: WebhookPagerSettings = WebhookPagerSettings()

    @field_validator("pager", mode="before")
    @classmethod
    def _blank_pager_is_dry_run(cls, value: Any) -> Any:
        return "dry-run" if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _credentials_for_the_chosen_pager(self) -> PagerSettings:
        missing = []
        for path, variable in _REQUIRED.get(self.pager, ()):
            section, key = path.split(".")
            if getattr(getattr(self, section), key) is None:
                if path == "pagerduty.routing_key" and self.pagerduty.routing_keys.given:
                    continue  # every page has a key of its own (checked against the rota)
                hint = f" (set ${variable})" if variable else ""
                if path == "pagerduty.routing_key":
                    hint += ", or keys per person or layer in paging.pagerduty.routing_keys"
                missing.append(f"paging.{path} is required{hint}")
        if missing:
            raise ValueError(f'paging.pager is "{self.pager}", but ' + "; ".join(missing))
        return self


class PagingSettings(PagerSettings):
    """A rotation's whole `paging:` section; a rotation without one gets these defaults."""

    # Per escalation level, before paging the next one; severities not given keep the default.
    ack_timeout: dict[SeverityName, timedelta] = Field(
        default_factory=lambda: {k: parse_duration(v) for k, v in DEFAULT_ACK_TIMEOUT.items()}
    )
    repeat: int = Field(default=0, ge=0)  # times the whole chain repeats (PagerDuty num_loops)
    page_all_layers_at_once: list[SeverityName] = ["SEV1"]

    @field_validator("ack_timeout", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic reports the wrong type
        if PAGES_NOBODY in value:
            raise ValueError(
                f"{PAGES_NOBODY} pages nobody (it waits for the next business day): "
                f"remove its entry"
            )
        merged: dict[Any, Any] = {k: parse_duration(v) for k, v in DEFAULT_ACK_TIMEOUT.items()}
        for severity, text in value.items():
            if isinstance(text, timedelta):
                merged[severity] = text
                continue
            try:
                merged[severity] = parse_duration(text)
            except ValueError as exc:
                raise ValueError(f"{severity}: {exc}") from None
        return merged

    def ack_timeout_for(self, severity: str) -> timedelta | None:
        """How long one level has to acknowledge; None when the severity pages nobody."""
        name = str(severity)
        if name not in SEVERITIES:
            raise ValueError(f'unknown severity "{severity}": expected one of SEV1..SEV4')
        if name == PAGES_NOBODY:
            return None
        return self.ack_timeout.get(name)  # type: ignore[call-overload]

    def pages_all_layers_at_once(self, severity: str) -> bool:
        """True when this severity pages every layer immediately (SEV1 by default)."""
        return str(severity) in self.page_all_layers_at_once
