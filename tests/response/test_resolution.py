"""resolution_view and format_span: the incident's times against the seed's MTTR targets."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from response.resolution import format_span, resolution_view, span_in_words
from response.targets import ResponseTargets
from tests.support.paths import REPO_ROOT
from tests.support.response_builders import TARGETS, acknowledged, at, facts, resolved

PROJECT_ROOT = REPO_ROOT
MY_MODULES = ("checklist", "reminders", "milestones", "resolution")


def test_resolution_view_open_incident_counts_to_now() -> None:
    view = resolution_view(acknowledged(3), TARGETS, now=at(90))
    assert view.time_to_acknowledge == timedelta(minutes=3)
    assert view.time_to_resolve is None
    assert view.elapsed == timedelta(minutes=90)
    assert view.mttr_target == timedelta(hours=4)
    assert view.breached is False


def test_resolution_view_resolved_incident_counts_to_resolution_not_now() -> None:
    view = resolution_view(resolved(125), TARGETS, now=at(days=3))
    assert view.time_to_resolve == timedelta(minutes=125)
    assert view.elapsed == timedelta(minutes=125)
    assert view.time_to_acknowledge is None
    assert view.breached is False


@pytest.mark.parametrize(
    ("severity", "target"),
    [
        ("SEV1", timedelta(hours=4)),
        ("SEV2", timedelta(hours=24)),
        ("SEV3", timedelta(hours=72)),
        ("SEV4", timedelta(weeks=1)),
    ],
)
def test_resolution_view_breach_for_each_severity(severity: str, target: timedelta) -> None:
    opened = facts(severity=severity)
    second = timedelta(seconds=1)
    assert resolution_view(opened, TARGETS, now=at() + target).breached is False
    assert resolution_view(opened, TARGETS, now=at() + target + second).breached is True
    late = resolved((target + second) / timedelta(minutes=1), severity=severity)
    view = resolution_view(late, TARGETS, now=at(days=30))
    assert view.mttr_target == target
    assert view.breached is True


def test_resolution_view_reads_the_configured_target() -> None:
    targets = ResponseTargets(mttr={"SEV1": timedelta(hours=1)})
    assert resolution_view(resolved(61), targets, now=at(61)).breached is True


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=4, minutes=5), "4h 05m"),
        (timedelta(minutes=12, seconds=30), "12m 30s"),
        (timedelta(days=2, hours=3, minutes=59), "2d 03h"),
        (timedelta(seconds=45), "45s"),
        (timedelta(0), "0s"),
        (timedelta(minutes=59, seconds=59, microseconds=999_999), "59m 59s"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(days=7), "7d"),
        (timedelta(seconds=30), "30s"),
        (-timedelta(minutes=5), "-5m"),
    ],
)
def test_format_span_examples(span: timedelta, text: str) -> None:
    assert format_span(span) == text


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=48), "48 hours"),
        (timedelta(weeks=1), "1 week"),
        (timedelta(weeks=2), "2 weeks"),
        (timedelta(days=30), "30 days"),
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(seconds=90), "1m 30s"),
    ],
)
def test_span_in_words_examples(span: timedelta, text: str) -> None:
    assert span_in_words(span) == text


def test_response_modules_import_only_the_standard_library() -> None:
    imports = "; ".join(f"import response.{name}" for name in MY_MODULES)
    code = (
        f"import sys; before = set(sys.modules); {imports}; "
        "print('\\n'.join(sorted(set(sys.modules) - before)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    top_level = {name.split(".")[0] for name in result.stdout.split()}
    foreign = top_level - set(sys.stdlib_module_names) - {"response"}
    assert not foreign, f"response imports non-stdlib modules: {sorted(foreign)}"
