"""Turns `q=` text into SQL conditions, sort orders and facet counts.

Semantics (see `query.py`): terms are AND-ed, OR makes alternatives, `-` negates a term or a
group; plain equality filters on the same field in one AND-group are OR-ed (`label:api label:web`
= either label). Names (statuses, labels, users, parent items, sprints) are looked up in the
project first, one query per kind used: a name that matches nothing there is a 400
`invalid-query` at the name's position, not an empty list. Free text searches title and
description with SQLite FTS5 or PostgreSQL full-text search (each word a prefix, all words
required).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.core.errors import BadRequest
from takt.core.pagination import SortKey
from takt.core.time import utcnow
from takt.items.models import PRIORITIES, Item, ItemLabel
from takt.items.query import (
    Filter,
    Group,
    Query,
    QuerySyntaxError,
    Term,
    Text,
    day_of,
    leaves,
    parse,
)
from takt.items.sprint_directory import directory
from takt.projects.models import ProjectMember
from takt.workflow.models import Label, Status

_WORD = re.compile(r"\w+", re.UNICODE)
TaggedItem = aliased(ItemLabel, name="tagged_item")
# Fields whose values name something of the project, looked up before the query runs.
NAMED_FIELDS = ("status", "label", "assignee", "parent", "sprint")
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "assignee": ("@me", "none"),
    "parent": ("none",),
    "sprint": ("current", "none"),
}


class InvalidQuery(BadRequest):
    """The `q` filter can't be used: a syntax error, a value out of range, or a status, label,
    user, parent item or sprint that doesn't exist in the project. `detail` says what, and
    `position` is the 0-based character offset it points at; see the filter language in the API
    guide."""

    code = "invalid-query"
    title = "Invalid query"


def _invalid(exc: QuerySyntaxError) -> InvalidQuery:
    return InvalidQuery(
        f"{exc.message} (at position {exc.position})", extra={"position": exc.position}
    )


def parse_query(q: str | None) -> Query | None:
    if not q or not q.strip():
        return None
    try:
        return parse(q)
    except QuerySyntaxError as exc:
        raise _invalid(exc) from exc


@dataclass(frozen=True)
class SearchContext:
    project_id: str
    principal_id: str
    dialect: str


@dataclass
class _Names:
    """What the query's names are in the project: lower-cased name (or id, key) → ids."""

    ids: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(dict))

    def of(self, clause: Filter) -> list[str]:
        return self.ids[clause.field].get(_name_key(clause), [])


def _name_key(clause: Filter) -> str:
    return clause.value if clause.field == "parent" else clause.value.lower()


def _lookup(kind: str, wanted: set[str], project_id: str) -> Select[str, str, str]:
    """(kind, name, id) rows of the project's things of `kind` that the query may name.

    Statuses, labels and sprints come whole (a project has few) and are matched in Python:
    SQLite's lower() is ASCII-only, so matching in SQL would miss "Überprüfung". People are only
    the project's (members, or assignees of its items): a query can't tell whether an account
    exists elsewhere. Parents are live items of the project, by key."""
    tag = literal(kind)
    if kind == "sprint":
        names = directory().names(project_id).subquery()
        return select(tag, names.c.name, names.c.id)
    if kind in ("status", "label"):
        model: Any = {"status": Status, "label": Label}[kind]
        return select(tag, model.name, model.id).where(model.project_id == project_id)
    if kind == "assignee":
        return select(tag, User.username_key, User.id).where(
            User.username_key.in_(sorted(wanted)),
            or_(
                exists().where(
                    ProjectMember.project_id == project_id, ProjectMember.user_id == User.id
                ),
                exists().where(Item.project_id == project_id, Item.assignee_id == User.id),
            ),
        )
    return select(tag, Item.key, Item.id).where(
        Item.project_id == project_id, Item.deleted_at.is_(None), Item.key.in_(sorted(wanted))
    )


async def _resolve_names(session: AsyncSession, query: Query, project_id: str) -> _Names:
    named = [
        clause
        for clause in leaves(query.clauses)
        if isinstance(clause, Filter)
        and clause.field in NAMED_FIELDS
        and clause.value not in _KEYWORDS.get(clause.field, ())
    ]
    wanted: dict[str, set[str]] = defaultdict(set)
    for clause in named:
        wanted[clause.field].add(_name_key(clause))
    names = _Names()
    if wanted:
        # One statement for every kind of name the query uses (validation costs one query).
        lookups = [_lookup(kind, values, project_id) for kind, values in sorted(wanted.items())]
        statement = lookups[0] if len(lookups) == 1 else union_all(*lookups)
        for kind, name, thing_id in await session.execute(statement):
            # Statuses, labels and sprints by name (any case); a sprint by its id as well.
            keys = {name.strip().lower()} if kind in ("status", "label", "sprint") else {name}
            if kind == "sprint":
                keys.add(thing_id.lower())
            for key in keys & wanted[kind]:
                names.ids[kind].setdefault(key, []).append(thing_id)
    for clause in named:
        if not names.of(clause):
            what = "item" if clause.field == "parent" else clause.field
            raise _invalid(
                QuerySyntaxError(
                    f"there is no {what} {clause.value!r} in this project", clause.position
                )
            )
    return names


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = {
        ">": column > value,
        ">=": column >= value,
        "<": column < value,
        "<=": column <= value,
    }.get(op, column == value)
    return result


def _timestamp_condition(column: Any, op: str, day: date) -> ColumnElement[bool]:
    """Whole UTC days: `created:2026-01-05` is that day, `>2026-01-05` starts the day after.

    The day after 9999-12-31 doesn't exist: nothing is after it."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=1) if day < date.max else None
    if op == ":":
        return and_(column >= start, column < end) if end else column >= start
    bounds: dict[str, ColumnElement[bool]] = {
        ">": column >= end if end else false(),
        ">=": column >= start,
        "<": column < start,
        "<=": column < end if end else true(),
    }
    return bounds[op]


@dataclass
class _Builder:
    ctx: SearchContext
    names: _Names
    today: date
    texts: int = 0

    def conjunction(self, terms: tuple[Term, ...]) -> list[ColumnElement[bool]]:
        result: list[ColumnElement[bool]] = []
        same_field: dict[str, list[ColumnElement[bool]]] = defaultdict(list)
        for term in terms:
            condition = self.term(term)
            if condition is None:
                continue
            if term.negated:
                # NULL-safe: `-assignee:ada` keeps unassigned items (NOT NULL would drop them).
                result.append(not_(func.coalesce(condition, false())))
            elif isinstance(term, Filter) and term.op == ":":
                same_field[term.field].append(condition)
            else:
                result.append(condition)
        result.extend(or_(*group) if len(group) > 1 else group[0] for group in same_field.values())
        return result

    def term(self, term: Term) -> ColumnElement[bool] | None:
        if isinstance(term, Group):
            return or_(*(and_(true(), *self.conjunction(terms)) for terms in term.alternatives))
        if isinstance(term, Text):
            self.texts += 1
            return _text_condition(term, self.ctx, self.texts)
        return self.filter(term)

    def filter(self, clause: Filter) -> ColumnElement[bool]:
        field, op, value = clause.field, clause.op, clause.value
        if field in NAMED_FIELDS:
            return self.named(clause)
        if field == "category":
            statuses = select(Status.id).where(Status.project_id == self.ctx.project_id)
            return Item.status_id.in_(statuses.where(Status.category == value))
        if field == "type":
            return Item.type == value
        if field == "key":
            return Item.key == value
        if field == "priority":
            return _compare(Item.priority, op, PRIORITIES.index(value))
        if field == "blocked":
            return Item.blocked.is_(value == "true")
        if field == "estimate":
            if value == "none":
                return Item.estimate.is_(None)
            return _compare(Item.estimate, op, float(value))
        try:
            day = day_of(clause, self.today)
        except QuerySyntaxError as exc:
            raise _invalid(exc) from exc
        if field == "due":
            return Item.due_date.is_(None) if day is None else _compare(Item.due_date, op, day)
        if day is None or field not in ("created", "updated"):
            raise InvalidQuery(f"Unknown field {field!r}.")
        return _timestamp_condition(
            Item.created_at if field == "created" else Item.updated_at, op, day
        )

    def named(self, clause: Filter) -> ColumnElement[bool]:
        field, value = clause.field, clause.value
        if field == "assignee" and value == "@me":
            return Item.assignee_id == self.ctx.principal_id
        if field == "sprint" and value == "current":
            return current_sprint_condition(self.ctx)
        column = {
            "status": Item.status_id,
            "assignee": Item.assignee_id,
            "parent": Item.parent_id,
            "sprint": Item.sprint_id,
        }.get(field)
        if value == "none" and column is not None:
            return column.is_(None)
        ids = self.names.of(clause)
        if column is None:
            # Uncorrelated IN, so it composes with facet queries that join item_labels themselves.
            return Item.id.in_(select(TaggedItem.item_id).where(TaggedItem.label_id.in_(ids)))
        return column.in_(ids)


def current_sprint_condition(ctx: SearchContext) -> ColumnElement[bool]:
    """Items of the project's active sprint (none when no sprint is active)."""
    return Item.sprint_id.in_(directory().active_ids(ctx.project_id))


def _text_condition(clause: Text, ctx: SearchContext, index: int) -> ColumnElement[bool] | None:
    """Words in one clause form a phrase (they came quoted); the last word matches as a prefix,
    so `"rate lim"` finds "rate limit"."""
    words = _WORD.findall(clause.value)[:20]
    if not words:
        return None
    name = f"fts_{index}"
    if ctx.dialect == "sqlite":
        phrase = '"' + " ".join(words).replace('"', '""') + '"*'
        # `name` is ours (fts_<n>); the user's words travel only as the bound parameter.
        matches = (
            text(f"SELECT rowid FROM items_fts WHERE items_fts MATCH :{name}")  # noqa: S608
            .bindparams(bindparam(name, phrase))
            .columns(column("rowid"))
        )
        return literal_column("items.rowid").in_(matches)
    tsquery = " <-> ".join([*words[:-1], f"{words[-1]}:*"])
    # Either reading of the text: its words (as SQLite's index splits them), or the text as
    # PostgreSQL's parser reads it, which keeps `config.yaml`, `1.2.3`, an e-mail address, a
    # path or a URL as one word in the index, so the words alone never find it written so.
    return literal_column("items.search_vector").op("@@")(
        func.to_tsquery("simple", bindparam(name, tsquery)).op("||")(
            func.to_tsquery("simple", bindparam(f"{name}_as_written", _as_written(clause.value)))
        )
    )


def _as_written(value: str) -> str:
    """A tsquery of `value` as PostgreSQL's parser reads it: each chunk between spaces a quoted
    operand (quotes and backslashes escaped: whatever the text, it is text, never syntax) that
    the parser splits into words as it does a title, in a phrase, the last chunk a prefix."""
    operands = [
        "'" + chunk.replace("\\", "\\\\").replace("'", "''") + "'" for chunk in value.split()[:20]
    ]
    return " <-> ".join([*operands[:-1], f"{operands[-1]}:*"])


async def filter_conditions(
    session: AsyncSession, q: str | None, ctx: SearchContext
) -> list[ColumnElement[bool]]:
    """SQL conditions for `q=` (to AND with the project filter); `InvalidQuery` if it can't be
    used. Looks up the names it uses in the project first."""
    query = parse_query(q)
    if query is None:
        return []
    names = await _resolve_names(session, query, ctx.project_id)
    return _Builder(ctx, names, utcnow().date()).conjunction(query.clauses)


SORTS: dict[str, list[SortKey]] = {
    "rank": [SortKey(Item.rank), SortKey(Item.id)],
    "key": [SortKey(Item.number)],
    "created_at": [SortKey(Item.created_at), SortKey(Item.id)],
    "-created_at": [SortKey(Item.created_at, True), SortKey(Item.id, True)],
    "updated_at": [SortKey(Item.updated_at), SortKey(Item.id)],
    "-updated_at": [SortKey(Item.updated_at, True), SortKey(Item.id, True)],
    "priority": [SortKey(Item.priority), SortKey(Item.rank), SortKey(Item.id)],
    "-priority": [SortKey(Item.priority, True), SortKey(Item.rank), SortKey(Item.id)],
}


def sort_values(sort: str, row: Any) -> tuple[Any, ...]:
    """The cursor values of an item (or a row of `repository.item_rows()`) for `sort`."""
    return tuple(getattr(row, key.column.key) for key in SORTS[sort])


FACETS = ("status", "assignee", "label", "type", "priority")


async def facet_counts(
    session: AsyncSession, facets: list[str], project_id: str, where: list[ColumnElement[bool]]
) -> dict[str, dict[str, int]]:
    """Counts per value over the whole filtered set, one GROUP BY per facet."""
    scope = and_(Item.project_id == project_id, Item.deleted_at.is_(None), *where)
    result: dict[str, dict[str, int]] = {}
    for facet in facets:
        count = func.count(Item.id)
        group: Any
        if facet == "status":
            stmt = select(Status.name, count).join(Status, Status.id == Item.status_id)
            group = Status.name
        elif facet == "assignee":
            stmt = select(User.username, count).outerjoin(User, User.id == Item.assignee_id)
            group = User.username
        elif facet == "label":
            stmt = (
                select(Label.name, count)
                .join(ItemLabel, ItemLabel.item_id == Item.id)
                .join(Label, Label.id == ItemLabel.label_id)
            )
            group = Label.name
        elif facet == "priority":
            stmt = select(Item.priority, count)
            group = Item.priority
        else:
            stmt = select(Item.type, count)
            group = Item.type
        rows = await session.execute(stmt.select_from(Item).where(scope).group_by(group))
        counts: dict[str, int] = {}
        for value, number in rows:
            label = PRIORITIES[int(value)] if facet == "priority" else (value or "none")
            counts[str(label)] = int(number)
        result[facet] = counts
    return result


__all__ = [
    "FACETS",
    "SORTS",
    "InvalidQuery",
    "facet_counts",
    "filter_conditions",
    "parse_query",
]
