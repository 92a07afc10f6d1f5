"""Severity: ordering, parsing from text and picking the worst."""

from __future__ import annotations

from typing import get_args

import pytest

from rules import Severity, worst
from rules.severity import SEVERITIES, SeverityName


def test_severity_lower_value_is_worse() -> None:
    assert [s.value for s in Severity] == [1, 2, 3, 4]
    assert Severity.SEV1 < Severity.SEV2 < Severity.SEV3 < Severity.SEV4


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_str_and_format_are_the_name(severity: Severity) -> None:
    assert str(severity) == severity.name
    assert f"{severity}" == severity.name
    assert f"{severity:>5}" == " " + severity.name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SEV1", Severity.SEV1),
        ("sev2", Severity.SEV2),
        ("Sev3", Severity.SEV3),
        (" SEV4\n", Severity.SEV4),
    ],
)
def test_severity_parse_accepts_names_in_any_case(text: str, expected: Severity) -> None:
    assert Severity.parse(text) is expected


@pytest.mark.parametrize("text", ["SEV9", "SEV0", "1", "", "critical", "SEV 1", "SEV01"])
def test_severity_parse_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError) as error:
        Severity.parse(text)
    assert str(error.value) == (
        f'unknown severity "{text}": expected one of SEV1, SEV2, SEV3, SEV4'
    )


def test_severity_parse_error_message_names_the_input() -> None:
    with pytest.raises(ValueError, match=r'^unknown severity "SEV9": expected one of SEV1, '):
        Severity.parse("SEV9")


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        ((Severity.SEV3,), Severity.SEV3),
        ((Severity.SEV4, Severity.SEV2, Severity.SEV3), Severity.SEV2),
        ((Severity.SEV1, Severity.SEV4), Severity.SEV1),
        ((Severity.SEV4, Severity.SEV4), Severity.SEV4),
    ],
)
def test_worst_returns_most_severe(severities: tuple[Severity, ...], expected: Severity) -> None:
    assert worst(*severities) is expected


def test_worst_without_arguments_raises() -> None:
    with pytest.raises(ValueError, match="at least one"):
        worst()


def test_severity_name_type_lists_every_severity_in_order() -> None:
    assert get_args(SeverityName) == SEVERITIES
