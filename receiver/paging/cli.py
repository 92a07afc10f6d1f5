"""`onwatch escalation show ROTATION [--severity SEV2]`: whom onwatch would page, and when."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from receiver.cli_support import EXIT_OK, UsageError, require_rotation
from receiver.composition import build_rota, paging_context
from receiver.config.settings import Settings
from receiver.paging.escalation import paths_now, severities_asked
from receiver.rota.store import stored_overrides
from response.resolution import format_span
from scheduler.briefing import format_instant
from scheduler.escalation_paths import EscalationPath
from scheduler.rota import Rota


def _contact(rota: Rota, name: str | None) -> str:
    if name is None:
        return "NOBODY (no one on call: this page fails)"
    person = rota.people[name]
    pagerduty = "PagerDuty user set" if person.pagerduty_user_id else "no PagerDuty user"
    return f"{person.name} <{person.email}> ({person.zone.key}, {pagerduty})"


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
    rota: Rota, rotation: str, paths: list[EscalationPath], pager: str, now: datetime
) -> str:
    """The paths of an incident opened at `now`, as a terminal shows them (rotation's clock)."""
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
                f"{step.via}{loop}: {_contact(rota, step.person)}"
            )
        if path.queued is not None:
            queued = path.queued
            lines.append(
                f"  queued until {format_instant(queued.until, zone)} (09:00 on the next "
                f"business day in {queued.zone.key}), then {rotation} {queued.target}: "
                f"{_contact(rota, queued.person)}"
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
    pager = paging.policy(args.rotation).pager
    sys.stdout.write(format_paths(rota, args.rotation, paths, pager, now))
    return EXIT_OK


def register(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    wrap: Callable[
        [Callable[[argparse.Namespace, Settings], int]], Callable[[argparse.Namespace], int]
    ],
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
