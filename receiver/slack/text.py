"""What onwatch says in Slack: escaped text, people as mentions, the opening message with its
buttons, the topic and the announcement line.

Text is rendered when queued, with each person as a placeholder (`person`), because only the
dispatcher can ask Slack who they are (`users.lookupByEmail`); it turns the placeholders into
real mentions (`<@U123>`) when sending, or into the plain name for someone Slack does not know.
Slack reads `<`, `>` and `&` as markup, so everything else is escaped first (`escape`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ACKNOWLEDGE_ACTION, RESOLVE_ACTION = "onwatch_ack", "onwatch_resolve"  # the buttons' ids
_PLACEHOLDER = re.compile(r"<onwatch-person:([^>]+)>")
_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]+")
MAX_NAME = 80  # Slack's limit for a channel name


def escape(text: str) -> str:
    """Text as Slack shows it literally (its three control characters escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def person(name: str) -> str:
    """A person in queued text, made a mention when sent (`mentions`)."""
    return f"<onwatch-person:{escape(name)}>"


def mentions(text: str, slack_id: Callable[[str], str | None]) -> str:
    """Queued text as sent: each person a mention (`<@U123>`), or their name when Slack does
    not know them."""

    def one(match: re.Match[str]) -> str:
        name = _unescape(match.group(1))
        user = slack_id(name)
        return f"<@{user}>" if user else escape(name)

    return _PLACEHOLDER.sub(one, text)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_name(channel: str, suffix: int = 1) -> str:
    """A Slack channel name for an incident's channel ("#inc-20261128-x"): lower case,
    letters, digits, "-" and "_", at most 80 characters; `suffix` > 1 for a name Slack
    says is taken ("-2", "-3", ...)."""
    base = _NOT_IN_NAME.sub("-", channel.lstrip("#").lower()).strip("-") or "incident"
    tail = "" if suffix == 1 else f"-{suffix}"
    return base[: MAX_NAME - len(tail)].rstrip("-") + tail


@dataclass(frozen=True)
class AlertLine:
    """One alert as the opening message lists it."""

    name: str
    status: str
    summary: str
    explanation: str  # which rule graded it, and why
    runbook_url: str
    graph_url: str


def opening_text(
    *,
    incident_id: int,
    severity: str,
    title: str,
    service: str,
    alerts: Sequence[AlertLine],
    link: str,
) -> str:
    """The opening message: what fired, why this severity, where to look, how to act."""
    lines = [
        f":rotating_light: *{escape(severity)} incident #{incident_id}: {escape(title)}* "
        f"(service {escape(service)})"
    ]
    for alert in alerts:
        lines.append(
            f"• *{escape(alert.name)}* {escape(alert.status)}"
            + (f": {escape(alert.summary)}" if alert.summary else "")
        )
        lines.append(f"   _{escape(alert.explanation)}_")
        links = [
            f"<{escape(url)}|{label}>"
            for url, label in ((alert.runbook_url, "runbook"), (alert.graph_url, "graph"))
            if url.startswith(("http://", "https://"))
        ]
        if links:
            lines.append("   " + " · ".join(links))
    lines.append("Whoever is paged is invited and named here as the page goes out.")
    if link:
        lines.append(f"<{escape(link)}|Incident #{incident_id} in onwatch>")
    lines.append("Act here: the buttons below, or `/onwatch help`")
    return "\n".join(lines)


def opening_blocks(
    text: str, incident_id: int, *, acknowledged_by: str = "", resolved_by: str = ""
) -> list[dict[str, Any]]:
    """The opening message's blocks: its text, who acknowledged and resolved it (as Slack
    text, mentions already made), then the buttons that still apply: none once resolved,
    only Resolve once acknowledged."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    ]
    done = [
        f"{verb} by {who}"
        for verb, who in (
            (":white_check_mark: Acknowledged", acknowledged_by),
            (":large_green_circle: Resolved", resolved_by),
        )
        if who
    ]
    if done:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(done)}]}
        )
    buttons = [
        {
            "type": "button",
            "action_id": action,
            "text": {"type": "plain_text", "text": label},
            "style": style,
            "value": str(incident_id),
        }
        for action, label, style, applies in (
            (ACKNOWLEDGE_ACTION, "Acknowledge", "primary", not acknowledged_by and not resolved_by),
            (RESOLVE_ACTION, "Resolve", "danger", not resolved_by),
        )
        if applies
    ]
    if buttons:
        # Slack asks for a new block_id each time a message's blocks change.
        state = "acked" if acknowledged_by else "open"
        blocks.append(
            {"type": "actions", "block_id": f"onwatch-{incident_id}-{state}", "elements": buttons}
        )
    return blocks


def stage(*, status: str, acknowledged: bool, update_status: str) -> str:
    """Where an incident stands, for its topic: resolved, else the latest status update's
    status (investigating, identified, monitoring), else acknowledged or open."""
    if status != "open":
        return status
    if update_status and update_status != "resolved":
        return update_status
    return "acknowledged" if acknowledged else "open"


def opening_as_it_stands(
    text: str,
    incident_id: int,
    *,
    acknowledged_by: str | None,
    resolved: bool,
    resolved_by: str | None,
    slack_id: Callable[[str], str | None],
) -> list[dict[str, Any]]:
    """The opening message's blocks for an incident acknowledged and resolved by whom it
    was (onwatch's people, made mentions; no one resolved it by hand: Alertmanager did),
    around the message's sent `text`."""

    def who(name: str | None) -> str:
        return mentions(person(name), slack_id) if name else ""

    resolver = (who(resolved_by) or "Alertmanager (the alerts resolved)") if resolved else ""
    return opening_blocks(
        text, incident_id, acknowledged_by=who(acknowledged_by), resolved_by=resolver
    )


def topic(*, severity: str, status: str, commander: str | None, incident_id: int, link: str) -> str:
    """The channel's topic: severity, status, IC and the incident's link (Slack keeps 250
    characters; the topic is plain text, so the IC is named, not mentioned)."""
    parts = [severity, status, f"IC: {commander or 'not named yet'}", f"onwatch #{incident_id}"]
    if link:
        parts.append(link)
    return " | ".join(parts)[:250]
