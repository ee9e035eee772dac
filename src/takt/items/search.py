"""Turns a parsed `q=` query into SQL conditions, sort orders and facet counts.

Semantics: equality filters on the same field are OR-ed (`label:api label:web` = either label),
everything else is AND-ed; `-` negates a clause. Free text searches title and description with
SQLite FTS5 or PostgreSQL full-text search (each word a prefix, all words required).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from takt.auth.models import User
from takt.core.errors import BadRequest
from takt.core.pagination import SortKey
from takt.items.models import PRIORITIES, Item, ItemLabel
from takt.items.query import Filter, Query, QuerySyntaxError, Text, parse
from takt.sprints.models import Sprint
from takt.workflow.models import Label, Status

_WORD = re.compile(r"\w+", re.UNICODE)
ParentItem = aliased(Item, name="parent_item")
TaggedItem = aliased(ItemLabel, name="tagged_item")


class InvalidQuery(BadRequest):
    """The `q` filter has a syntax error. `detail` says what and at which character position;
    see the filter language in the API guide."""

    code = "invalid-query"
    title = "Invalid query"


def parse_query(q: str | None) -> Query | None:
    if not q or not q.strip():
        return None
    try:
        return parse(q)
    except QuerySyntaxError as exc:
        raise InvalidQuery(
            f"{exc.message} (at position {exc.position})", extra={"position": exc.position}
        ) from exc


@dataclass(frozen=True)
class SearchContext:
    project_id: str
    principal_id: str
    dialect: str


def _day_start(value: str) -> datetime:
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = {
        ">": column > value,
        ">=": column >= value,
        "<": column < value,
        "<=": column <= value,
    }.get(op, column == value)
    return result


def _date_condition(column: Any, op: str, value: str) -> ColumnElement[bool]:
    """Whole UTC days: `created:2026-01-05` is that day, `>2026-01-05` starts the day after."""
    start = _day_start(value)
    end = start + timedelta(days=1)
    if op == ":":
        return and_(column >= start, column < end)
    bounds: dict[str, ColumnElement[bool]] = {
        ">": column >= end,
        ">=": column >= start,
        "<": column < start,
        "<=": column < end,
    }
    return bounds[op]


def _filter_condition(clause: Filter, ctx: SearchContext) -> ColumnElement[bool]:
    field, op, value = clause.field, clause.op, clause.value
    statuses = select(Status.id).where(Status.project_id == ctx.project_id)
    if field == "status":
        return Item.status_id.in_(statuses.where(func.lower(Status.name) == value.lower()))
    if field == "category":
        return Item.status_id.in_(statuses.where(Status.category == value))
    if field == "type":
        return Item.type == value
    if field == "key":
        return Item.key == value
    if field == "assignee":
        if value == "@me":
            return Item.assignee_id == ctx.principal_id
        if value == "none":
            return Item.assignee_id.is_(None)
        return Item.assignee_id.in_(select(User.id).where(User.username_key == value.lower()))
    if field == "label":
        labels = select(Label.id).where(
            Label.project_id == ctx.project_id, func.lower(Label.name) == value.lower()
        )
        # Uncorrelated IN, so it composes with facet queries that join item_labels themselves.
        return Item.id.in_(select(TaggedItem.item_id).where(TaggedItem.label_id.in_(labels)))
    if field == "priority":
        return _compare(Item.priority, op, PRIORITIES.index(value))
    if field == "sprint":
        if value == "none":
            return Item.sprint_id.is_(None)
        if value == "current":
            return current_sprint_condition(ctx)
        return Item.sprint_id == value
    if field == "parent":
        if value == "none":
            return Item.parent_id.is_(None)
        return Item.parent_id.in_(
            select(ParentItem.id).where(
                ParentItem.project_id == ctx.project_id, ParentItem.key == value
            )
        )
    if field == "blocked":
        return Item.blocked.is_(value == "true")
    if field in ("created", "updated"):
        return _date_condition(
            Item.created_at if field == "created" else Item.updated_at, op, value
        )
    raise InvalidQuery(f"Unknown field {field!r}.")


def current_sprint_condition(ctx: SearchContext) -> ColumnElement[bool]:
    """Items of the project's active sprint (none when no sprint is active)."""
    return Item.sprint_id.in_(
        select(Sprint.id).where(Sprint.project_id == ctx.project_id, Sprint.state == "active")
    )


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
    return literal_column("items.search_vector").op("@@")(
        func.to_tsquery("simple", bindparam(name, tsquery))
    )


def conditions(query: Query | None, ctx: SearchContext) -> list[ColumnElement[bool]]:
    """SQL conditions for the parsed query (to AND with the project filter)."""
    if query is None:
        return []
    result: list[ColumnElement[bool]] = []
    same_field: dict[str, list[ColumnElement[bool]]] = defaultdict(list)
    for index, clause in enumerate(query.clauses):
        if isinstance(clause, Text):
            condition = _text_condition(clause, ctx, index)
            if condition is not None:
                result.append(not_(condition) if clause.negated else condition)
            continue
        condition = _filter_condition(clause, ctx)
        if clause.negated:
            # NULL-safe: `-assignee:ada` keeps unassigned items (NOT NULL would drop them).
            result.append(not_(func.coalesce(condition, false())))
        elif clause.op == ":":
            same_field[clause.field].append(condition)
        else:
            result.append(condition)
    result.extend(or_(*group) if len(group) > 1 else group[0] for group in same_field.values())
    return result


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
    scope = and_(Item.project_id == project_id, *where) if where else Item.project_id == project_id
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


__all__ = ["FACETS", "SORTS", "InvalidQuery", "conditions", "facet_counts", "parse_query", "true"]
