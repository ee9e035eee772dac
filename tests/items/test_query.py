"""The `?q=` filter language: what parses into which AST, where errors point, and round trips."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from takt.core.bounds import FIRST_DATE, LAST_DATE
from takt.items.query import (
    CATEGORIES,
    COMPARABLE_FIELDS,
    FIELDS,
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    OPERATORS,
    PRIORITY_ORDER,
    TYPES,
    Filter,
    Group,
    Query,
    QuerySyntaxError,
    Term,
    Text,
    day_of,
    format_query,
    leaves,
    parse,
)

SPRINT_ID = "3f2b8c1e-9d4a-4b7e-8f00-1234567890ab"


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "status:done assignee:@me label:api type:bug sprint:current "
            'priority:>=high "free text"',
            (
                Filter("status", ":", "done"),
                Filter("assignee", ":", "@me"),
                Filter("label", ":", "api"),
                Filter("type", ":", "bug"),
                Filter("sprint", ":", "current"),
                Filter("priority", ">=", "high"),
                Text("free text"),
            ),
        ),
        ("-label:legacy", (Filter("label", ":", "legacy", negated=True),)),
        ('status:"In Progress"', (Filter("status", ":", "In Progress"),)),
        ("created:>2026-01-01", (Filter("created", ">", "2026-01-01"),)),
        ("updated:<=2026-02-28", (Filter("updated", "<=", "2026-02-28"),)),
        ("blocked:true", (Filter("blocked", ":", "true"),)),
        ("parent:API-12", (Filter("parent", ":", "API-12"),)),
        ("parent:none", (Filter("parent", ":", "none"),)),
        ("key:WEB2-7", (Filter("key", ":", "WEB2-7"),)),
        ("assignee:none", (Filter("assignee", ":", "none"),)),
        ("assignee:ada.l_ove-1", (Filter("assignee", ":", "ada.l_ove-1"),)),
        ("sprint:none", (Filter("sprint", ":", "none"),)),
        (f"sprint:{SPRINT_ID}", (Filter("sprint", ":", SPRINT_ID),)),
        ('sprint:"Sprint 4 (March)"', (Filter("sprint", ":", "Sprint 4 (March)"),)),
        ("sprint:-abc", (Filter("sprint", ":", "-abc"),)),
        ("due:none", (Filter("due", ":", "none"),)),
        ("due:<today", (Filter("due", "<", "today"),)),
        ("updated:>=-7d", (Filter("updated", ">=", "-7d"),)),
        ("created:+0D", (Filter("created", ":", "+0d"),)),
        ("estimate:>=0.5", (Filter("estimate", ">=", "0.5"),)),
        ("estimate:NONE", (Filter("estimate", ":", "none"),)),
        ("label:OR", (Filter("label", ":", "OR"),)),
        ('"OR" and', (Text("OR"), Text("and"))),
        ("category:in_review", (Filter("category", ":", "in_review"),)),
        ("login bug", (Text("login"), Text("bug"))),
        ('-"exact phrase"', (Text("exact phrase", negated=True),)),
        ("-flaky", (Text("flaky", negated=True),)),
        ("label:a:b", (Filter("label", ":", "a:b"),)),
        ("status:=x", (Filter("status", ":", "=x"),)),
    ],
)
def test_examples_parse_into_expected_ast(text: str, clauses: tuple[Filter | Text, ...]) -> None:
    assert parse(text) == Query(clauses)


def test_empty_or_blank_query_has_no_clauses() -> None:
    assert parse("") == Query(())
    assert parse(" \t\n ") == Query(())


def test_terms_may_be_separated_by_any_whitespace() -> None:
    assert parse("  type:bug\tlogin\n-label:x  ") == Query(
        (Filter("type", ":", "bug"), Text("login"), Filter("label", ":", "x", negated=True))
    )


def test_same_field_may_repeat() -> None:
    assert parse("label:api label:web priority:>low priority:<=high").clauses == (
        Filter("label", ":", "api"),
        Filter("label", ":", "web"),
        Filter("priority", ">", "low"),
        Filter("priority", "<=", "high"),
    )


def test_field_names_and_keywords_ignore_case_and_are_lower_cased() -> None:
    assert parse(
        "STATUS:Done Type:BUG assignee:@ME Priority:>=HIGH blocked:False sprint:CURRENT "
        "category:IN_PROGRESS parent:NONE"
    ).clauses == (
        Filter("status", ":", "Done"),
        Filter("type", ":", "bug"),
        Filter("assignee", ":", "@me"),
        Filter("priority", ">=", "high"),
        Filter("blocked", ":", "false"),
        Filter("sprint", ":", "current"),
        Filter("category", ":", "in_progress"),
        Filter("parent", ":", "none"),
    )


def test_names_keep_their_case() -> None:
    assert parse('label:API assignee:Ada status:"code Review"').clauses == (
        Filter("label", ":", "API"),
        Filter("assignee", ":", "Ada"),
        Filter("status", ":", "code Review"),
    )


def test_item_keys_are_upper_cased() -> None:
    assert parse("parent:api-12 key:web-3").clauses == (
        Filter("parent", ":", "API-12"),
        Filter("key", ":", "WEB-3"),
    )


def test_quoted_names_are_stripped_like_stored_names() -> None:
    assert parse('label:"  needs design "').clauses == (Filter("label", ":", "needs design"),)


def test_quotes_unescape_quote_and_backslash() -> None:
    assert parse(r'label:"say \"hi\" \\ now" "a\\b"').clauses == (
        Filter("label", ":", 'say "hi" \\ now'),
        Text("a\\b"),
    )


def test_backslash_outside_quotes_is_literal() -> None:
    assert parse(r"path\to").clauses == (Text(r"path\to"),)


def test_any_value_may_be_quoted() -> None:
    assert parse('type:"bug" created:>="2026-01-01"').clauses == (
        Filter("type", ":", "bug"),
        Filter("created", ">=", "2026-01-01"),
    )


def test_quoted_comparison_is_a_literal_value_not_an_operator() -> None:
    assert parse('label:">=x"').clauses == (Filter("label", ":", ">=x"),)


def test_limits_are_inclusive() -> None:
    longest = "x" * MAX_QUERY_LENGTH
    assert parse(longest).clauses == (Text(longest),)
    assert len(parse(" ".join(["a"] * MAX_CLAUSES)).clauses) == MAX_CLAUSES


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("status:done bogus:1", 12, "unknown field 'bogus'"),
        ("-nope:x", 1, "unknown field 'nope'"),
        ("http://example.com", 0, "unknown field 'http'"),
        (":done", 0, "expected a field name"),
        ("priority:>=ultra", 11, "'ultra' is not a priority"),
        ("type:feature", 5, "'feature' is not a type"),
        ("category:in-progress", 9, "is not a category"),
        ("blocked:yes", 8, "is not a boolean"),
        ('login status:"In Progress', 13, "unterminated quote"),
        ('"free text', 0, "unterminated quote"),
        ('"ends in backslash\\', 0, "unterminated quote"),
        ('label:"a\\"', 6, "unterminated quote"),
        ("label:>=api", 6, "'>=' works only with priority, created, updated"),
        ("type:<bug", 5, "'<' works only with"),
        ("-blocked:>true", 9, "'>' works only with"),
        ("status:", 7, "status needs a value"),
        ("status: done", 7, "status needs a value"),
        ("priority:>= high", 11, "priority needs a value"),
        ('label:""', 6, "label needs a value"),
        ('label:"   "', 6, "label needs a value"),
        ("-", 0, "'-' must be followed"),
        ("status:done - login", 12, "'-' must be followed"),
        ("--force", 0, "put it in quotes"),
        ('""', 0, "empty phrase"),
        ('-"  "', 1, "empty phrase"),
        ('say"hi"', 3, "unexpected '\"'"),
        ('status:In"Progress"', 9, "unexpected '\"'"),
        ('"done"now', 6, "expected a space after the closing quote"),
        ('label:"a"b', 9, "expected a space after the closing quote"),
        ('"a\\nb"', 2, "unknown escape"),
        ("created:2026-02-30", 8, "not a real date"),
        ("created:>2026-1-1", 9, "not a date"),
        ("updated:2026-01-01T10:00", 8, "not a date"),
        ("created:\uff12\uff10\uff12\uff16-01-01", 8, "not a date"),  # full-width digits
        ("assignee:@bob", 9, "expected @me, none or a username"),
        ("assignee:" + "a" * 33, 9, "expected @me, none or a username"),
        ("sprint:" + "a" * 101, 7, "at most 100 characters"),
        ("created:9000-12-32", 8, "not a real date"),
        ("created:9001-01-01", 8, "outside 1970-01-01 to 9000-12-31"),
        ("due:<1969-12-31", 5, "outside 1970-01-01 to 9000-12-31"),
        ("due:-12345678d", 4, "not a date"),
        ("due:>none", 5, "compares with nothing"),
        ("estimate:1000.5", 9, "at most 1000"),
        ("estimate:1e3", 9, "not an estimate"),
        ("estimate:-0", 9, "not an estimate"),
        ("OR type:bug", 0, "expected a term before OR"),
        ("type:bug OR", 11, "expected a term after OR"),
        ("type:bug OR OR x", 12, "expected a term after OR"),
        ("AND x", 0, "expected a term before AND"),
        ("x AND", 5, "expected a term after AND"),
        ("x AND OR y", 6, "expected a term after AND"),
        ("()", 0, "empty parentheses"),
        ("x ( )", 2, "empty parentheses"),
        ("(x", 0, "unclosed '('"),
        ("(x OR (y)", 0, "unclosed '('"),
        ("x)", 1, "unmatched ')'"),
        ("(x) y)", 5, "unmatched ')'"),
        ("(x)y", 3, "expected a space after ')'"),
        ("-)", 0, "'-' must be followed"),
        ("f(x)", 1, "unexpected '(' inside a word"),
        ("label:a(b)", 7, "unexpected '(' inside a word"),
        ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "levels of parentheses"),
        ("(a OR b) " * (MAX_CLAUSES // 2) + "c", 9 * (MAX_CLAUSES // 2), "at most 50 terms"),
        ("parent:API12", 7, "expected an item key like API-12 or none"),
        ("key:none", 4, "expected an item key like API-12"),
        ("key:A-1", 4, "expected an item key"),
        ("label:" + "x" * 51, 6, "at most 50 characters"),
        ("login\x00", 5, "control characters"),
        ("x" * (MAX_QUERY_LENGTH + 1), MAX_QUERY_LENGTH, "at most 1000 characters"),
        ("a " * MAX_CLAUSES + "one-too-many", 2 * MAX_CLAUSES, "at most 50 terms"),
    ],
)
def test_error_points_at_the_offending_token(text: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    assert caught.value.position == position
    assert message in caught.value.message


def test_syntax_error_is_a_value_error_naming_the_position() -> None:
    with pytest.raises(ValueError, match=r"unknown field 'bogus'.*\(at position 12\)$"):
        parse("status:done bogus:1")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        (Query(()), ""),
        (Query((Filter("status", ":", "In Progress"),)), 'status:"In Progress"'),
        (Query((Filter("label", ":", 'say "hi"\\'),)), r'label:"say \"hi\"\\"'),
        (Query((Filter("label", ":", "a:b"),)), "label:a:b"),
        (Query((Filter("label", ":", "-x", negated=True),)), "-label:-x"),
        (Query((Filter("label", ":", ">x"),)), 'label:">x"'),
        (Query((Filter("priority", ">=", "high"),)), "priority:>=high"),
        (Query((Text("a:b"), Text("-x", negated=True))), '"a:b" -"-x"'),
        (Query((Text(r"back\slash"),)), r"back\slash"),
        (Query((Text("login"), Text("two words"))), 'login "two words"'),
    ],
)
def test_format_quotes_only_where_needed(query: Query, text: str) -> None:
    assert format_query(query) == text
    assert parse(text) == query


def test_format_normalizes_spelling() -> None:
    assert (
        format_query(parse('  TYPE:Bug   "login"  Parent:api-1 ')) == "type:bug login parent:API-1"
    )


def test_constants_describe_the_language() -> None:
    assert FIELDS[0] == "status"
    assert len(set(FIELDS)) == 14
    assert {"priority", "created", "updated", "due", "estimate"} == COMPARABLE_FIELDS
    assert PRIORITY_ORDER == ("none", "low", "medium", "high", "urgent")
    assert "in_progress" in CATEGORIES
    assert "spike" in TYPES


# Valid ASTs: every field with values that parse exactly to themselves.
# Anything but control characters (parse rejects them), plus some whitespace, quotes, backslashes.
storable_text = st.text(
    st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from(' \t\n"\\:-<>'),
    min_size=1,
    max_size=20,
)
names = storable_text.map(str.strip).filter(bool)
phrases = storable_text.filter(str.strip)
item_keys = st.from_regex(r"[A-Z][A-Z0-9]{1,9}-[0-9]{1,9}", fullmatch=True)
usernames = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", fullmatch=True).filter(
    lambda name: name.lower() != "none"  # `assignee:none` means unassigned
)
sprint_names = (names | st.just(SPRINT_ID)).filter(
    lambda name: name.lower() not in ("current", "none") and len(name) <= 100
)
days = st.one_of(
    st.dates(FIRST_DATE, LAST_DATE).map(lambda day: day.isoformat()),
    st.sampled_from([FIRST_DATE.isoformat(), LAST_DATE.isoformat(), "today"]),
    st.builds(lambda sign, n: f"{sign}{n}d", st.sampled_from("+-"), st.integers(0, 9_999_999)),
)
estimates = st.one_of(
    st.just("none"),
    st.integers(0, 1000).map(str),
    st.decimals(0, 999, places=3, allow_nan=False, allow_infinity=False).map(str),
)
FIELD_VALUES: dict[str, st.SearchStrategy[str]] = {
    "status": names,
    "category": st.sampled_from(CATEGORIES),
    "type": st.sampled_from(TYPES),
    "assignee": st.sampled_from(["@me", "none"]) | usernames,
    "label": names,
    "priority": st.sampled_from(PRIORITY_ORDER),
    "sprint": st.sampled_from(["current", "none"]) | sprint_names,
    "parent": st.just("none") | item_keys,
    "blocked": st.sampled_from(["true", "false"]),
    "created": days,
    "updated": days,
    "due": st.just("none") | days,
    "estimate": estimates,
    "key": item_keys,
}


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    field = draw(st.sampled_from(FIELDS))
    value = draw(FIELD_VALUES[field])
    comparable = field in COMPARABLE_FIELDS and value != "none"
    op = draw(st.sampled_from(OPERATORS)) if comparable else ":"
    return Filter(field, op, value, negated=draw(st.booleans()))


simple_terms = filters() | st.builds(Text, phrases, st.booleans())
flat_queries = st.lists(simple_terms, max_size=8).map(lambda clauses: Query(tuple(clauses)))


def _terms(depth: int) -> st.SearchStrategy[Term]:
    return simple_terms if depth == 0 else simple_terms | _groups(depth)


def _spliced(terms: list[Term]) -> bool:
    """An alternative that is one plain group is spelled without it (`(a OR b) OR c`)."""
    return len(terms) == 1 and isinstance(terms[0], Group) and not terms[0].negated


@st.composite
def _groups(draw: st.DrawFn, depth: int) -> Group:
    # The parser only keeps a group that changes the meaning: negated, or two alternatives.
    negated = draw(st.booleans())
    alternatives = draw(
        st.lists(
            st.lists(_terms(depth - 1), min_size=1, max_size=2).filter(lambda t: not _spliced(t)),
            min_size=1 if negated else 2,
            max_size=2 if depth > 1 else 3,
        )
    )
    return Group(tuple(tuple(terms) for terms in alternatives), negated)


queries = (
    st.lists(_terms(2), max_size=4)
    .map(lambda clauses: Query(tuple(clauses)))
    .filter(
        lambda query: (
            len(leaves(query.clauses)) <= MAX_CLAUSES
            and len(format_query(query)) <= MAX_QUERY_LENGTH
        )
    )
)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def respelled(draw: st.DrawFn) -> str:
    """A valid query written another way: other case, quotes, whitespace; not always valid."""
    words = []
    for clause in draw(flat_queries).clauses:
        assert not isinstance(clause, Group)  # flat queries have no groups
        value = clause.value
        if draw(st.booleans()):
            value = draw(st.sampled_from([value.upper(), value.title(), value.lower()]))
        value = _quoted(value) if draw(st.booleans()) else value
        sign = "-" if clause.negated else ""
        if isinstance(clause, Text):
            words.append(sign + value)
        else:
            field = draw(st.sampled_from([clause.field, clause.field.upper()]))
            words.append(f"{sign}{field}:{'' if clause.op == ':' else clause.op}{value}")
    gaps = draw(st.lists(st.sampled_from([" ", "  ", "\t", "\n "]), min_size=len(words) + 1))
    return "".join(gap + word for gap, word in zip(gaps, words, strict=False)) + gaps[-1]


query_pieces = st.lists(
    st.sampled_from(
        ["(", ")", "-(", " ", " OR ", " AND ", "OR", "a", "-", ":", '"', "type:bug", "due:<-3d"]
    ),
    max_size=30,
).map("".join)

query_like_text = st.one_of(st.text(max_size=60), respelled(), query_pieces)


@hypothesis_settings(max_examples=500, deadline=None, database=None)
@given(
    st.text(max_size=60) | st.text(st.sampled_from('ab -:"\\<>=@()'), max_size=30) | query_pieces
)
def test_parse_raises_only_syntax_errors(text: str) -> None:
    try:
        parse(text)
    except QuerySyntaxError as exc:
        position = exc.position
    else:
        return
    assert 0 <= position <= len(text)


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(query_like_text)
def test_formatting_what_parses_is_stable(text: str) -> None:
    try:
        parsed = parse(text)
    except QuerySyntaxError:
        return
    formatted = format_query(parsed)
    assert len(formatted) <= len(text)
    assert parse(formatted) == parsed


def test_every_field_has_a_value_strategy() -> None:
    assert set(FIELD_VALUES) == set(FIELDS)


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(queries)
def test_formatted_query_parses_back_to_itself(query: Query) -> None:
    assert parse(format_query(query)) == query


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(queries.filter(lambda query: bool(query.clauses)))
def test_outer_parentheses_and_written_ands_change_nothing(query: Query) -> None:
    text = format_query(query)
    assert parse(f"({text})") == query
    flat = " AND ".join(
        f"({format_query(Query((term,)))})"
        if isinstance(term, Group) and not term.negated
        else format_query(Query((term,)))
        for term in query.clauses
    )
    if len(query.clauses) > 1:
        assert parse(flat) == query


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (
            "type:bug OR (type:story priority:>=high)",
            (
                Group(
                    (
                        (Filter("type", ":", "bug"),),
                        (Filter("type", ":", "story"), Filter("priority", ">=", "high")),
                    )
                ),
            ),
        ),
        ("a OR b c", (Group(((Text("a"),), (Text("b"), Text("c")))),)),
        ("a AND b OR c", (Group(((Text("a"), Text("b")), (Text("c"),))),)),
        ("(a OR b) c", (Group(((Text("a"),), (Text("b"),))), Text("c"))),
        ("(a OR b) OR (c OR d)", (Group(tuple((Text(w),) for w in "abcd")),)),
        ("a (b c)", (Text("a"), Text("b"), Text("c"))),
        ("((a))", (Text("a"),)),
        ("-(a b)", (Group(((Text("a"), Text("b")),), negated=True),)),
        ("-(a)", (Group(((Text("a"),),), negated=True),)),
        ('(label:"x y")', (Filter("label", ":", "x y"),)),
        ("(type:bug)", (Filter("type", ":", "bug"),)),
        ("a or b", (Text("a"), Text("or"), Text("b"))),
    ],
)
def test_or_and_parentheses_parse_into_groups(text: str, clauses: tuple[Term, ...]) -> None:
    assert parse(text) == Query(clauses)


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("(a OR b)", "a OR b"),
        ("a   AND  (b)", "a b"),
        ("((a OR b) c) OR d", "(a OR b) c OR d"),
        ("-( a OR b )  c", "-(a OR b) c"),
        ('"OR" "AND" "(x)"', '"OR" "AND" "(x)"'),
        ('label:"a(b)"', 'label:"a(b)"'),
    ],
)
def test_format_writes_parentheses_only_where_needed(text: str, formatted: str) -> None:
    assert format_query(parse(text)) == formatted
    assert parse(formatted) == parse(text)


def test_positions_point_at_values() -> None:
    query = parse('type:bug OR (status:"In Review" label:x)')
    assert [
        (clause.value, getattr(clause, "position", None)) for clause in leaves(query.clauses)
    ] == [
        ("bug", 5),
        ("In Review", 20),
        ("x", 38),
    ]


def test_depth_limit_is_inclusive() -> None:
    text = "(" * MAX_DEPTH + "a OR b" + ")" * MAX_DEPTH
    assert parse(text) == Query((Group(((Text("a"),), (Text("b"),))),))


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(days, st.dates(FIRST_DATE, LAST_DATE))
def test_a_day_is_in_range_or_refused(value: str, today: date) -> None:
    clause = parse(f"due:{value}").clauses[0]
    assert isinstance(clause, Filter)
    relative = value[0] in "+-"
    try:
        day = day_of(clause, today)
    except QuerySyntaxError as exc:
        refused: QuerySyntaxError | None = exc
    else:
        refused = None
        assert day is not None
        assert FIRST_DATE <= day <= LAST_DATE
    if refused is not None:
        assert relative
        assert refused.position == len("due:")


def test_a_negated_keyword_word_formats_without_quotes() -> None:
    # Found by the formatting property: "-OR" came back as '-"OR"', longer than what was parsed.
    for text in ("-OR", "a -AND b"):
        assert format_query(parse(text)) == text
