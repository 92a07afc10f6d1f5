"""Properties of matcher semantics and rendering, checked on generated label sets."""

from __future__ import annotations

import operator
import re
import string

from hypothesis import assume, given
from hypothesis import strategies as st

from rules import Matcher, MatchOp, parse_matcher


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern, re.ASCII)
    except re.error:
        return False
    return True


# Few names so generated matchers often hit labels that exist, and often ones that do not.
NAMES = st.sampled_from(["a", "b", "severity", "_x"])
# Any code point but surrogates (not valid UTF-8); built from integers so Hypothesis needs no
# Unicode category tables, whose first build is slow enough to fail its health check.
ANY_CHAR = st.one_of(st.integers(0, 0xD7FF), st.integers(0xE000, 0x10FFFF)).map(chr)
# Text biased towards the characters that quoting and escaping must survive.
TRICKY = st.text(
    st.one_of(st.sampled_from(['"', "\\", "\n", " ", "\t", "n", "=", "~", ","]), ANY_CHAR)
)
LABEL_SETS = st.dictionaries(NAMES, st.one_of(st.just(""), st.text(ANY_CHAR, max_size=5), TRICKY))
_NAME_START = string.ascii_letters + "_"
# The label-name grammar [a-zA-Z_][a-zA-Z0-9_]*, spelled out for the same reason as ANY_CHAR.
LABEL_NAMES = st.builds(
    operator.add, st.sampled_from(_NAME_START), st.text(_NAME_START + string.digits, max_size=10)
)
# Small regexes over a tiny alphabet, so they match generated values reasonably often.
REGEX_TOKENS = ["a", "b", ".", "*", "+", "?", "|", "(", ")", "^", "$", "[ab]", "[^a]", "\\n"]
REGEXES = st.lists(st.sampled_from(REGEX_TOKENS), max_size=8).map("".join).filter(_compiles)
SHORT_VALUES = st.text(st.sampled_from("ab\n"), max_size=4)


@st.composite
def values_near(draw: st.DrawFn, labels: dict[str, str]) -> str:
    """A value that is often one of the labels' values, so '=' is exercised both ways."""
    return draw(st.one_of(st.sampled_from([*labels.values(), ""]), TRICKY))


@given(name=NAMES, labels=LABEL_SETS, data=st.data())
def test_matcher_equal_and_not_equal_are_complements(
    name: str, labels: dict[str, str], data: st.DataObject
) -> None:
    value = data.draw(values_near(labels))
    equal = Matcher(name, MatchOp.EQUAL, value).matches(labels)
    assert Matcher(name, MatchOp.NOT_EQUAL, value).matches(labels) is not equal


@given(name=NAMES, labels=LABEL_SETS, pattern=REGEXES)
def test_matcher_regex_and_not_regex_are_complements(
    name: str, labels: dict[str, str], pattern: str
) -> None:
    found = Matcher(name, MatchOp.REGEX, pattern).matches(labels)
    assert Matcher(name, MatchOp.NOT_REGEX, pattern).matches(labels) is not found


@given(name=NAMES, labels=LABEL_SETS, data=st.data())
def test_matcher_regex_of_escaped_value_equals_equality(
    name: str, labels: dict[str, str], data: st.DataObject
) -> None:
    value = data.draw(values_near(labels))
    escaped = Matcher(name, MatchOp.REGEX, re.escape(value))
    assert escaped.matches(labels) is Matcher(name, MatchOp.EQUAL, value).matches(labels)


@given(
    name=NAMES,
    labels=st.dictionaries(NAMES, SHORT_VALUES),
    pattern=REGEXES,
)
def test_matcher_regex_is_python_fullmatch_of_label_or_empty(
    name: str, labels: dict[str, str], pattern: str
) -> None:
    expected = re.fullmatch(pattern, labels.get(name, ""), re.ASCII) is not None
    assert Matcher(name, MatchOp.REGEX, pattern).matches(labels) is expected


@given(name=LABEL_NAMES, op=st.sampled_from(MatchOp), value=TRICKY)
def test_matcher_str_round_trips_through_parse(name: str, op: MatchOp, value: str) -> None:
    if op.is_regex:
        # Regex matchers need a valid regex; escaping keeps every character of the text.
        value = re.escape(value)
    matcher = Matcher(name, op, value)
    rendered = str(matcher)
    assert parse_matcher(rendered) == matcher
    assert str(parse_matcher(rendered)) == rendered


@given(name=LABEL_NAMES, op=st.sampled_from(MatchOp), value=TRICKY)
def test_matcher_str_is_one_line(name: str, op: MatchOp, value: str) -> None:
    assume(not op.is_regex)
    assert "\n" not in str(Matcher(name, op, value))
