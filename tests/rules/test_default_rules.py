"""Default rules: the seed's severity decision tree, its numeric thresholds and real payloads."""

from __future__ import annotations

import json
import operator
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import Decision, RuleSet, Severity, default_rules, parse_matcher
from rules.defaults import AT_LEAST_50_PERCENT, OVER_10_PERCENT, label_problems
from tests.support.paths import FIXTURES

FIXTURE_DIRS = (FIXTURES,)
DECIMAL = re.compile(r"[0-9]+(?:[.][0-9]+)?")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(default_rules())


def load_alert(name: str) -> dict[str, dict[str, str]]:
    """The first alert of a captured Alertmanager 0.25 webhook payload."""
    for directory in FIXTURE_DIRS:
        path = directory / name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))["alerts"][0]
    pytest.skip(f"fixture {name} not found in {[str(d) for d in FIXTURE_DIRS]}")


@pytest.mark.parametrize(
    ("labels", "severity", "rule"),
    [
        ({"impact_revenue": "true"}, Severity.SEV1, "revenue-impact"),
        ({"impact_data_loss": "true"}, Severity.SEV1, "data-loss-risk"),
        ({"impact_outage": "complete"}, Severity.SEV1, "complete-outage"),
        ({"impact_users_percent": "50"}, Severity.SEV1, "most-users-affected"),
        ({"impact_users_percent": "10.5"}, Severity.SEV2, "many-users-affected"),
        ({"impact_critical_workflow": "true"}, Severity.SEV2, "critical-workflow-broken"),
        ({"impact_workaround": "true"}, Severity.SEV3, "workaround-available"),
        ({"impact_users": "none"}, Severity.SEV4, "no-user-impact"),
        ({"severity": "critical"}, Severity.SEV2, "severity-critical"),
        ({"severity": "page"}, Severity.SEV2, "severity-critical"),
        ({"severity": "warning"}, Severity.SEV3, "severity-warning"),
        ({"severity": "error"}, Severity.SEV3, "severity-warning"),
        ({"severity": "info"}, Severity.SEV4, "severity-info"),
        ({"severity": "none"}, Severity.SEV4, "severity-info"),
        ({}, Severity.SEV3, "unclassified"),
    ],
)
def test_default_rules_grade_each_branch_of_the_decision_tree(
    rules: RuleSet, labels: dict[str, str], severity: Severity, rule: str
) -> None:
    decision = rules.decide(labels, {})
    assert (decision.severity, decision.rule) == (severity, rule)


@pytest.mark.parametrize(
    ("labels", "rule"),
    [
        # Seed order: revenue is asked first, so it wins over a workaround or a low label.
        ({"impact_revenue": "true", "impact_workaround": "true"}, "revenue-impact"),
        ({"impact_revenue": "true", "severity": "info"}, "revenue-impact"),
        ({"impact_users_percent": "60", "impact_critical_workflow": "true"}, "most-users-affected"),
        ({"impact_users_percent": "20", "impact_critical_workflow": "true"}, "many-users-affected"),
        (
            {"impact_users_percent": "5", "impact_critical_workflow": "true"},
            "critical-workflow-broken",
        ),
        # Explicit impact labels beat the generic severity label, in both directions.
        ({"impact_workaround": "true", "severity": "critical"}, "workaround-available"),
        ({"impact_users": "none", "severity": "critical"}, "no-user-impact"),
        ({"impact_critical_workflow": "true", "severity": "info"}, "critical-workflow-broken"),
    ],
)
def test_default_rules_ask_the_seed_questions_in_order(
    rules: RuleSet, labels: dict[str, str], rule: str
) -> None:
    assert rules.decide(labels, {}).rule == rule


@pytest.mark.parametrize(
    "labels",
    [
        {"impact_revenue": "True"},
        {"impact_revenue": "false"},
        {"impact_revenue": ""},
        {"impact_outage": "partial"},
        {"impact_users": "some"},
        {"severity": "criticality"},
        {"severity": "high"},
        {"severity": ""},
    ],
)
def test_default_rules_values_outside_the_conventions_are_unclassified(
    rules: RuleSet, labels: dict[str, str]
) -> None:
    assert rules.decide(labels, {}).rule == "unclassified"


@pytest.mark.parametrize("value", ["CRITICAL", "Critical", "PAGE", "Warning", "INFO", "None"])
def test_default_rules_severity_label_is_case_insensitive(rules: RuleSet, value: str) -> None:
    assert rules.decide({"severity": value}, {}).rule.startswith("severity-")


@pytest.mark.parametrize(
    ("percent", "rule"),
    [
        ("50", "most-users-affected"),
        ("50.0", "most-users-affected"),
        ("050", "most-users-affected"),
        ("99.999", "most-users-affected"),
        ("100", "most-users-affected"),
        ("1000", "most-users-affected"),
        ("49.999", "many-users-affected"),
        ("12", "many-users-affected"),
        ("12.5", "many-users-affected"),
        ("11", "many-users-affected"),
        ("10.01", "many-users-affected"),
        ("10.000001", "many-users-affected"),
        ("010.5", "many-users-affected"),
        ("10", "unclassified"),
        ("10.0", "unclassified"),
        ("10.000", "unclassified"),
        ("010", "unclassified"),
        ("9.99", "unclassified"),
        ("0", "unclassified"),
        ("abc", "unclassified"),
        ("", "unclassified"),
        ("50%", "unclassified"),
        ("+50", "unclassified"),
        ("-50", "unclassified"),
        ("5e1", "unclassified"),
        ("12.", "unclassified"),
        (".5", "unclassified"),
        (" 50", "unclassified"),
        ("\u0665\u0660", "unclassified"),
    ],
)
def test_default_rules_users_percent_thresholds(rules: RuleSet, percent: str, rule: str) -> None:
    assert rules.decide({"impact_users_percent": percent}, {}).rule == rule


def decimals(max_digits: int) -> st.SearchStrategy[str]:
    """Decimal strings as the conventions define them: digits, optionally "." and digits."""
    digits = st.text("0123456789", min_size=1, max_size=max_digits)
    return st.builds(operator.add, digits, st.one_of(st.just(""), digits.map(".".__add__)))


# Short enough that float() is exact for the comparisons with 10 and 50.
DECIMALS = decimals(5)
# Long enough that float() would round (10.000000000000000001); Decimal compares exactly.
LONG_DECIMALS = decimals(30)


@given(DECIMALS)
def test_at_least_50_regex_agrees_with_float_comparison(text: str) -> None:
    assert (re.fullmatch(AT_LEAST_50_PERCENT, text) is not None) is (float(text) >= 50)


@given(DECIMALS)
def test_over_10_regex_agrees_with_float_comparison(text: str) -> None:
    assert (re.fullmatch(OVER_10_PERCENT, text) is not None) is (float(text) > 10)


@given(LONG_DECIMALS)
def test_percent_regexes_agree_with_exact_decimal_comparison(text: str) -> None:
    number = Decimal(text)
    assert (re.fullmatch(AT_LEAST_50_PERCENT, text) is not None) is (number >= 50)
    assert (re.fullmatch(OVER_10_PERCENT, text) is not None) is (number > 10)


@given(st.text(st.sampled_from("0123456789.+-e %x ")))
def test_percent_regexes_match_only_plain_decimals(text: str) -> None:
    if DECIMAL.fullmatch(text) is None:
        assert re.fullmatch(OVER_10_PERCENT, text) is None
        assert re.fullmatch(AT_LEAST_50_PERCENT, text) is None


@given(LONG_DECIMALS)
def test_default_rules_route_users_percent_like_the_numbers(text: str) -> None:
    decision = RuleSet(default_rules()).decide({"impact_users_percent": text}, {})
    number = Decimal(text)
    expected = (
        "most-users-affected"
        if number >= 50
        else "many-users-affected"
        if number > 10
        else "unclassified"
    )
    assert decision.rule == expected


def test_default_rules_have_unique_names_and_end_with_a_catch_all() -> None:
    rules = default_rules()
    assert len({rule.name for rule in rules}) == len(rules)
    assert rules[-1].name == "unclassified"
    assert rules[-1].severity is Severity.SEV3
    assert rules[-1].label_matchers == rules[-1].annotation_matchers == ()
    assert all(rule.label_matchers for rule in rules[:-1])
    assert all(rule.description for rule in rules)


def test_default_rules_matchers_render_as_pasteable_alertmanager_matchers() -> None:
    for rule in default_rules():
        for matcher in rule.label_matchers:
            assert parse_matcher(str(matcher)) == matcher
            assert "\\" not in str(matcher)


def test_default_rules_firing_single_fixture_is_sev2_for_checkout(rules: RuleSet) -> None:
    alert = load_alert("firing_single.json")
    assert rules.decide(alert["labels"], alert["annotations"]) == Decision(
        severity=Severity.SEV2,
        service="checkout",
        rule="severity-critical",
        matched=('severity=~"(?i:critical|page)"',),
    )


def test_default_rules_minimal_labels_fixture_is_unclassified(rules: RuleSet) -> None:
    alert = load_alert("minimal_labels_only.json")
    assert alert["annotations"] == {}
    assert rules.decide(alert["labels"], alert["annotations"]) == Decision(
        severity=Severity.SEV3, service="minimal", rule="unclassified", matched=()
    )


@pytest.mark.parametrize("value", ["abc", "12%", ".5", "-3", "1e3"])
def test_label_problems_name_a_users_percent_that_is_not_a_number(value: str) -> None:
    [problem] = label_problems({"impact_users_percent": value})
    assert problem.startswith(f'impact_users_percent="{value}" is not a number')


@pytest.mark.parametrize("labels", [{}, {"impact_users_percent": "12.5"}, {"severity": "x"}])
def test_label_problems_none_for_readable_labels(labels: dict[str, str]) -> None:
    assert label_problems(labels) == ()
