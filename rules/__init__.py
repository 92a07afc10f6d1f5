"""Pure severity grading: Alertmanager-style matchers, ordered rules, the default policy."""

from __future__ import annotations

from rules.defaults import default_rules
from rules.engine import Decision, Rule, RuleSet
from rules.explain import format_decision
from rules.matchers import Matcher, MatcherError, MatchOp, parse_matcher, parse_matchers
from rules.severity import Severity, worst

__all__ = [
    "Decision",
    "MatchOp",
    "Matcher",
    "MatcherError",
    "Rule",
    "RuleSet",
    "Severity",
    "default_rules",
    "format_decision",
    "parse_matcher",
    "parse_matchers",
    "worst",
]
