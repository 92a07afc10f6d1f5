"""Status updates and all-clear messages, rendered from Jinja2 templates a user may replace.

Two templates, `internal` (the seed's Internal Update) and `executive` (business impact,
customer communication, timeline), are built in (response/templates/*.j2); a Jinja2 file
named in the configuration replaces either. Both get the same context:

    kind                    "update" (a status update) or "all_clear" (the incident is resolved)
    status                  the status being announced, capitalised: "Identified", "Resolved"
    incident                id, title, service, severity ("SEV1"), status ("open" | "resolved"),
                            channel, opened_at, acknowledged_at, acknowledged_by, resolved_at,
                            resolved_by (None when the monitoring resolved it)
    update                  the update being announced: status, impact, current_action, eta,
                            at, by; None for the all-clear
    updates                 every update so far (including `update`), oldest first
    last_impact             the latest non-empty impact of those updates, or ""
    worst_impact            the impact at the incident's worst: that of the last update
                            before the first monitoring/resolved one (see `worst_update`);
                            else `last_impact`
    severity_changes        every change of severity after opening, oldest first: at,
                            previous, severity, by ("" when an alert raised it), reason,
                            verb ("raised" | "lowered"); `x is severity_change` tells them
                            from updates in a merged list
    roles                   role key -> role: commander, technical_lead, communications_lead,
                            scribe; each has key, title ("Incident Commander"), person, since
                            and by (person, since and by are None when nobody holds it)
    customer_communication  what the checklist says about it, in its own words:
                            '"Customer communication drafted if needed" ticked 00:15 UTC by
                            dave: drafted' or '... not ticked yet'
    duration                opened -> resolved (or now while open), e.g. "1h 25m"
    time_to_acknowledge     opened -> acknowledged, e.g. "4m", or None
    mttr_target             the severity's time-to-resolve target, e.g. "4h", or None if unknown
    mttr_breached           True when `duration` exceeds the target (None if the target is unknown)
    postmortem_scheduled    True when a postmortem was scheduled for the incident
    now                     the time of rendering

Times are timezone-aware UTC datetimes; format them with the filters `utc`
("2026-11-28 10:05 UTC"), `clock` ("10:05 UTC" on the day of `now`, else like `utc`) and
`duration` (a timedelta as "1h 25m"). A template may set `subject` at its top level
(`{% set subject = ... %}`); otherwise the subject is the built-in one. Templates are plain
text (Slack mrkdwn passes through): nothing is HTML-escaped.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from response.checklist import item_spec
from response.facts import (
    IncidentFacts,
    Postmortem,
    Role,
    RoleAssignment,
    SeverityChange,
    StatusUpdate,
    Tick,
    UpdateStatus,
)
from response.resolution import format_span
from rules.explain import one_line

TemplateName = Literal["internal", "executive"]
Kind = Literal["update", "all_clear"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
CUSTOMER_COMMUNICATION = "customer_communication"  # the checklist item customers were told by
CONTEXT_VARIABLES = (
    "kind",
    "status",
    "incident",
    "update",
    "updates",
    "last_impact",
    "worst_impact",
    "severity_changes",
    "roles",
    "customer_communication",
    "duration",
    "time_to_acknowledge",
    "mttr_target",
    "mttr_breached",
    "postmortem_scheduled",
    "now",
)


class TemplateError(ValueError):
    """A user template that does not compile, or fails to render; names the file and line."""


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready to send: a one-line subject and the text."""

    subject: str
    text: str


@dataclass(frozen=True)
class IncidentView:
    """The incident as templates see it."""

    id: int
    title: str
    service: str
    severity: str
    status: str
    channel: str
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class RoleView:
    """One incident role as templates see it; person is None when nobody holds it."""

    key: str
    title: str
    person: str | None = None
    since: datetime | None = None
    by: str | None = None


def as_utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime is taken to be UTC already."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def format_utc(at: datetime) -> str:
    """A time as people read it in messages: "2026-11-28 10:05 UTC"."""
    return as_utc(at).strftime("%Y-%m-%d %H:%M UTC")


def format_clock(at: datetime, now: datetime) -> str:
    """ "10:05 UTC" when `at` falls on the UTC day of `now`, else the full `format_utc`."""
    at = as_utc(at)
    return at.strftime("%H:%M UTC") if at.date() == as_utc(now).date() else format_utc(at)


@jinja2.pass_context
def _clock_filter(context: jinja2.runtime.Context, at: datetime) -> str:
    return format_clock(at, context["now"])


def environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    """A sandboxed Jinja2 environment for plain text: strict about unknown names, no escaping."""
    # Sandboxed: a template from the configuration formats values, it cannot reach Python.
    env = ImmutableSandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(utc=format_utc, clock=_clock_filter, duration=format_span)
    env.tests["severity_change"] = _is_severity_change
    return env


def _is_severity_change(value: object) -> bool:
    # Lets a template merge `updates` and `severity_changes` into one timeline.
    return isinstance(value, SeverityChange)


@functools.cache
def builtin_environment() -> jinja2.Environment:
    """The environment of the built-in templates in response/templates/."""
    return environment(jinja2.FileSystemLoader(TEMPLATE_DIR))


def message_context(
    facts: IncidentFacts,
    update: StatusUpdate | None,
    now: datetime,
    mttr_target: timedelta | None,
) -> dict[str, Any]:
    """The context both message templates get (see the module docstring)."""
    kind: Kind = "update" if update is not None else "all_clear"
    updates = _with_update(facts.updates, update)
    ended = facts.resolved_at if facts.resolved_at is not None else now
    elapsed = as_utc(ended) - as_utc(facts.opened_at)
    acknowledged = facts.acknowledged_at
    status = update.status if update is not None else UpdateStatus.RESOLVED
    return {
        "kind": kind,
        "status": str(status).capitalize(),
        "incident": IncidentView(
            id=facts.id,
            title=facts.title,
            service=facts.service,
            severity=facts.severity,
            status=facts.status,
            channel=facts.channel,
            opened_at=as_utc(facts.opened_at),
            acknowledged_at=as_utc(acknowledged) if acknowledged else None,
            acknowledged_by=facts.acknowledged_by,
            resolved_at=as_utc(facts.resolved_at) if facts.resolved_at else None,
            resolved_by=facts.resolved_by,
        ),
        "update": _utc_update(update) if update is not None else None,
        "updates": [_utc_update(u) for u in updates],
        "last_impact": last_impact(updates),
        "worst_impact": worst_impact(updates),
        "severity_changes": [
            replace(c, at=as_utc(c.at), reason=one_line(c.reason))
            for c in sorted(facts.severity_changes, key=lambda c: as_utc(c.at))
        ],
        "roles": role_views(facts.roles),
        "customer_communication": customer_communication(facts.ticks, now),
        "duration": format_span(elapsed),
        "time_to_acknowledge": (
            format_span(as_utc(acknowledged) - as_utc(facts.opened_at)) if acknowledged else None
        ),
        "mttr_target": format_span(mttr_target) if mttr_target is not None else None,
        "mttr_breached": elapsed > mttr_target if mttr_target is not None else None,
        "postmortem_scheduled": facts.postmortem is not None,
        "now": as_utc(now),
    }


def last_impact(updates: Sequence[StatusUpdate]) -> str:
    """The impact the latest update that stated one gave, or ""."""
    return next((u.impact for u in reversed(updates) if u.impact.strip()), "")


def last_before_mitigation(updates: Sequence[StatusUpdate]) -> StatusUpdate | None:
    """The last update stating an impact that came before the first one reporting a
    mitigation (status monitoring or resolved); None without such an update."""
    ordered = sorted(updates, key=lambda u: as_utc(u.at))
    mitigation = next((u for u in ordered if u.status.mitigated), None)
    if mitigation is None:
        return None
    before = [u for u in ordered if u.impact.strip() and as_utc(u.at) < as_utc(mitigation.at)]
    return before[-1] if before else None


def worst_update(updates: Sequence[StatusUpdate]) -> StatusUpdate | None:
    """The update that stated the impact at the incident's worst, or None if none stated one.

    The rule: the last update stating an impact that was posted before the first update
    reporting a mitigation (`last_before_mitigation`). Until a mitigation is in place the
    impact holds or grows, and each update is the responders' best knowledge of it; from
    the mitigation on, updates describe the recovery ("errors back to baseline"), which is
    not what an all-clear or a postmortem should call the impact. Without a mitigation
    reported, or when the first update already reported one, the latest update stating an
    impact (as before this rule).

    Why not the update posted at the highest severity: an IC who lowers the severity before
    the mitigation is usually correcting an overestimate, so the highest-severity update is
    not the worst real impact; and this rule needs only the updates, which every message and
    the postmortem have.
    """
    worst = last_before_mitigation(updates)
    if worst is not None:
        return worst
    stated = [u for u in sorted(updates, key=lambda u: as_utc(u.at)) if u.impact.strip()]
    return stated[-1] if stated else None


def worst_impact(updates: Sequence[StatusUpdate]) -> str:
    """The impact of `worst_update`, or "" when no update stated one."""
    update = worst_update(updates)
    return update.impact if update is not None else ""


def role_views(roles: tuple[RoleAssignment, ...]) -> dict[str, RoleView]:
    """Every seed role in the seed's order, with its current holder where there is one."""
    held = {assignment.role: assignment for assignment in roles}
    views: dict[str, RoleView] = {}
    for role in Role:
        holder = held.get(role)
        views[role.value] = (
            RoleView(role.value, role.title, holder.person, as_utc(holder.at), holder.by)
            if holder
            else RoleView(role.value, role.title)
        )
    return views


def customer_communication(ticks: tuple[Tick, ...], now: datetime) -> str:
    """What the "customer_communication" checklist item says, in the checklist's own words.

    The item is "Customer communication drafted if needed", ticked by hand with a note:
    a tick says that much and no more (a draft is not a message customers have read), so
    the text quotes the item and the tick's note rather than claiming customers were told.
    """
    spec = item_spec(CUSTOMER_COMMUNICATION)
    label = f'"{spec.label if spec else CUSTOMER_COMMUNICATION}"'
    # The earliest tick is the one the checklist shows (a repeated tick changes nothing).
    tick = min(
        (t for t in ticks if t.item == CUSTOMER_COMMUNICATION), key=lambda t: t.at, default=None
    )
    if tick is None:
        return f"{label} not ticked yet"
    note = f": {one_line(tick.note)}" if tick.note.strip() else " (no note)"
    return f"{label} ticked {format_clock(tick.at, now)} by {tick.by}{note}"


def _utc_update(update: StatusUpdate) -> StatusUpdate:
    return replace(update, at=as_utc(update.at))


def _with_update(
    updates: tuple[StatusUpdate, ...], update: StatusUpdate | None
) -> list[StatusUpdate]:
    # The receiver may render before or after storing the update: count it once either way.
    def key(u: StatusUpdate) -> tuple[object, ...]:
        return (as_utc(u.at), u.by, u.status, u.impact, u.current_action, u.eta)

    merged = list(updates)
    if update is not None and key(update) not in {key(u) for u in updates}:
        merged.append(update)
    return sorted(merged, key=lambda u: as_utc(u.at))


class Templates:
    """The message templates: built-in ones, each replaceable by a user's Jinja2 file."""

    def __init__(self, internal: Path | None = None, executive: Path | None = None) -> None:
        builtin = builtin_environment()
        self._templates: dict[str, jinja2.Template] = {}
        for name, path in (("internal", internal), ("executive", executive)):
            if path is None:
                self._templates[name] = builtin.get_template(f"{name}.j2")
            else:
                self._templates[name] = _checked_user_template(path)

    def status_update(
        self,
        template: TemplateName,
        facts: IncidentFacts,
        update: StatusUpdate,
        now: datetime,
        *,
        mttr_target: timedelta | None = None,
    ) -> RenderedMessage:
        """The message announcing `update` of the incident, for readers of `template`."""
        context = message_context(facts, update, now, mttr_target)
        return self._render(template, context)

    def all_clear(
        self, template: TemplateName, facts: IncidentFacts, now: datetime, mttr_target: timedelta
    ) -> RenderedMessage:
        """The all-clear message of the resolved incident, for readers of `template`."""
        context = message_context(facts, None, now, mttr_target)
        return self._render(template, context)

    def _render(self, name: TemplateName, context: Mapping[str, Any]) -> RenderedMessage:
        return _render(self._templates[name], _default_subject(name, context), context)


def check_template(path: Path) -> None:
    """Raise TemplateError unless `path` compiles and renders with the documented context."""
    _checked_user_template(path)


def _default_subject(name: TemplateName, context: Mapping[str, Any]) -> str:
    incident: IncidentView = context["incident"]
    if name == "executive":
        resolved = " (resolved)" if context["kind"] == "all_clear" else ""
        return f"[{incident.severity}] Executive update: {incident.title}{resolved}"
    return f"[{incident.severity}] {incident.service}: {context['status']} — {incident.title}"


def _render(
    template: jinja2.Template, default_subject: str, context: Mapping[str, Any]
) -> RenderedMessage:
    try:
        try:
            module = template.make_module(dict(context))
            text = str(module)
            subject = str(getattr(module, "subject", default_subject))
        except Exception:
            # Re-raised with the template's own line numbers in the traceback, as render() does.
            template.environment.handle_exception()
    except Exception as exc:  # a user's expression can fail in any way Python can
        raise TemplateError(_located(template, exc, _problem(exc))) from exc
    return RenderedMessage(subject=one_line(subject), text=text)


def _problem(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _located(template: jinja2.Template, exc: BaseException, problem: str) -> str:
    # Jinja rewrites tracebacks so a template's frames carry its file name and line.
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f"{template.filename}, line {line}" if line else f"{template.filename}"
    return f"{where}: {problem}"


def _checked_user_template(path: Path) -> jinja2.Template:
    env = environment(jinja2.FileSystemLoader(str(path.parent)))
    try:
        template = env.get_template(path.name)
        source = path.read_text(encoding="utf-8")
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{path}, line {exc.lineno}: syntax error: {exc.message}") from exc
    except (jinja2.TemplateNotFound, OSError, UnicodeError) as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc}") from exc
    unknown = _unknown_variable(env, source)
    if unknown is not None:
        name, line = unknown
        raise TemplateError(
            f"{path}, line {line}: unknown variable '{name}' "
            f"(templates get: {', '.join(CONTEXT_VARIABLES)})"
        )
    for name, context in _sample_contexts():
        try:
            _render(template, "", context)
        except TemplateError as exc:
            raise TemplateError(f"{exc} (rendering a sample {name})") from None
    return template


def _unknown_variable(env: jinja2.Environment, source: str) -> tuple[str, int] | None:
    ast = env.parse(source)
    unknown = meta.find_undeclared_variables(ast) - set(CONTEXT_VARIABLES) - set(env.globals)
    if not unknown:
        return None
    found = [(n.lineno, n.name) for n in ast.find_all(nodes.Name) if n.name in unknown]
    line, name = min(found)
    return name, line


def _sample_contexts() -> list[tuple[str, dict[str, Any]]]:
    # Rendered once per user file at start, so a template that fails on a common shape
    # (an all-clear without an update, an incident nobody acknowledged) is reported then.
    opened = datetime(2026, 1, 1, 23, 40, tzinfo=UTC)
    later = opened + timedelta(minutes=40)
    update = StatusUpdate(
        later, "carol", UpdateStatus.IDENTIFIED, "Card payments fail", "Rolling back", "01:30 UTC"
    )
    full = IncidentFacts(
        id=1,
        title="Checkout payments failing",
        service="checkout",
        severity="SEV1",
        channel="#inc-20260101-checkout",
        status="resolved",
        opened_at=opened,
        acknowledged_at=opened + timedelta(minutes=4),
        acknowledged_by="alice",
        resolved_at=later + timedelta(minutes=45),
        resolved_by="alice",
        roles=tuple(RoleAssignment(role, "alice", opened, "alice") for role in Role),
        updates=(update,),
        severity_changes=(
            SeverityChange(opened + timedelta(minutes=10), "SEV2", "SEV1", "alice", "revenue"),
            SeverityChange(opened + timedelta(minutes=5), "SEV3", "SEV2", "", "rule r"),
        ),
        ticks=(Tick(CUSTOMER_COMMUNICATION, later, "dave", "status page"),),
        postmortem=Postmortem(scheduled_at=later + timedelta(minutes=45)),
    )
    still_open = replace(full, status="open", resolved_at=None, resolved_by=None, postmortem=None)
    bare = IncidentFacts(
        id=2,
        title="Disk filling",
        service="api",
        severity="SEV4",
        channel="",
        status="open",
        opened_at=opened,
    )
    hours = timedelta(hours=4)
    return [
        ("update", message_context(still_open, update, later, hours)),
        ("all-clear", message_context(full, None, later + timedelta(hours=1), hours)),
        ("update of a bare incident", message_context(bare, update, later, None)),
        ("all-clear of a bare incident", message_context(bare, None, later, hours)),
    ]
