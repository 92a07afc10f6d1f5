"""The `web:` section of the configuration: how people sign in to the pages.

The pages are closed by default: without `auth` every page says how to turn them on, and a
mode without its secret is a configuration error rather than a page open to anyone.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from receiver.config.base import SettingsModel
from receiver.config.interpolation import blank_is_unset

AuthMode = Literal["proxy", "password"]
# Where failed sign-ins are counted, as a `limits` storage URI: memory:// counts in each
# worker process; a shared store (redis://HOST:6379, memcached://HOST:11211) counts across
# workers and replicas, with its client package installed (pip install redis / pymemcache).
LIMIT_STORAGE_SCHEMES = (
    "memory",
    "redis",
    "rediss",
    "redis+sentinel",
    "redis+cluster",
    "memcached",
)


class ProxySettings(SettingsModel):
    """`auth: proxy`: an OAuth2/OIDC proxy in front signs people in and names them in a header."""

    header: str = Field(default="X-Forwarded-Email", min_length=1)
    # The addresses (or networks) of the proxy: the header is believed only from these.
    trusted_addresses: list[str] = []

    @field_validator("trusted_addresses")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network") from None
        return values

    def trusts(self, address: str | None) -> bool:
        """True when `address` (the socket's peer) is one of the proxy's addresses."""
        try:
            ip = ipaddress.ip_address((address or "").split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.trusted_addresses)


class WebSettings(SettingsModel):
    """Sign-in for the pages; `auth` unset keeps every page closed."""

    auth: AuthMode | None = None
    # Signs the session cookie (and the CSRF token in it); the same on every replica.
    session_secret: SecretStr | None = None
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    sign_in_attempts_per_minute: int = Field(default=10, ge=1, le=1000)
    sign_in_limit_storage: str = "memory://"
    proxy: ProxySettings = ProxySettings()

    blanks_are_unset = field_validator("session_secret", "auth", mode="before")(blank_is_unset)

    @field_validator("sign_in_limit_storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        scheme, separator, _ = value.partition("://")
        if not separator or scheme not in LIMIT_STORAGE_SCHEMES:
            known = ", ".join(f"{s}://" for s in LIMIT_STORAGE_SCHEMES)
            raise ValueError(f"expected a URI starting with one of {known}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> WebSettings:
        if self.auth is not None and self.session_secret is None:
            raise ValueError(
                f"session_secret: auth is {self.auth!r}, so a secret must sign the session "
                "cookie (set ONWATCH_WEB_SECRET to a long random string)"
            )
        if self.session_secret is not None and len(self.session_secret.get_secret_value()) < 16:
            raise ValueError("session_secret: at least 16 characters")
        if self.auth == "proxy" and not self.proxy.trusted_addresses:
            raise ValueError(
                "proxy.trusted_addresses: auth is 'proxy', so name the proxy's addresses (the "
                f"{self.proxy.header} header is believed only from them)"
            )
        return self
