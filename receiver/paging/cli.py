"""`onwatch escalation show ROTATION [--severity SEV2]`: whom onwatch would page, and when."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from receiver.cli_support import EXIT_OK, UsageError, Wrap, require_rotation
from receiver.composition import build_rota, paging_context
from receiver.config.settings import Settings
from receiver.paging.escalation import paths_now, severities_asked
from receiver.paging.routing import ROUTED_PAGER, Route, RoutingKeys
from receiver.rota.store import stored_overrides
from response.resolution import format_span
from scheduler.briefing import format_instant
from scheduler.escalation_paths import EscalationPath
from scheduler.rota import Rota


def _contact(rota: Rota, name: str | None, target: str, routing: RoutingKeys | None) -> str:
    if name is None:
        return "NOBODY (no one on call: this page fails)"
    person = rota.people[name]
    if routing is not None:  # the Events API: whom the routing key's service wakes
        pagerduty = _routed(routing.route(name, target))
    else:
        pagerduty = "PagerDuty user set" if person.pagerduty_user_id else "no PagerDuty user"
    return f"{person.name} <{person.email}> ({person.zone.key}, {pagerduty})"


def _routed(route: Route | None) -> str:
    if route is None:
        return "NO routing key: this page fails"
    if route.via.startswith("routing_keys.people."):
        return "own routing key"
    return f"{route.via}: PagerDuty's policy picks who is woken"


def _policy_line(path: EscalationPath) -> str:
    policy = path.policy
    if policy.ack_timeout is None:
        return f"{path.severity}: pages nobody now (next business day)"
    timeout = format_span(policy.ack_timeout)
    start = "every layer at once" if policy.all_at_once else "one level at a time"
    repeats = {0: "chain not repeated", 1: "chain repeated once"}.get(
        policy.repeat, f"chain repeated {policy.repeat} times"
    )
    return (
        f"{path.severity}: {start}; next level after {timeout} without an acknowledgement; "
        f"{repeats}"
    )


def format_paths(
    rota: Rota,
    rotation: str,
    paths: list[EscalationPath],
    pager: str,
    now: datetime,
    routing: RoutingKeys | None = None,
) -> str:
    """The paths of an incident opened at `now`, as a terminal shows them (rotation's clock);
    with the Events API's `routing`, whether each page reaches its person's own service."""
    zone = rota.rotation(rotation).zone
    lines = [
        f"{rotation}: escalation paths for an incident opened {format_instant(now, zone)} "
        f"(pager {pager}, times in {zone.key})"
    ]
    for path in paths:
        lines += ["", _policy_line(path)]
        for step in path.steps:
            loop = f" (repeat {step.loop})" if step.loop else ""
            lines.append(
                f"  +{format_span(step.after):<7} {format_instant(step.at, zone)}  "
                f"{step.via}{loop}: {_contact(rota, step.person, step.target, routing)}"
            )
        if path.queued is not None:
            queued = path.queued
            lines.append(
                f"  queued until {format_instant(queued.until, zone)} (09:00 on the next "
                f"business day in {queued.zone.key}), then {rotation} {queued.target}: "
                f"{_contact(rota, queued.person, queued.target, routing)}"
            )
    return "\n".join(lines) + "\n"


def cmd_escalation_show(
    args: argparse.Namespace, settings: Settings, *, now: datetime | None = None
) -> int:
    """Print whom each severity (or --severity) would page now and after each timeout."""
    require_rotation(settings, args.rotation)
    try:
        severities = severities_asked(args.severity)
    except ValueError as exc:
        raise UsageError(f"--severity: {exc}") from None
    now = now or datetime.now(UTC)
    rota = build_rota(settings)
    overrides, _ = stored_overrides(settings, now)
    paging = paging_context(settings, rota)
    paths = paths_now(paging, args.rotation, severities, now, overrides)
    policy = paging.policy(args.rotation)
    routing = RoutingKeys.from_settings(policy.pagerduty) if policy.pager == ROUTED_PAGER else None
    sys.stdout.write(format_paths(rota, args.rotation, paths, policy.pager, now, routing))
    return EXIT_OK


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    wrap: Wrap,
) -> None:
    """Add `onwatch escalation show` to the `onwatch` parser's subcommands."""
    escalation = commands.add_parser("escalation", help="escalation paths")
    escalation_commands = escalation.add_subparsers(dest="escalation_command", required=True)
    show = escalation_commands.add_parser(
        "show", parents=[common], help="whom onwatch would page now, and after each timeout"
    )
    show.add_argument("rotation", metavar="ROTATION")
    show.add_argument("--severity", metavar="SEV", help="one severity only (SEV1..SEV4)")
    show.set_defaults(handler=wrap(cmd_escalation_show))
