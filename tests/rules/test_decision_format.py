"""format_decision: the text ``onwatch rules test`` prints for one alert."""

from __future__ import annotations

from rules import Decision, RuleSet, Severity, default_rules, format_decision


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
