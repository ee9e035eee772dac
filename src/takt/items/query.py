"""The filter language of work-item lists (`?q=`): parse it into a small AST and format it back.

A query is a list of terms separated by spaces. An item matches when every term holds, except that
plain (not negated) `field:value` terms on the same field are alternatives: `label:api label:web`
matches items with either label. A `-` before a term excludes the items it matches, so
`-label:a -label:b` excludes both labels; excluding a value keeps the items that have none
(`-assignee:ada` keeps unassigned items).

| Term                          | Matches items                                                    |
|-------------------------------|------------------------------------------------------------------|
| `status:"In Progress"`        | in the status of that name (quote a value that has spaces)       |
| `category:in_progress`        | whose status is in that category: `backlog`, `todo`,             |
|                               | `in_progress`, `in_review`, `done`, `cancelled`                  |
| `type:bug`                    | of that type: `epic`, `story`, `task`, `bug`, `spike`            |
| `assignee:@me`                | assigned to you; `assignee:ada` to that user; `assignee:none`    |
|                               | to nobody                                                        |
| `label:api`                   | that carry the label                                             |
| `priority:>=high`             | of that priority (`none` < `low` < `medium` < `high` < `urgent`);|
|                               | `>`, `>=`, `<`, `<=` compare                                     |
| `sprint:current`              | in the project's active sprint; `sprint:none` in no sprint;      |
|                               | `sprint:<id>` in that sprint                                     |
| `parent:API-12`               | whose parent is that item; `parent:none` without a parent        |
| `blocked:true`                | flagged as blocked (`true` or `false`)                           |
| `created:>2026-01-01`         | created after that day; `>=`, `<`, `<=` compare, `:` is that day |
| `updated:<=2026-03-31`        | last updated on or before that day                               |
| `key:API-7`                   | with that key                                                    |
| `login`, `"exact phrase"`     | whose title or description contains the word or the phrase       |
| `-label:legacy`, `-"wontfix"` | that don't match the term                                        |

Case doesn't matter: not in field names, keywords (`@me`, `none`, `current`, `true`, types,
categories, priorities), item keys, status names, labels or usernames. Days are UTC calendar days.
Any value may be quoted; inside quotes write `\\"` for a quote and `\\\\` for a backslash. Put words
that contain a `:` or start with `-` in quotes to search for them as text. A query has at most
1,000 characters and 50 terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

__all__ = [
    "CATEGORIES",
    "COMPARABLE_FIELDS",
    "FIELDS",
    "MAX_CLAUSES",
    "MAX_QUERY_LENGTH",
    "OPERATORS",
    "PRIORITY_ORDER",
    "TYPES",
    "Filter",
    "Query",
    "QuerySyntaxError",
    "Text",
    "format_query",
    "parse",
]

MAX_QUERY_LENGTH = 1000
MAX_CLAUSES = 50
# Status and label names are stored stripped, 1-50 characters (workflow schemas).
MAX_NAME_LENGTH = 50

CATEGORIES = ("backlog", "todo", "in_progress", "in_review", "done", "cancelled")
TYPES = ("epic", "story", "task", "bug", "spike")
PRIORITY_ORDER = ("none", "low", "medium", "high", "urgent")
COMPARABLE_FIELDS = frozenset({"priority", "created", "updated"})
OPERATORS = (":", ">", ">=", "<", "<=")

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_SPRINT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,35}")
_ITEM_KEY = re.compile(r"[A-Z][A-Z0-9]{1,9}-[0-9]{1,9}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


@dataclass(frozen=True, slots=True)
class Filter:
    """`field:value`, or `field:>=value` etc.; `op` is one of `OPERATORS`, `value` normalized."""

    field: str
    op: str
    value: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    """A free-text word or quoted phrase searched for in titles and descriptions."""

    value: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """The terms of a query in the order written; see the module docstring for how they combine."""

    clauses: tuple[Filter | Text, ...]


class QuerySyntaxError(ValueError):
    """The query is not valid; `position` is the 0-based offset of the offending token."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


class _BadValue(Exception):
    """Raised by a value check; the parser adds the value's position."""


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _ascii_lower(value: str) -> str:
    # Only ASCII: str.lower() maps e.g. the Kelvin sign to "k", which no keyword should accept.
    return value.lower() if value.isascii() else value


def _one_of(kind: str, allowed: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (lowered := _ascii_lower(value)) in allowed:
            return lowered
        raise _BadValue(f"{_show(value)} is not a {kind}; use one of {', '.join(allowed)}")

    return check


def _name(kind: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        name = value.strip()
        if len(name) > MAX_NAME_LENGTH:
            raise _BadValue(f"a {kind} name has at most {MAX_NAME_LENGTH} characters")
        return name

    return check


def _keyword_or(
    keywords: tuple[str, ...], pattern: re.Pattern[str], expected: str
) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (lowered := _ascii_lower(value)) in keywords:
            return lowered
        if pattern.fullmatch(value):
            return value
        raise _BadValue(f"{_show(value)} is not valid here; expected {expected}")

    return check


def _item_key(keywords: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (lowered := _ascii_lower(value)) in keywords:
            return lowered
        upper = value.upper() if value.isascii() else value
        if _ITEM_KEY.fullmatch(upper):
            return upper
        expected = " or ".join(("an item key like API-12", *keywords))
        raise _BadValue(f"{_show(value)} is not valid here; expected {expected}")

    return check


def _day(value: str) -> str:
    match = _DATE.fullmatch(value)
    if match is None:
        raise _BadValue(f"{_show(value)} is not a date; write it as YYYY-MM-DD")
    try:
        date(*(int(part) for part in match.groups()))
    except ValueError:
        raise _BadValue(f"{_show(value)} is not a real date") from None
    return value


_VALUE_CHECKS: dict[str, Callable[[str], str]] = {
    "status": _name("status"),
    "category": _one_of("category", CATEGORIES),
    "type": _one_of("type", TYPES),
    "assignee": _keyword_or(("@me", "none"), _USERNAME, "@me, none or a username"),
    "label": _name("label"),
    "priority": _one_of("priority", PRIORITY_ORDER),
    "sprint": _keyword_or(("current", "none"), _SPRINT_ID, "current, none or a sprint id"),
    "parent": _item_key(("none",)),
    "blocked": _one_of("boolean", ("true", "false")),
    "created": _day,
    "updated": _day,
    "key": _item_key(()),
}
# The fields in the order the docs list them.
FIELDS = tuple(_VALUE_CHECKS)
_COMPARABLE_NAMES = ", ".join(field for field in FIELDS if field in COMPARABLE_FIELDS)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, position: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.pos if position is None else position)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_boundary(self) -> bool:
        return self.pos >= len(self.text) or self.text[self.pos].isspace()

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def clauses(self) -> tuple[Filter | Text, ...]:
        found: list[Filter | Text] = []
        self.skip_space()
        while self.pos < len(self.text):
            if len(found) == MAX_CLAUSES:
                raise self.error(f"a query has at most {MAX_CLAUSES} terms")
            found.append(self.clause())
            self.skip_space()
        return tuple(found)

    def clause(self) -> Filter | Text:
        start = self.pos
        negated = self.peek() == "-"
        if negated:
            self.pos += 1
            if self.at_boundary():
                raise self.error("'-' must be followed by a filter or text to exclude", start)
            if self.peek() == "-":
                raise self.error("to search for text that starts with '-', put it in quotes", start)
        if self.peek() == '"':
            quote_at = self.pos
            phrase = self.quoted()
            if not phrase.strip():
                raise self.error("empty phrase", quote_at)
            return Text(phrase, negated)
        word_at = self.pos
        word = self.bare(stop=":")
        if self.peek() != ":":
            return Text(word, negated)
        return self.filter(word, word_at, negated)

    def filter(self, name: str, name_at: int, negated: bool) -> Filter:
        if not name:
            raise self.error("expected a field name before ':'")
        field = _ascii_lower(name)
        if field not in _VALUE_CHECKS:
            raise self.error(
                f"unknown field {_show(name)}; fields are {', '.join(FIELDS)}", name_at
            )
        self.pos += 1
        op_at = self.pos
        op = self.operator()
        if op != ":" and field not in COMPARABLE_FIELDS:
            raise self.error(
                f"'{op}' works only with {_COMPARABLE_NAMES}; use {field}:value",
                op_at,
            )
        value_at = self.pos
        raw = "" if self.at_boundary() else self.quoted() if self.peek() == '"' else self.bare()
        if not raw.strip():
            raise self.error(f"{field} needs a value", value_at)
        try:
            value = _VALUE_CHECKS[field](raw)
        except _BadValue as exc:
            raise self.error(str(exc), value_at) from None
        return Filter(field, op, value, negated)

    def operator(self) -> str:
        for op in (">=", "<=", ">", "<"):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        return ":"

    def bare(self, stop: str = "") -> str:
        """A word up to the next space (or a character in `stop`); no quotes inside."""
        start = self.pos
        while not self.at_boundary() and self.peek() not in stop:
            if self.peek() == '"':
                raise self.error("unexpected '\"' inside a word; quote the whole value")
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        """A `"…"` string with `\\"` and `\\\\` escapes, which must end at a space or the end."""
        open_at = self.pos
        self.pos += 1
        chars: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.error("unterminated quote", open_at)
            self.pos += 1
            if char == '"':
                break
            if char == "\\":
                escaped = self.peek()
                if not escaped:
                    raise self.error("unterminated quote", open_at)
                if escaped not in '"\\':
                    raise self.error(
                        'unknown escape; inside quotes write \\" or \\\\', self.pos - 1
                    )
                self.pos += 1
                char = escaped
            chars.append(char)
        if not self.at_boundary():
            raise self.error("expected a space after the closing quote")
        return "".join(chars)


def _check_characters(text: str) -> None:
    for position, char in enumerate(text):
        # NUL and friends can't be stored or searched (PostgreSQL rejects NUL in text).
        if unicodedata.category(char) in ("Cc", "Cs") and not char.isspace():
            raise QuerySyntaxError("control characters are not allowed", position)


def parse(text: str) -> Query:
    """Parse `?q=` text; raises `QuerySyntaxError` with the offending token's position."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            f"a query has at most {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH
        )
    _check_characters(text)
    return Query(_Parser(text).clauses())


def _quote(text: str, *, needed: bool) -> str:
    if not needed and text and not any(char.isspace() or char == '"' for char in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _format_clause(clause: Filter | Text) -> str:
    sign = "-" if clause.negated else ""
    if isinstance(clause, Text):
        # Bare, a ':' would start a filter and a leading '-' would negate.
        return sign + _quote(clause.value, needed=":" in clause.value or clause.value[:1] == "-")
    op = "" if clause.op == ":" else clause.op
    # Bare, a leading '<' or '>' would read as a comparison.
    value = _quote(clause.value, needed=clause.value[:1] in ("<", ">"))
    return f"{sign}{clause.field}:{op}{value}"


def format_query(query: Query) -> str:
    """Canonical text for `query`: `parse(format_query(q)) == q` for every `q` that `parse` returns.

    Values are quoted only where needed, so the text is never longer than the text parsed.
    """
    return " ".join(_format_clause(clause) for clause in query.clauses)
