"""Plain-text rendering of a decision, for ``onwatch rules test`` and logs."""

from __future__ import annotations

from collections.abc import Mapping

from rules.engine import NO_RULE_MATCHED, Decision

_INDENT = " " * len("matched:  ")


def format_decision(
    labels: Mapping[str, str], annotations: Mapping[str, str], decision: Decision
) -> str:
    """Show what was decided for an alert and why, so a rule author can check a rule set."""
    lines = [f"alert:    {labels.get('alertname') or '(no alertname label)'}"]
    summary = annotations.get("summary")
    if summary:
        # A multi-line summary would break the one-field-per-line layout.
        lines.append(f"summary:  {one_line(summary)}")
    lines += [
        f"severity: {decision.severity}",
        f"service:  {decision.service}",
        f"rule:     {decision.rule}",
    ]
    if decision.matched:
        first, *rest = decision.matched
        lines.append(f"matched:  {first}")
        lines += [_INDENT + text for text in rest]
    elif decision.rule == NO_RULE_MATCHED:
        lines.append("matched:  (no rule matched)")
    else:
        lines.append("matched:  (catch-all rule, no matchers)")
    lines.append(f"why:      {decision.explain()}")
    return "\n".join(lines)


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())
