"""Incident channel names in the seed's form: `#inc-YYYYMMDD-brief-description`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime

# Slack's limit for a channel name, which is where these names end up.
MAX_CHANNEL_LENGTH = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens: what every chat tool accepts in a name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


def brief_description(group_labels: Mapping[str, str]) -> str:
    """The group's alertname, then its other grouping labels: `higherrorrate-checkout`."""
    parts = [group_labels.get("alertname", "")]
    parts += [value for key, value in sorted(group_labels.items()) if key != "alertname"]
    return slugify(" ".join(parts)) or "alert"


def channel_candidates(opened_at: datetime, description: str) -> Iterator[str]:
    """Channel names for an incident opened at `opened_at`, in order of preference (endless).

    The first is `#inc-YYYYMMDD-description`; a second incident with the same description on
    the same day gets `-2`, then `-3`, ... The description is cut to fit Slack's limit.
    """
    prefix = f"#inc-{opened_at:%Y%m%d}-"
    counter = 1
    while True:
        suffix = "" if counter == 1 else f"-{counter}"
        room = MAX_CHANNEL_LENGTH - len(prefix) - len(suffix)
        yield prefix + description[:room].rstrip("-") + suffix
        counter += 1


def channel_name(opened_at: datetime, description: str, taken: Collection[str] = ()) -> str:
    """The first of `channel_candidates` that is not among `taken`."""
    return next(name for name in channel_candidates(opened_at, description) if name not in taken)
