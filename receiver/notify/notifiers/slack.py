"""Slack incoming webhooks: a header with the subject, the text as mrkdwn sections.

Slack answers 200 with the body `ok`; an error is a 4xx (or 5xx) whose plain-text body is
Slack's own error string (`invalid_payload`, `no_service`, `channel_is_archived`,
`action_prohibited`, ...), and a 429 carries Retry-After. The webhook URL is the credential:
it never appears in a detail or a log line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from receiver.delivery.json_post import JsonPoster
from receiver.delivery.outcome import Delivery
from receiver.notify.notifiers.base import Notice, redacted

SERVICE = "Slack"
HEADER_LIMIT = 150  # characters of a header block's plain_text
SECTION_LIMIT = 3000  # characters of a section block's text object
# Characters of all the sections together. Slack refuses a message whose blocks hold more than
# about 12,000 in all with `msg_blocks_too_long`, a permanent 400 (undocumented; measured at
# 13,297 in slackapi/bolt-js#2509): a longer text is cut, and says so. Sections of at most
# 3,000 cut between lines then number at most 7, well inside Slack's 50 blocks.
TEXT_LIMIT = 10_000
TRUNCATED = "\n…(truncated)"
ERROR_LIMIT = 200
_CUT_AT_SPACE = 200  # a line cut in two is cut at a space within this many characters
_ENTITY = 5  # the longest escape, "&amp;"


class SlackNotifier:
    """POSTs each notice to one Slack incoming webhook."""

    kind = "slack"

    def __init__(self, url: str, headers: Mapping[str, str] | None = None, timeout: float = 10):
        self._poster = JsonPoster(
            url,
            service=SERVICE,
            headers=headers,
            timeout=timeout,
            error_of=lambda response: slack_error(response.text),
        )

    def __repr__(self) -> str:
        return "SlackNotifier()"  # the URL is the secret

    def close(self) -> None:
        """Release pooled connections."""
        self._poster.close()

    def send(self, notice: Notice) -> Delivery:
        """One POST; Slack's error string in the detail, 429 and 5xx retryable."""
        return redacted(self._poster.post(slack_message(notice)), self._poster.url)


def slack_message(notice: Notice) -> dict[str, Any]:
    """The incoming-webhook body: fallback text, a header block, mrkdwn section blocks."""
    subject = " ".join(notice.subject.split())  # a header is one line
    text = _shortened(escape(notice.text), TEXT_LIMIT)
    blocks: list[dict[str, Any]] = []
    if subject:
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": _cut(subject, HEADER_LIMIT)}}
        )
    for part in mrkdwn_sections(text):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": part}})
    # The top-level text is what notifications and screen readers show.
    fallback = "\n".join(part for part in (escape(subject), text) if part)
    return {"text": fallback, "blocks": blocks}


def escape(text: str) -> str:
    """Slack's three control characters as entities, so that text cannot link or @-mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_sections(text: str, *, limit: int = SECTION_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut between lines.

    A line longer than `limit` is cut at a space (or anywhere, but never inside an entity
    such as `&amp;`).
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0  # len("\n".join(current))

    def flush() -> None:
        nonlocal current, size
        if current:
            parts.append("\n".join(current))
        current, size = [], 0

    for line in text.split("\n"):
        if len(line) > limit:
            flush()
            *whole, line = _pieces(line, limit)
            parts.extend(whole)
        if current and size + 1 + len(line) > limit:
            flush()
        size += len(line) + (1 if current else 0)
        current.append(line)
    flush()
    return [part for part in parts if part.strip()]


def slack_error(body: str) -> str:
    """Slack's error string from an error answer (plain text; JSON from some proxies)."""
    text = body.strip()
    if not text:
        return ""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        text = str(parsed.get("error") or parsed.get("message") or text)
    return text.splitlines()[0][:ERROR_LIMIT]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shortened(text: str, limit: int) -> str:
    """`text`, or its first characters (cut at a space, never inside an entity) and a mark."""
    if len(text) <= limit:
        return text
    return _pieces(text[:limit], limit - len(TRUNCATED))[0] + TRUNCATED


def _pieces(line: str, limit: int) -> list[str]:
    """`line` in pieces of at most `limit` characters, cut at spaces where possible."""
    if limit < 1:
        raise ValueError(f"cannot cut a line into pieces of {limit} characters")
    pieces: list[str] = []
    while len(line) > limit:
        space = line.rfind(" ", max(0, limit - _CUT_AT_SPACE), limit + 1)
        if space > 0:
            pieces.append(line[:space])
            line = line[space + 1 :]
            continue
        cut = limit
        entity = line.rfind("&", max(0, cut - _ENTITY + 1), cut)
        if entity > 0 and ";" not in line[entity:cut]:
            cut = entity  # never "&am" + "p;"
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces
