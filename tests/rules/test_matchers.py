"""Matchers: Alertmanager 0.25 parsing, rendering and matching semantics, as tables."""

from __future__ import annotations

import re

import pytest

from rules import Matcher, MatcherError, MatchOp, parse_matcher, parse_matchers

EQ, NE, RE, NRE = MatchOp.EQUAL, MatchOp.NOT_EQUAL, MatchOp.REGEX, MatchOp.NOT_REGEX


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('foo="bar"', Matcher("foo", EQ, "bar")),
        ('foo!="bar"', Matcher("foo", NE, "bar")),
        ('foo=~"b.*"', Matcher("foo", RE, "b.*")),
        ('foo!~"b.*"', Matcher("foo", NRE, "b.*")),
        ("foo=bar", Matcher("foo", EQ, "bar")),
        ("foo=~bar|baz", Matcher("foo", RE, "bar|baz")),
        ('  foo  !=  "bar"  ', Matcher("foo", NE, "bar")),
        ("\tfoo\n=\r bar \f", Matcher("foo", EQ, "bar")),
        ("_x1=y", Matcher("_x1", EQ, "y")),
        ('foo=""', Matcher("foo", EQ, "")),
        ("foo=", Matcher("foo", EQ, "")),
        ("foo!=", Matcher("foo", NE, "")),
        # Alertmanager takes the longest operator first and the rest is the value.
        ("foo==bar", Matcher("foo", EQ, "=bar")),
        ("foo=!bar", Matcher("foo", EQ, "!bar")),
        # Whitespace inside quotes is part of the value; outside quotes it is trimmed.
        ('foo=" padded "', Matcher("foo", EQ, " padded ")),
        ("foo= two words ", Matcher("foo", EQ, "two words")),
        ('foo="a,b"', Matcher("foo", EQ, "a,b")),
        ('foo="ünïcødé ✓"', Matcher("foo", EQ, "ünïcødé ✓")),
        # Escapes: \" \\ \n; an unknown escape keeps its backslash, so regexes need no doubling.
        (r'foo="say \"hi\""', Matcher("foo", EQ, 'say "hi"')),
        (r'foo="back\\slash"', Matcher("foo", EQ, "back\\slash")),
        (r'foo="two\nlines"', Matcher("foo", EQ, "two\nlines")),
        (r'foo=~"\d+\.\d+"', Matcher("foo", RE, r"\d+\.\d+")),
        (r'foo=~"\\d"', Matcher("foo", RE, r"\d")),
        (r"foo=a\"b", Matcher("foo", EQ, 'a"b')),
        # A lone trailing backslash is literal; a literal line feed is tolerated.
        ("foo=bar\\", Matcher("foo", EQ, "bar\\")),
        ('foo="one\ntwo"', Matcher("foo", EQ, "one\ntwo")),
    ],
)
def test_parse_matcher_accepts_alertmanager_syntax(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


BAD_FORMAT = "expected name, operator (=, !=, =~, !~) and value"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", f'bad matcher "foo": {BAD_FORMAT}'),
        ("", f'bad matcher "": {BAD_FORMAT}'),
        ("   ", f'bad matcher "   ": {BAD_FORMAT}'),
        ('="bar"', f'bad matcher "="bar"": {BAD_FORMAT}'),
        ('foo bar="x"', f'bad matcher "foo bar="x"": {BAD_FORMAT}'),
        ("foo~bar", f'bad matcher "foo~bar": {BAD_FORMAT}'),
        (
            '1foo="x"',
            'bad matcher "1foo="x"": invalid label name "1foo": must match [a-zA-Z_][a-zA-Z0-9_]*',
        ),
        ('foo-bar="x"', 'bad matcher "foo-bar="x"": invalid label name "foo-bar": must match'),
        ('job:rate="x"', 'bad matcher "job:rate="x"": invalid label name "job:rate"'),
        ('"foo"="x"', 'bad matcher ""foo"="x"": invalid label name ""foo""'),
        ('foo="x', 'bad matcher "foo="x": value has an opening " but no closing "'),
        (r'foo="x\"', r'bad matcher "foo="x\"": value has an opening " but no closing "'),
        ('foo="x"y"', 'bad matcher "foo="x"y"": unescaped double quote in value'),
        ('foo="x" "y"', 'bad matcher "foo="x" "y"": unescaped double quote in value'),
        ('foo=x"', 'bad matcher "foo=x"": unescaped double quote in value'),
        ('foo=~"("', 'invalid regex "(": missing ), unterminated subpattern at position 0'),
        ('foo!~"[a-"', 'invalid regex "[a-": unterminated character set at position 0'),
        ('foo=~"a)|(b"', 'invalid regex "a)|(b": unbalanced parenthesis at position 1'),
        ('foo=~"*"', 'invalid regex "*": nothing to repeat at position 0'),
        ('foo=~"x(?i)y"', 'invalid regex "x(?i)y": global flags not at the start'),
    ],
)
def test_parse_matcher_rejects_with_clear_message(text: str, message: str) -> None:
    with pytest.raises(MatcherError) as error:
        parse_matcher(text)
    assert str(error.value).startswith(message)


def test_matcher_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_matcher("nonsense")


@pytest.mark.parametrize(
    ("matcher", "rendered"),
    [
        (Matcher("foo", EQ, "bar"), 'foo="bar"'),
        (Matcher("foo", NE, ""), 'foo!=""'),
        (Matcher("foo", RE, r"\d+"), r'foo=~"\\d+"'),
        (Matcher("foo", NRE, "a|b"), 'foo!~"a|b"'),
        (Matcher("foo", EQ, 'say "hi"'), r'foo="say \"hi\""'),
        (Matcher("foo", EQ, "two\nlines"), r'foo="two\nlines"'),
        (Matcher("foo", EQ, "tab\there"), 'foo="tab\there"'),
    ],
)
def test_matcher_str_renders_canonical_alertmanager_form(matcher: Matcher, rendered: str) -> None:
    assert str(matcher) == rendered
    assert parse_matcher(rendered) == matcher


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ('foo="bar"', {"foo": "bar"}, True),
        ('foo="bar"', {"foo": "baz"}, False),
        ('foo="bar"', {}, False),
        ('foo="bar"', {"foo": "BAR"}, False),
        ('foo!="bar"', {"foo": "baz"}, True),
        ('foo!="bar"', {}, True),
        ('foo!="bar"', {"foo": "bar"}, False),
        # A missing label is the empty string.
        ('foo=""', {}, True),
        ('foo=""', {"other": "x"}, True),
        ('foo=""', {"foo": ""}, True),
        ('foo=""', {"foo": "x"}, False),
        ('foo!=""', {}, False),
        ('foo!=""', {"foo": ""}, False),
        ('foo!=""', {"foo": "x"}, True),
        ('foo=~".*"', {}, True),
        ('foo=~".+"', {}, False),
        ('foo!~".+"', {}, True),
        ('foo=~"a?"', {}, True),
        # Regexes are anchored at both ends, around the whole alternation.
        ('foo=~"a"', {"foo": "a"}, True),
        ('foo=~"a"', {"foo": "ab"}, False),
        ('foo=~"a"', {"foo": "ba"}, False),
        ('foo=~"a|b"', {"foo": "b"}, True),
        ('foo=~"a|b"', {"foo": "ab"}, False),
        ('foo=~"a|b"', {"foo": "ba"}, False),
        ('foo!~"a|b"', {"foo": "ab"}, True),
        ('foo!~"a|b"', {"foo": "a"}, False),
        ('foo=~"a.*"', {"foo": "abc"}, True),
        ('foo=~"a"', {"foo": "a\n"}, False),
        ('foo=~"."', {"foo": "\n"}, False),
        ('foo=~"(?s:.)"', {"foo": "\n"}, True),
        ('foo=~"5.."', {"foo": "503"}, True),
        ('foo=~"5.."', {"foo": "5030"}, False),
        ('foo=~"(?i)critical"', {"foo": "CRITICAL"}, True),
        ('foo=~"(?i:crit|page)"', {"foo": "Page"}, True),
        ('foo=~"(?i:crit|page)"', {"foo": "pager"}, False),
        # Like RE2, \d is ASCII-only.
        (r'foo=~"\d+"', {"foo": "123"}, True),
        (r'foo=~"\d+"', {"foo": "\u0661\u0662"}, False),
        # The name is matched exactly: other labels do not count.
        ('foo="bar"', {"Foo": "bar", "foo_": "bar"}, False),
    ],
)
def test_matcher_matches_like_alertmanager(
    text: str, labels: dict[str, str], expected: bool
) -> None:
    assert parse_matcher(text).matches(labels) is expected


def test_matcher_compiles_regex_once_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = parse_matcher('foo=~"a+"')

    def no_compiling(*args: object, **kwargs: object) -> re.Pattern[str]:
        raise AssertionError("regex compiled while matching")

    monkeypatch.setattr(re, "compile", no_compiling)
    monkeypatch.setattr(re, "fullmatch", no_compiling)
    assert matcher.matches({"foo": "aaa"})
    assert not matcher.matches({"foo": "b"})


def test_matcher_constructor_validates_like_the_parser() -> None:
    with pytest.raises(MatcherError, match='invalid label name "a-b"'):
        Matcher("a-b", EQ, "x")
    with pytest.raises(MatcherError, match='invalid regex "\\(": missing \\)'):
        Matcher("a", RE, "(")
    with pytest.raises(MatcherError, match='unknown match operator "=="'):
        Matcher("a", "==", "x")  # type: ignore[arg-type]


def test_matcher_constructor_accepts_operator_spelling() -> None:
    assert Matcher("a", "=~", "x") == Matcher("a", RE, "x")  # type: ignore[arg-type]
    assert Matcher("a", "=~", "x").op is RE  # type: ignore[arg-type]


def test_matcher_is_a_hashable_value() -> None:
    first, second = parse_matcher('a=~"x|y"'), parse_matcher("a =~ x|y")
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
    assert first != parse_matcher('a!~"x|y"')
    assert "_regex" not in repr(first)


def test_match_op_is_a_str_enum_of_spellings() -> None:
    assert [op.value for op in MatchOp] == ["=", "!=", "=~", "!~"]
    assert isinstance(MatchOp.EQUAL, str)
    assert str(MatchOp.NOT_REGEX) == "!~"
    assert MatchOp("=~") is MatchOp.REGEX


def test_parse_matchers_parses_each_string() -> None:
    assert parse_matchers(['a="1"', "b!~2|3"]) == (Matcher("a", EQ, "1"), Matcher("b", NRE, "2|3"))
    assert parse_matchers([]) == ()
    assert parse_matchers(iter(["a=1"])) == (Matcher("a", EQ, "1"),)


def test_parse_matchers_rejects_a_bare_string() -> None:
    with pytest.raises(TypeError, match="list of matcher strings"):
        parse_matchers('a="1"')


def test_parse_matchers_reports_the_bad_one() -> None:
    with pytest.raises(MatcherError, match='bad matcher "nope"'):
        parse_matchers(['a="1"', "nope"])
