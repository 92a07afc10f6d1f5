"""`onwatch report burden`: the monthly on-call burden report from a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from receiver.cli_support import EXIT_OK, UsageError
from receiver.composition import build_rota
from receiver.config.settings import Settings
from receiver.report.build import UnknownRotation, build_report
from receiver.report.render import render
from receiver.store.database import Store
from scheduler.burden import Month


def cmd_report_burden(args: argparse.Namespace, settings: Settings) -> int:
    """Print or write one month's burden report (md, html, csv or json)."""
    try:
        month = Month.parse(args.month, settings.report.zone)
    except ValueError as exc:
        raise UsageError(f"--month: {exc}") from None
    store = Store(settings.database)
    try:
        store.ensure_schema()
        rota = build_rota(settings)
        report = build_report(settings, store, month, rota=rota, rotation=args.rotation)
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
