"""The `onwatch` command: one entry point, one subcommand per task.

Exit status: 0 success, 1 the check found problems, 2 the command could not run (bad
configuration, bad arguments, unreadable input).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from receiver.cli_support import EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE, UsageError
from receiver.config.settings import (
    CONFIG_ENV_VAR,
    ConfigError,
    RulesFile,
    Settings,
    load_model,
    load_settings,
    uncovered_default_service,
)
from receiver.config.settings import resolve_config_path as _resolve
from receiver.handoffs import cli as handoff_cli
from receiver.incidents import cli as incident_cli
from receiver.incidents.models import IncidentStatus
from receiver.pages import cli as user_cli
from receiver.paging import cli as escalation_cli
from receiver.paging.routing import routing_warnings
from receiver.report import cli as report_cli
from receiver.report.settings import FORMATS
from receiver.response import cli as response_cli
from receiver.rota import cli as rota_cli
from rules import format_decision
from rules.severity import SEVERITIES

# One worker per core, 8 threads each: a worker's concurrent webhook requests share one
# transaction (group commit), which needs threads; bench/ingest on 2 cores measured 2 x 8
# ahead of 4 x 1 (one transaction per request) and of 1 x 16 (one process: one core for the
# whole web stack). See the README's performance section.
DEFAULT_WORKERS = min(os.cpu_count() or 1, 8)
DEFAULT_THREADS = 8
LOG_FORMATS = ("text", "json")
log = logging.getLogger("onwatch")

NO_CREDENTIALS_WARNING = """
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! WARNING: the Alertmanager webhook has NO credentials configured.                     !!
!! Anyone who can reach this port can open and resolve incidents.                       !!
!! Set webhook.bearer_token (e.g. export ONWATCH_WEBHOOK_TOKEN=...) or webhook.basic_auth !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(_resolve(args.config))


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _credentials(settings: Settings) -> str:
    kinds = [
        name
        for name, present in (
            ("bearer token", settings.webhook.bearer_token is not None),
            ("basic auth", settings.webhook.basic_auth is not None),
        )
        if present
    ]
    return " and ".join(kinds) or "NONE (the webhook is open)"


def cmd_config_check(args: argparse.Namespace) -> int:
    """Validate the configuration file and summarise it (never printing a secret)."""
    settings = _settings(args)
    rule_set = settings.rule_set()
    print(f"configuration OK: {_resolve(args.config)}")
    print(f"  database:            {_safe_url(settings.database.url)}")
    print(f"  webhook credentials: {_credentials(settings)}")
    print(
        f"  severity rules:      {len(settings.rules)} own + "
        f"{len(rule_set.rules) - len(settings.rules)} built-in"
    )
    pagers = ", ".join(f"{r.name}={r.paging.pager}" for r in settings.rotations) or "none"
    print(f"  rotations and pagers: {pagers}")
    slack = settings.chat.slack
    print(
        "  slack channels:      "
        + (
            f"for {', '.join(slack.channel_for) or 'no severity'}"
            if slack.enabled
            else "off (chat.slack.bot_token is empty)"
        )
    )
    for problem in slack.problems():
        print(f"warning: {problem}", file=sys.stderr)
    if not settings.webhook.has_credentials:
        print(NO_CREDENTIALS_WARNING, file=sys.stderr)
    uncovered = uncovered_default_service(settings)
    if uncovered is not None:
        print(
            f"warning: routing.default_service {uncovered!r} is covered by no rotation and no "
            "rotation is the catch-all: alerts without a service label page nobody (add it to "
            "a rotation's services, or set `catch_all: true` on one rotation)",
            file=sys.stderr,
        )
    for warning in routing_warnings(settings.rotations):
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def _alerts_in(document: Any) -> list[dict[str, Any]]:
    """Alerts from a webhook payload, one alert object, or a list of alert objects."""
    if isinstance(document, dict) and isinstance(document.get("alerts"), list):
        document = document["alerts"]
    items = document if isinstance(document, list) else [document]
    alerts = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("labels"), dict):
            raise UsageError(f"alert [{index}]: expected an object with a `labels` mapping")
        alerts.append(item)
    return alerts


def cmd_rules_test(args: argparse.Namespace) -> int:
    """Show the severity, service and reason onwatch would give each alert in a file."""
    if args.rules:
        rules_file: RulesFile = load_model(RulesFile, args.rules)
        source = args.rules
    elif args.config or os.environ.get(CONFIG_ENV_VAR):
        rules_file = _settings(args)
        source = _resolve(args.config)
    else:
        rules_file, source = RulesFile(), "the built-in rules (no --rules or --config given)"
    try:
        document = json.loads(Path(args.alert_file).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{args.alert_file}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{args.alert_file}: not valid JSON: {exc}") from None
    rule_set = rules_file.rule_set()
    print(f"rules: {source}\n")
    for alert in _alerts_in(document):
        labels = alert["labels"]
        annotations = alert.get("annotations") or {}
        print(format_decision(labels, annotations, rule_set.decide(labels, annotations)))
        print()
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create or upgrade the database schema to this version's newest migration."""
    from receiver.store.database import Store

    settings = _settings(args)
    store = Store(settings.database)
    try:
        store.upgrade()
    finally:
        store.dispose()
    print(f"database schema is up to date: {_safe_url(settings.database.url)}")
    return EXIT_OK


def serve_refusal(settings: Settings, host: str) -> str | None:
    """Why `serve` must not listen on `host` with these settings, or None.

    Closed by default: without an API token the API answers loopback callers only, so a
    receiver on a network address is refused until a token is set, or `api.open: true`
    says that everyone who can reach the port may act.
    """
    from receiver.server import is_loopback_host

    if settings.api.bearer_token is not None or settings.api.open or is_loopback_host(host):
        return None
    return (
        f"refusing to listen on {host or 'every address'} without an API token: set "
        "api.bearer_token (e.g. export ONWATCH_API_TOKEN=...), or api.open: true if everyone "
        "who can reach this port may use the API, or listen on 127.0.0.1"
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the receiver under gunicorn until stopped."""
    from receiver.server import cannot_listen, serve
    from receiver.store.database import Store

    settings = _settings(args)
    refusal = serve_refusal(settings, args.host)
    if refusal is not None:  # before the database is touched: a refused start changes nothing
        raise UsageError(refusal)
    busy = cannot_listen(args.host, args.port)
    if busy is not None:  # before gunicorn (which retries and prints tracebacks) and the scheduler
        print(f"onwatch: {busy}", file=sys.stderr)
        return EXIT_PROBLEMS
    if not settings.webhook.has_credentials:
        log.warning(NO_CREDENTIALS_WARNING)
    store = Store(settings.database)
    try:
        store.ensure_schema()
    finally:
        store.dispose()
    log.info(
        "onwatch receiver on http://%s:%d (%d workers), database %s",
        args.host,
        args.port,
        args.workers,
        _safe_url(settings.database.url),
    )
    scheduler = []
    if not args.no_scheduler:
        scheduler = [
            sys.executable,
            "-m",
            "receiver.cli",
            "scheduler",
            "--config",
            _resolve(args.config),
            "--log-format",
            args.log_format,
        ]
    serve(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        scheduler=scheduler,
        log_format=args.log_format,
    )
    return EXIT_OK


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run the time-driven jobs (outbox, escalations) in this process, when elected.

    `onwatch serve` starts it with three options of its own: its pid (the scheduler exits,
    releasing the lease, when serve is gone), the lease holder name it chose, and the name of
    the scheduler it replaces (dead, so its lease is taken at once).
    """
    import signal

    from prometheus_client import CollectorRegistry

    from receiver.jobs.parent import follow_parent
    from receiver.jobs.runner import SchedulerRunner
    from receiver.metrics import Metrics
    from receiver.paging.dispatcher import count_dispatch
    from receiver.store.database import Store

    keep_running = follow_parent(args.parent_pid) if args.parent_pid else None
    if keep_running is not None and not keep_running():
        return EXIT_OK  # serve died while this process started: nothing to do, nothing held
    settings = _settings(args)
    store = Store(settings.database)
    store.ensure_schema()
    metrics = Metrics(CollectorRegistry())
    runner = SchedulerRunner(
        settings,
        store=store,
        on_outcome=lambda rotation, outcome: count_dispatch(metrics, rotation, outcome),
        on_notification=lambda target, outcome: metrics.notifications.labels(
            target=target, outcome=outcome
        ).inc(),
        holder=args.lease_holder,
        replacing=args.replaces,
        on_slack=lambda action, outcome: metrics.slack_calls.labels(
            action=action, outcome=outcome
        ).inc(),
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: runner.stop())
    log.info("onwatch scheduler %s: waiting for the scheduler lease", runner.lease.holder)
    runner.run(keep_running=keep_running)
    store.dispose()
    return EXIT_OK


def _with_settings(
    command: Callable[[argparse.Namespace, Settings], int],
) -> Callable[[argparse.Namespace], int]:
    return lambda args: command(args, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", help="configuration file (default: $ONWATCH_CONFIG)"
    )
    logs = argparse.ArgumentParser(add_help=False)
    logs.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="log lines as text (default) or as JSON objects, one a line",
    )
    parser = argparse.ArgumentParser(
        prog="onwatch", description="Alertmanager receiver, incident tracker and on-call rota."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common, logs], help="run the receiver")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"worker processes (default: 1 per core, {DEFAULT_WORKERS} here)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"threads per worker (default {DEFAULT_THREADS}: concurrent requests share "
        "transactions, see bench/ingest)",
    )
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="do not start the scheduler process (run `onwatch scheduler` elsewhere)",
    )
    serve.set_defaults(handler=cmd_serve)

    scheduler = commands.add_parser(
        "scheduler", parents=[common, logs], help="run the outbox and escalation jobs (one elected)"
    )
    # Set by `onwatch serve` for the scheduler it supervises (see cmd_scheduler); hidden.
    scheduler.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    scheduler.add_argument("--lease-holder", help=argparse.SUPPRESS)
    scheduler.add_argument("--replaces", help=argparse.SUPPRESS)
    scheduler.set_defaults(handler=cmd_scheduler)

    config = commands.add_parser("config", help="configuration file tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser("check", parents=[common], help="validate the file")
    check.set_defaults(handler=cmd_config_check)

    rules = commands.add_parser("rules", help="severity rules tools")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    test = rules_commands.add_parser(
        "test", parents=[common], help="grade the alerts of a JSON file and say why"
    )
    test.add_argument("alert_file", metavar="ALERT.json")
    test.add_argument("--rules", metavar="PATH", help="YAML file with a `rules:` list")
    test.set_defaults(handler=cmd_rules_test)

    rota = commands.add_parser("rota", help="the on-call rota")
    rota_commands = rota.add_subparsers(dest="rota_command", required=True)
    span = argparse.ArgumentParser(add_help=False)
    span.add_argument(
        "--from", dest="start", metavar="WHEN", help="date or ISO time (default: now)"
    )
    span.add_argument("--to", dest="end", metavar="WHEN", help="date or ISO time")
    rota_check = rota_commands.add_parser(
        "check", parents=[common, span], help="list every rota violation (exit 1 if any)"
    )
    rota_check.set_defaults(handler=_with_settings(rota_cli.cmd_rota_check))
    rota_show = rota_commands.add_parser(
        "show", parents=[common, span], help="print a rotation's shifts (default: 4 weeks)"
    )
    rota_show.add_argument("rotation", metavar="ROTATION")
    rota_show.set_defaults(handler=_with_settings(rota_cli.cmd_rota_show))
    rota_swaps = rota_commands.add_parser(
        "swaps", parents=[common], help="list the swaps the rules allow for one shift"
    )
    rota_swaps.add_argument("rotation", metavar="ROTATION")
    rota_swaps.add_argument("--at", metavar="WHEN", help="an instant of the shift (default: now)")
    rota_swaps.add_argument("--layer", help="the shift's layer (default: the first)")
    rota_swaps.add_argument(
        "--days", type=int, default=28, help="try shifts this many days either side (max 92)"
    )
    rota_swaps.set_defaults(handler=_with_settings(rota_cli.cmd_rota_swaps))
    rota_export = rota_commands.add_parser(
        "export", parents=[common, span], help="write the ICS feeds, or the shifts as CSV"
    )
    rota_export.add_argument("--format", choices=("ics", "csv"), default="ics")
    rota_export.add_argument(
        "--output", required=True, metavar="PATH", help="folder for ics; file (or -) for csv"
    )
    rota_export.set_defaults(handler=_with_settings(rota_cli.cmd_rota_export))

    calendar = commands.add_parser("calendar", help="calendar feeds")
    calendar_commands = calendar.add_subparsers(dest="calendar_command", required=True)
    urls = calendar_commands.add_parser(
        "urls", parents=[common], help="print every feed's subscription URL"
    )
    urls.add_argument("--base-url", required=True, metavar="URL", help="onwatch's public URL")
    urls.set_defaults(handler=_with_settings(rota_cli.cmd_calendar_urls))

    incident = commands.add_parser("incident", help="incidents")
    incident_commands = incident.add_subparsers(dest="incident_command", required=True)
    listing = incident_commands.add_parser("list", parents=[common], help="newest first")
    listing.add_argument("--status", choices=tuple(IncidentStatus))
    listing.add_argument("--severity", choices=SEVERITIES)
    listing.add_argument("--service")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(handler=_with_settings(incident_cli.cmd_incident_list))
    show = incident_commands.add_parser("show", parents=[common], help="one incident in full")
    show.add_argument("id", type=int)
    show.set_defaults(handler=_with_settings(incident_cli.cmd_incident_show))
    ack = incident_commands.add_parser("ack", parents=[common], help="acknowledge")
    ack.add_argument("id", type=int)
    ack.add_argument("--by", required=True, help="who acknowledges")
    ack.set_defaults(handler=_with_settings(incident_cli.cmd_incident_ack))
    resolve = incident_commands.add_parser("resolve", parents=[common], help="resolve by hand")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--by", required=True, help="who resolves")
    resolve.add_argument("--note", default="", help="why, for the timeline")
    resolve.add_argument(
        "--classification", choices=("actionable", "noise"), help="was it worth waking for?"
    )
    resolve.set_defaults(handler=_with_settings(incident_cli.cmd_incident_resolve))
    response_cli.register(commands, incident_commands, common, _with_settings)

    report = commands.add_parser("report", help="reports")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    burden = report_commands.add_parser(
        "burden", parents=[common], help="a month's on-call burden report"
    )
    burden.add_argument("--month", required=True, metavar="YYYY-MM", help="e.g. 2026-11")
    burden.add_argument("--rotation", metavar="NAME", help="one rotation only")
    burden.add_argument("--format", choices=FORMATS, default="md")
    burden.add_argument("--output", metavar="PATH", help="file to write (default: stdout)")
    burden.set_defaults(handler=_with_settings(report_cli.cmd_report_burden))

    handoff_cli.register(commands, common, _with_settings)
    escalation_cli.register(commands, common, _with_settings)
    user_cli.register(commands, common, _with_settings)

    db = commands.add_parser("db", help="database tools")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="migrate the schema")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    return parser


def configure_logging(log_format: str = "text") -> None:
    """The root handler (text or JSON lines) and the levels of chatty libraries.

    gunicorn's workers inherit it (forked from the master); the scheduler process is told
    the same `--log-format`.
    """
    from receiver.logevents import JsonFormatter

    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up chatter
    # "Adding job tentatively", "Added job", "Running job", "Job ... executed successfully":
    # a line per job per run; its warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # urllib3 logs each request line at DEBUG: for a Slack webhook that line is the secret.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
    # The dispatcher job runs every poll interval and a busy round outlasts it: APScheduler
    # then skips (coalesces) the next run and says so each time; that is the intended case.
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _SkippedRunFilter) for f in scheduler_log.filters):
        scheduler_log.addFilter(_SkippedRunFilter())


class _SkippedRunFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `onwatch` console script."""
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_format", "text"))
    from receiver.store.database import SchemaOutOfDate, StoreUnavailable

    try:
        return args.handler(args)
    except ConfigError as exc:
        print("configuration error:", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return EXIT_UNUSABLE
    except StoreUnavailable as exc:  # the operator's own terminal: the driver's detail helps
        detail = f" ({exc.detail})" if exc.detail != str(exc) else ""
        print(f"onwatch: {exc}{detail}", file=sys.stderr)
        return EXIT_UNUSABLE
    except (UsageError, SchemaOutOfDate) as exc:
        print(f"onwatch: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # `onwatch ... | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  # keep Python's exit flush quiet
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
