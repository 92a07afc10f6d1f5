"""Announcing an incident's progress to the audiences its severity calls for.

The seed's table says who hears about an incident of each severity (SEV1: exec and
all-hands; ... SEV4: the team). The team that runs the incident hears at every severity:
the `team` audience (with the rotation's `notify:` targets) is added to the severity's
audiences, so an IC who lowers SEV1 to SEV2 does not silence the responders' own channel.
Each audience reads the internal or the executive template; each message is rendered now
and queued in the notification outbox, in the caller's transaction, so that an update that
is stored is also delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlmodel import Session

from receiver.incidents.models import IncidentRecord
from receiver.notify.outbox import audience_targets, enqueue
from receiver.notify.settings import TEAM
from receiver.response.context import ResponseContext
from receiver.slack import outbox as slack_outbox
from response.rendering import RenderedMessage, TemplateError, TemplateName, Templates
from rules.severity import is_severity_name


@dataclass(frozen=True)
class Announced:
    """Where a message went: the targets it was queued for and those skipped (no URL)."""

    targets: tuple[str, ...]
    skipped: tuple[str, ...]
    template_errors: tuple[str, ...] = ()  # configured templates that failed (built-in used)

    def describe(self) -> str:
        """For the timeline: "sent to team-slack, exec-mail" or why nothing was sent."""
        sent = f"queued for {', '.join(self.targets)}" if self.targets else "no target to send to"
        if self.skipped:
            sent += f" (skipped, no URL or SMTP host configured: {', '.join(self.skipped)})"
        for error in self.template_errors:
            sent += f"; the configured template failed, the built-in one was used: {error}"
        return sent


def announce(
    session: Session,
    incident: IncidentRecord,
    *,
    topic: str,
    render: Callable[[Templates, TemplateName], RenderedMessage],
    context: ResponseContext,
    now: datetime,
    dedup_key: str,
    audiences: list[str] | None = None,
    recipients: list[dict[str, str]] | None = None,
) -> Announced:
    """Queue `render`'s message for each audience of the incident's severity and the team
    (see `severity_audiences`), or for `audiences` when given.

    `render(templates, name)` renders with the given templates (the configured ones, or the
    built-in ones when a configured template fails).

    `recipients` ({"name", "email"}) are the people a message is for (an e-mail target
    mails them; chat and webhook targets show them).
    """
    chosen = audiences if audiences is not None else severity_audiences(context, incident.severity)
    addressees, skipped = audience_targets(
        context.notifications, chosen, context.team_targets(incident.service)
    )
    rendered: dict[str, RenderedMessage] = {}
    errors: list[str] = []
    queued: list[str] = []
    for addressee in addressees:
        template = addressee.template
        if template not in rendered:
            try:
                rendered[template] = render(context.templates, template)
            except TemplateError as exc:
                # A user's template must never block the change it announces (a resolution
                # from Alertmanager would be refused and retried for ever): say so, and send
                # the built-in rendering.
                errors.append(str(exc))
                rendered[template] = render(builtin_templates(), template)
        message = rendered[template]
        if enqueue(
            session,
            target=addressee.target,
            topic=topic,
            subject=message.subject,
            text=message.text,
            dedup_key=dedup_key,
            now=now,
            deadline=context.paging.deadline,
            payload={
                "incident_id": incident.id,
                "severity": incident.severity,
                "service": incident.service,
                "status": incident.status,
                "title": incident.title,
                "channel": incident.channel,
                "template": template,
                "recipients": recipients or [],
            },
            incident_id=incident.id,
            audience=addressee.audience,
        ):
            queued.append(addressee.target)
    slack_outbox.announced(
        session,
        incident.id or 0,
        topic=topic,
        render=render,
        templates=context.templates,
        dedup_key=dedup_key,
        now=now,
        slack=context.slack,
    )
    return Announced(tuple(queued), tuple(skipped), tuple(errors))


def severity_audiences(context: ResponseContext, severity: str) -> list[str]:
    """The audiences that hear about an incident of `severity`: the configured ones for it
    (`notifications.severity_audiences`), then the team's if they are not among them.

    The seed's table names who is *told* (executives for SEV1, leadership for SEV2); the
    team is who *works* the incident, at every severity. Without it a severity change would
    move the updates away from the people posting them (SEV1's all-hands may include the
    team's channel, SEV2's leadership and affected teams usually do not).
    """
    by_severity = context.notifications.severity_audiences
    chosen = list(by_severity.get(severity, [])) if is_severity_name(severity) else []
    return chosen if TEAM in chosen else [*chosen, TEAM]


@cache
def builtin_templates() -> Templates:
    """onwatch's own templates, the fallback for a configured one that fails."""
    return Templates()
