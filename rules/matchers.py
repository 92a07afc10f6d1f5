"""Label matchers with Alertmanager's syntax and semantics (``pkg/labels``, version 0.25).

A matcher is ``name op value`` with op one of ``=``, ``!=``, ``=~``, ``!~``. Rules are written
in the same syntax operators already use in ``alertmanager.yml`` routes and silences, so one
mental model covers both. Semantics follow Alertmanager:

- A missing label is the empty string: ``foo=""`` matches when ``foo`` is absent, ``foo!=""``
  needs it present and non-empty, ``foo=~".*"`` matches when it is absent.
- Regexes are fully anchored, as Alertmanager's ``^(?:value)$``: ``foo=~"a"`` does not match
  ``"ab"`` and ``foo=~"a|b"`` does not match ``"ab"``.

Known differences from Alertmanager, all deliberate:

- Regexes use Python's ``re`` dialect, not Go's RE2. Both share the everyday syntax; they are
  compiled with ``re.ASCII`` so ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII-only as in RE2.
  Python accepts a few things RE2 rejects (backreferences, lookaround) and rejects ``(?U)``
  and inline flags that are not at the very start (write ``(?i:...)``, valid in both).
- A value must be a complete regex on its own. Go's string concatenation lets an unbalanced
  value such as ``a)|(b`` escape the anchoring group; we reject it instead.
- Label names are ``[a-zA-Z_][a-zA-Z0-9_]*`` (the Prometheus label-name rule); 0.25's parser
  also lets ``:`` through, which no real label name can contain.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_NAME_RULE = "must match [a-zA-Z_][a-zA-Z0-9_]*"

# Go's \s is exactly [\t\n\f\r ]; Python's would also strip Unicode spaces from values.
_WS = r"[\t\n\f\r ]*"
# '=~' is listed before '=' so "a=~b" is a regex match, not equality with "~b" (as in Go).
_MATCHER = re.compile(
    rf"{_WS}(?P<name>[^\t\n\f\r =!~]*){_WS}(?P<op>=~|=|!=|!~){_WS}(?P<value>.*?){_WS}",
    re.DOTALL,
)
_ESCAPES = {"n": "\n", '"': '"', "\\": "\\"}


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled; the message names the problem."""


class MatchOp(StrEnum):
    """The four Alertmanager match operators, valued by their spelling (a ``str`` Enum)."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"

    @property
    def is_regex(self) -> bool:
        """Whether the value is a regex, so it must be compiled before matching."""
        return self in (MatchOp.REGEX, MatchOp.NOT_REGEX)


@dataclass(frozen=True)
class Matcher:
    """One condition on one label (or annotation) value, evaluated as Alertmanager does."""

    name: str
    op: MatchOp
    value: str
    # Compiled once here so deciding on an alert never recompiles a regex.
    _regex: re.Pattern[str] | None = field(
        init=False, default=None, repr=False, compare=False, hash=False
    )
    # The test of one value, chosen once here by the operator: `matches` runs for every rule
    # tried on every alert, so it should not branch on the operator each time.
    _holds: Callable[[str], bool] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.op, MatchOp):
            try:
                object.__setattr__(self, "op", MatchOp(self.op))
            except ValueError:
                raise MatcherError(
                    f'unknown match operator "{self.op}": expected one of =, !=, =~, !~'
                ) from None
        if not LABEL_NAME.fullmatch(self.name):
            raise MatcherError(f'invalid label name "{self.name}": {_NAME_RULE}')
        holds: Callable[[str], bool]
        if self.op is MatchOp.EQUAL:
            holds = partial(operator.eq, self.value)
        elif self.op is MatchOp.NOT_EQUAL:
            holds = partial(operator.ne, self.value)
        else:
            regex = _compile(self.value)
            object.__setattr__(self, "_regex", regex)
            holds = partial(_fullmatches if self.op is MatchOp.REGEX else _misses, regex)
        object.__setattr__(self, "_holds", holds)

    def matches(self, values: Mapping[str, str]) -> bool:
        """Whether the label set satisfies this matcher, a missing label counting as ""."""
        return self._holds(values.get(self.name, ""))

    def __str__(self) -> str:
        return f'{self.name}{self.op.value}"{_escape(self.value)}"'


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher in Alertmanager's syntax, e.g. ``service=~"api|web"``."""
    parts = _MATCHER.fullmatch(text)
    if parts is None or not parts["name"]:
        raise MatcherError(
            f'bad matcher "{text}": expected name, operator (=, !=, =~, !~) and value'
        )
    name = parts["name"]
    if not LABEL_NAME.fullmatch(name):
        raise MatcherError(f'bad matcher "{text}": invalid label name "{name}": {_NAME_RULE}')
    return Matcher(name, MatchOp(parts["op"]), _unquote(text, parts["value"]))


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """Parse a list of matchers, as a rule's config gives them."""
    if isinstance(texts, str):
        # A bare string would otherwise be parsed one character at a time.
        raise TypeError("parse_matchers() takes a list of matcher strings, not one string")
    return tuple(parse_matcher(text) for text in texts)


def _compile(value: str) -> re.Pattern[str]:
    """Compile a regex value; callers use fullmatch, which anchors like ``^(?:value)$``."""
    try:
        return re.compile(value, re.ASCII)
    except re.error as error:
        where = "" if error.pos is None else f" at position {error.pos}"
        raise MatcherError(f'invalid regex "{value}": {error.msg}{where}') from None


def _fullmatches(regex: re.Pattern[str], value: str) -> bool:
    return regex.fullmatch(value) is not None


def _misses(regex: re.Pattern[str], value: str) -> bool:
    return regex.fullmatch(value) is None


def _escape(value: str) -> str:
    """Escape a value the way Alertmanager (and OpenMetrics) prints it inside quotes."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _unquote(text: str, raw: str) -> str:
    """Undo quoting and escapes with the tolerance of Alertmanager 0.25's parser."""
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    value: list[str] = []
    closed = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            # An unknown escape such as "\d" stays literal, so regexes need no doubling.
            value.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        if char == '"':
            if not quoted or index != len(raw) - 1:
                raise MatcherError(
                    f'bad matcher "{text}": unescaped double quote in value (write \\")'
                )
            closed = True
        else:
            value.append(char)
        index += 1
    if quoted and not closed:
        raise MatcherError(f'bad matcher "{text}": value has an opening " but no closing "')
    result = "".join(value)
    try:
        result.encode("utf-8")
    except UnicodeEncodeError:
        raise MatcherError(f'bad matcher "{text}": value is not valid UTF-8') from None
    return result
