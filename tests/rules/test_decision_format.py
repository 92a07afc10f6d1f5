"""format_decision: the text ``onwatch rules test`` prints for one alert."""

from __future__ import annotations

import pytest

from rules import (
    Decision,
    Rule,
    RuleSet,
    Severity,
    default_rules,
    format_decision,
    parse_matcher,
    parse_matchers,
)
from rules.defaults import AT_LEAST_50_PERCENT, OVER_10_PERCENT
from rules.explain import describe_matcher


def test_format_decision_shows_alert_grade_route_evidence_and_reason() -> None:
    labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
    annotations = {"summary": "Checkout 5xx error rate above 5%"}
    decision = RuleSet(default_rules()).decide(labels, annotations)
    assert format_decision(labels, annotations, decision) == "\n".join(
        [
            "alert:    HighErrorRate",
            "summary:  Checkout 5xx error rate above 5%",
            "severity: SEV2",
            "service:  checkout",
            "rule:     severity-critical",
            'matched:  severity=~"(?i:critical|page)"',
            'why:      SEV2 by rule "severity-critical" (severity=~"(?i:critical|page)"); '
            'routed to service "checkout"',
        ]
    )


def test_format_decision_lists_each_matcher_on_its_own_line() -> None:
    decision = Decision(Severity.SEV1, "api", "r", ('env="prod"', 'annotations.runbook!=""'))
    lines = format_decision({"alertname": "A"}, {}, decision).splitlines()
    assert lines[4:6] == ['matched:  env="prod"', '          annotations.runbook!=""']


def test_format_decision_without_alertname_or_summary() -> None:
    decision = RuleSet(default_rules()).decide({}, {})
    assert format_decision({}, {}, decision) == "\n".join(
        [
            "alert:    (no alertname label)",
            "severity: SEV3",
            "service:  unrouted",
            "rule:     unclassified",
            "matched:  (catch-all rule, no matchers)",
            'why:      SEV3 by rule "unclassified" (catch-all, no matchers); '
            'routed to service "unrouted"',
        ]
    )


def test_format_decision_when_no_rule_matched() -> None:
    decision = RuleSet(()).decide({"alertname": "A", "service": "api"}, {})
    text = format_decision({"alertname": "A"}, {}, decision)
    assert "rule:     no-rule-matched" in text.splitlines()
    assert "matched:  (no rule matched)" in text.splitlines()
    assert text.endswith('why:      SEV3 by fallback: no rule matched; routed to service "api"')


def test_format_decision_keeps_a_multiline_summary_on_one_line() -> None:
    decision = RuleSet(()).decide({}, {})
    text = format_decision({}, {"summary": "first\n  second\tthird"}, decision)
    assert "summary:  first second third" in text.splitlines()


@pytest.mark.parametrize(
    ("percent", "rule", "comparison"),
    [
        ("75", "most-users-affected", "impact_users_percent >= 50"),
        ("050.0", "most-users-affected", "impact_users_percent >= 50"),
        ("20", "many-users-affected", "impact_users_percent > 10"),
        ("10.5", "many-users-affected", "impact_users_percent > 10"),
    ],
)
def test_users_percent_rules_explain_the_threshold_not_the_regex(
    percent: str, rule: str, comparison: str
) -> None:
    labels = {"alertname": "CheckoutErrors", "impact_users_percent": percent}
    decision = RuleSet(default_rules()).decide(labels, {})
    text = format_decision(labels, {}, decision)
    assert decision.rule == rule
    assert decision.matched == (comparison,)
    assert f"matched:  {comparison}" in text.splitlines()
    severity = "SEV1" if rule == "most-users-affected" else "SEV2"
    assert decision.explain() == (
        f'{severity} by rule "{rule}" ({comparison}); routed to service "unrouted"'
    )
    assert "0*(?:" not in text and "[0-9]" not in text


@pytest.mark.parametrize(
    ("matcher", "words"),
    [
        (f'impact_users_percent=~"{AT_LEAST_50_PERCENT}"', "impact_users_percent >= 50"),
        (f'impact_users_percent!~"{AT_LEAST_50_PERCENT}"', "not impact_users_percent >= 50"),
        (f'share=~"{OVER_10_PERCENT}"', "share > 10"),
        # Anything else is shown as written, a look-alike regex included.
        ('impact_users_percent=~"[5-9][0-9]"', 'impact_users_percent=~"[5-9][0-9]"'),
        (f'impact_users_percent="{AT_LEAST_50_PERCENT}"', None),
        ('severity=~"(?i:critical|page)"', 'severity=~"(?i:critical|page)"'),
    ],
)
def test_describe_matcher(matcher: str, words: str | None) -> None:
    parsed = parse_matcher(matcher)
    assert describe_matcher(parsed) == (words if words is not None else str(parsed))


def test_a_user_rule_reusing_the_threshold_reads_the_same_and_matches_the_same() -> None:
    rule = Rule(
        "half-the-tenants",
        Severity.SEV1,
        parse_matchers([f'tenants_percent=~"{AT_LEAST_50_PERCENT}"']),
        annotation_matchers=parse_matchers([f'share!~"{OVER_10_PERCENT}"']),
    )
    rules = RuleSet((rule,))
    decision = rules.decide({"tenants_percent": "50"}, {"share": "5"})
    assert decision.matched == ("tenants_percent >= 50", "annotations.not share > 10")
    # The words change, the regex still decides: "50%" is not a plain decimal.
    assert rules.decide({"tenants_percent": "50%"}, {}).rule == "no-rule-matched"
