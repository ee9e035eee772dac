"""The filter language of work-item lists (`?q=`): parse it into a small AST and format it back.

A query is terms separated by spaces; an item matches when every term holds (`AND` may be written
but is implied). `OR` between terms makes alternatives, and binds looser than AND:
`type:bug OR type:story priority:>=high` is `type:bug OR (type:story AND priority:>=high)`.
Parentheses group: `(type:bug OR type:story) label:api`, and `-( … )` excludes what the group
matches. Plain (not negated) `field:value` terms on the same field in one AND-group are
alternatives: `label:api label:web` matches items with either label. A `-` before a term excludes
the items it matches, so `-label:a -label:b` excludes both labels; excluding a value keeps the
items that have none (`-assignee:ada` keeps unassigned items). `OR` and `AND` are keywords only in
capitals; write `"or"` or `"OR"` to search for the word.

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
|                               | `sprint:"Sprint 4"` or `sprint:<id>` in that sprint              |
| `parent:API-12`               | whose parent is that item; `parent:none` without a parent        |
| `blocked:true`                | flagged as blocked (`true` or `false`)                           |
| `created:>2026-01-01`         | created after that day; `>=`, `<`, `<=` compare, `:` is that day |
| `updated:>=-7d`               | last updated in the last 7 days (`today`, `-Nd`, `+Nd`)          |
| `due:<today`, `due:none`      | due before today; without a due date                             |
| `estimate:>=5`, `estimate:none` | estimated at 5 points or more; not estimated                   |
| `key:API-7`                   | with that key                                                    |
| `login`, `"exact phrase"`     | whose title or description contains the word or the phrase       |
| `-label:legacy`, `-"wontfix"` | that don't match the term                                        |

Case doesn't matter: not in field names, keywords (`@me`, `none`, `current`, `today`, `true`,
types, categories, priorities), item keys, status, label and sprint names or usernames. Days are
UTC calendar days from 1970-01-01 to 9000-12-31, the range of every date in the API
(`takt.core.bounds`); a relative day (`-Nd`, `+Nd`, N up to 7 digits) must land in it too.
Estimates are numbers from 0 to 1000 (up to 12 decimals). Any value may be quoted; inside quotes
write `\\"` for a quote and `\\\\` for a backslash. Put words that contain a `:` or a parenthesis,
or start with `-`, in quotes to search for them as text. A query has at most 1,000 characters, 50
terms and 5 levels of parentheses; beyond any of these limits, or outside a range, it is refused.

The parser checks the form of every value; whether a status, label, user, parent item or sprint
of that name exists is checked against the project when the query runs (`search.py`), with the
position of the value (`Filter.position`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from decimal import Decimal

from takt.core.bounds import FIRST_DATE, LAST_DATE, in_calendar

__all__ = [
    "CATEGORIES",
    "COMPARABLE_FIELDS",
    "FIELDS",
    "MAX_CLAUSES",
    "MAX_DEPTH",
    "MAX_ESTIMATE",
    "MAX_QUERY_LENGTH",
    "OPERATORS",
    "PRIORITY_ORDER",
    "TYPES",
    "Filter",
    "Group",
    "Query",
    "QuerySyntaxError",
    "Term",
    "Text",
    "day_of",
    "format_query",
    "leaves",
    "parse",
]

MAX_QUERY_LENGTH = 1000
MAX_CLAUSES = 50
MAX_DEPTH = 5
# Status and label names are stored stripped, 1-50 characters (workflow schemas); sprints 1-100.
MAX_NAME_LENGTH = 50
MAX_SPRINT_NAME_LENGTH = 100
# The range items accept for an estimate (items/schemas.py `Estimate`).
MAX_ESTIMATE = 1000

CATEGORIES = ("backlog", "todo", "in_progress", "in_review", "done", "cancelled")
TYPES = ("epic", "story", "task", "bug", "spike")
PRIORITY_ORDER = ("none", "low", "medium", "high", "urgent")
COMPARABLE_FIELDS = frozenset({"priority", "created", "updated", "due", "estimate"})
OPERATORS = (":", ">", ">=", "<", "<=")
KEYWORDS = ("OR", "AND")

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_ITEM_KEY = re.compile(r"[A-Z][A-Z0-9]{1,9}-[0-9]{1,9}")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_RELATIVE_DAY = re.compile(r"([+-])([0-9]{1,7})d")
_RANGE = f"{FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"
_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,12})?")


@dataclass(frozen=True, slots=True)
class Filter:
    """`field:value`, or `field:>=value` etc.; `op` is one of `OPERATORS`, `value` normalized.

    `position` is where the value starts in the text parsed (not part of equality)."""

    field: str
    op: str
    value: str
    negated: bool = False
    position: int = dataclass_field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Text:
    """A free-text word or quoted phrase searched for in titles and descriptions."""

    value: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    """Parenthesized alternatives: matches when any alternative (a tuple of AND-ed terms) does.

    The parser only makes a group where it changes the meaning: two or more alternatives, or a
    negated group; `(a b)` inside an AND-group is just `a b`."""

    alternatives: tuple[tuple[Term, ...], ...]
    negated: bool = False


Term = Filter | Text | Group


@dataclass(frozen=True, slots=True)
class Query:
    """The AND-ed terms of a query; a top-level `a OR b` is one `Group`."""

    clauses: tuple[Term, ...]


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


def _name(
    kind: str, keywords: tuple[str, ...] = (), limit: int = MAX_NAME_LENGTH
) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (lowered := _ascii_lower(value)) in keywords:
            return lowered
        name = value.strip()
        if len(name) > limit:
            raise _BadValue(f"a {kind} name has at most {limit} characters")
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


def _day(keywords: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if (lowered := _ascii_lower(value)) in ("today", *keywords):
            return lowered
        if _RELATIVE_DAY.fullmatch(lowered):
            return lowered
        match = _DATE.fullmatch(value)
        if match is None:
            expected = ", ".join(("YYYY-MM-DD", "today", "-7d or +7d", *keywords))
            raise _BadValue(f"{_show(value)} is not a date; write {expected}")
        try:
            day = date(*(int(part) for part in match.groups()))
        except ValueError:
            raise _BadValue(f"{_show(value)} is not a real date") from None
        if not in_calendar(day):
            raise _BadValue(f"{_show(value)} is outside {_RANGE}")
        return value

    return check


def _estimate(value: str) -> str:
    if (lowered := _ascii_lower(value)) == "none":
        return lowered
    if not _NUMBER.fullmatch(value):
        raise _BadValue(f"{_show(value)} is not an estimate; write a number like 3 or 0.5, or none")
    if Decimal(value) > MAX_ESTIMATE:
        raise _BadValue(f"an estimate is at most {MAX_ESTIMATE}")
    return value


_VALUE_CHECKS: dict[str, Callable[[str], str]] = {
    "status": _name("status"),
    "category": _one_of("category", CATEGORIES),
    "type": _one_of("type", TYPES),
    "assignee": _keyword_or(("@me", "none"), _USERNAME, "@me, none or a username"),
    "label": _name("label"),
    "priority": _one_of("priority", PRIORITY_ORDER),
    "sprint": _name("sprint", ("current", "none"), MAX_SPRINT_NAME_LENGTH),
    "parent": _item_key(("none",)),
    "blocked": _one_of("boolean", ("true", "false")),
    "created": _day(()),
    "updated": _day(()),
    "due": _day(("none",)),
    "estimate": _estimate,
    "key": _item_key(()),
}
# The fields in the order the docs list them.
FIELDS = tuple(_VALUE_CHECKS)
_COMPARABLE_NAMES = ", ".join(name for name in FIELDS if name in COMPARABLE_FIELDS)


def day_of(clause: Filter, today: date) -> date | None:
    """The day a date filter names (`None` for `none`), relative days counted from `today` (a day
    in range). Raises `QuerySyntaxError` at the value when a relative day falls outside it."""
    if clause.value == "none":
        return None
    if clause.value == "today":
        return today
    relative = _RELATIVE_DAY.fullmatch(clause.value)
    if relative is None:
        return date.fromisoformat(clause.value)
    days = int(relative.group(2)) * (-1 if relative.group(1) == "-" else 1)
    # Counted in day numbers: seven digits of days can pass Python's own date range.
    ordinal = today.toordinal() + days
    if not FIRST_DATE.toordinal() <= ordinal <= LAST_DATE.toordinal():
        raise QuerySyntaxError(
            f"{_show(clause.value)} from today is outside {_RANGE}", clause.position
        )
    return date.fromordinal(ordinal)


def _boundary(char: str) -> bool:
    return not char or char.isspace() or char == ")"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.terms = 0
        self.depth = 0

    def error(self, message: str, position: int | None = None) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.pos if position is None else position)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_boundary(self) -> bool:
        return _boundary(self.peek())

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def keyword(self) -> str | None:
        """`OR` or `AND` standing alone at the current position, without consuming it."""
        for word in KEYWORDS:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and _boundary(self.text[end : end + 1]):
                return word
        return None

    def query(self) -> Query:
        self.skip_space()
        if not self.peek():
            return Query(())
        alternatives = self.alternatives()
        if self.peek() == ")":
            raise self.error("unmatched ')'")
        if len(alternatives) == 1:
            return Query(alternatives[0])
        return Query((Group(alternatives),))

    def alternatives(self) -> tuple[tuple[Term, ...], ...]:
        """AND-groups separated by OR, up to the end or a ')'."""
        found: list[tuple[Term, ...]] = []
        while True:
            terms = self.and_group()
            # `(a OR b) OR c` is `a OR b OR c`.
            only = terms[0] if len(terms) == 1 else None
            if isinstance(only, Group) and not only.negated:
                found.extend(only.alternatives)
            else:
                found.append(terms)
            if self.keyword() != "OR":
                return tuple(found)
            self.pos += len("OR")
            self.skip_space()
            self.expect_term("OR")

    def expect_term(self, after: str) -> None:
        if self.keyword() is not None or _boundary(self.peek()):
            raise self.error(f"expected a term after {after}")

    def and_group(self) -> tuple[Term, ...]:
        """Terms up to the end, a ')' or OR; `AND` between them may be written."""
        found: list[Term] = []
        while True:
            keyword = self.keyword()
            if keyword == "AND" and found:
                self.pos += len("AND")
                self.skip_space()
                self.expect_term("AND")
            elif keyword is not None or _boundary(self.peek()):
                if not found:
                    raise self.error(
                        f"expected a term before {keyword}" if keyword else "expected a term"
                    )
                return tuple(found)
            term = self.term()
            # `a (b c)` is `a b c`: parentheses without OR only group for `-`.
            if isinstance(term, Group) and not term.negated and len(term.alternatives) == 1:
                found.extend(term.alternatives[0])
            else:
                found.append(term)
            self.skip_space()

    def term(self) -> Term:
        start = self.pos
        negated = self.peek() == "-"
        if negated:
            self.pos += 1
            if self.at_boundary():
                raise self.error("'-' must be followed by a filter or text to exclude", start)
            if self.peek() == "-":
                raise self.error("to search for text that starts with '-', put it in quotes", start)
        if self.peek() == "(":
            return self.group(negated)
        if self.terms == MAX_CLAUSES:
            raise self.error(f"a query has at most {MAX_CLAUSES} terms", start)
        self.terms += 1
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

    def group(self, negated: bool) -> Group:
        open_at = self.pos
        if self.depth == MAX_DEPTH:
            raise self.error(f"at most {MAX_DEPTH} levels of parentheses", open_at)
        self.depth += 1
        self.pos += 1
        self.skip_space()
        if self.peek() == ")":
            raise self.error("empty parentheses", open_at)
        if not self.peek():
            raise self.error("unclosed '('", open_at)
        alternatives = self.alternatives()
        if self.peek() != ")":
            raise self.error("unclosed '('", open_at)
        self.pos += 1
        self.depth -= 1
        if not self.at_boundary():
            raise self.error("expected a space after ')'")
        return Group(alternatives, negated)

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
        if op != ":" and value == "none":
            raise self.error(f"'{op}none' compares with nothing; use {field}:none", value_at)
        return Filter(field, op, value, negated, value_at)

    def operator(self) -> str:
        for op in (">=", "<=", ">", "<"):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        return ":"

    def bare(self, stop: str = "") -> str:
        """A word up to the next space or ')' (or a character in `stop`); no quotes inside."""
        start = self.pos
        while not self.at_boundary() and self.peek() not in stop:
            if self.peek() == '"':
                raise self.error("unexpected '\"' inside a word; quote the whole value")
            if self.peek() == "(":
                raise self.error("unexpected '(' inside a word; quote the whole value")
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        """A `"…"` string with `\\"` and `\\\\` escapes, ending at a space, ')' or the end."""
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
    return _Parser(text).query()


def leaves(terms: tuple[Term, ...]) -> list[Filter | Text]:
    """Every filter and text term, at any depth, in the order written."""
    found: list[Filter | Text] = []
    for term in terms:
        if isinstance(term, Group):
            for alternative in term.alternatives:
                found.extend(leaves(alternative))
        else:
            found.append(term)
    return found


def _quote(text: str, *, needed: bool) -> str:
    if not needed and text and not any(char.isspace() or char in '"()' for char in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _format_term(term: Term) -> str:
    sign = "-" if term.negated else ""
    if isinstance(term, Group):
        return f"{sign}({_format_alternatives(term.alternatives)})"
    if isinstance(term, Text):
        # Bare, a ':' would start a filter, a leading '-' would negate, OR/AND would be keywords.
        # After a "-" the word is a term, never a keyword, so "-OR" needs no quotes.
        keyword = term.value in KEYWORDS and not term.negated
        needed = ":" in term.value or term.value[:1] == "-" or keyword
        return sign + _quote(term.value, needed=needed)
    op = "" if term.op == ":" else term.op
    # Bare, a leading '<' or '>' would read as a comparison.
    value = _quote(term.value, needed=term.value[:1] in ("<", ">"))
    return f"{sign}{term.field}:{op}{value}"


def _format_alternatives(alternatives: tuple[tuple[Term, ...], ...]) -> str:
    return " OR ".join(" ".join(_format_term(term) for term in terms) for terms in alternatives)


def format_query(query: Query) -> str:
    """Canonical text for `query`: `parse(format_query(q)) == q` for every `q` that `parse` returns.

    Values are quoted and terms parenthesized only where needed, so the text is never longer than
    the text parsed."""
    only = query.clauses[0] if len(query.clauses) == 1 else None
    if isinstance(only, Group) and not only.negated:
        return _format_alternatives(only.alternatives)
    return " ".join(_format_term(term) for term in query.clauses)
