"""`onwatch report burden`: the monthly on-call burden report from a terminal.

`--month` takes the same range as the API (`receiver.instants.parse_month`: ten years back
to the current month), since a month far ahead generates the rota for minutes.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from receiver.cli_support import EXIT_OK, UsageError
from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.instants import parse_month
from receiver.report.build import UnknownRotation, build_report
from receiver.report.render import render
from receiver.store.database import Store


def cmd_report_burden(args: argparse.Namespace, settings: Settings) -> int:
    """Print or write one month's burden report (md, html, csv or json)."""
    now = datetime.now(UTC)  # the CLI's clock
    try:
        month = parse_month(args.month, zone=settings.report.zone, now=now)
    except ValueError as exc:
        raise UsageError(f"--month: {exc}") from None
    store = Store(settings.database)
    try:
        store.ensure_schema()
        rota = build_rota(settings)
        report = build_report(settings, store, month, rota=rota, rotation=args.rotation, now=now)
    except UnknownRotation as exc:
        raise UsageError(f"--rotation: {exc}") from None
    finally:
        store.dispose()
    text = render(report, args.format)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return EXIT_OK
