"""Keyset (cursor) pagination: `{data, next_cursor}` pages over any ordered SELECT.

A cursor is the sort key of the last row of a page, signed with the secret key so a client can't
forge one that skips the visibility filter's ordering assumptions or smuggles values into SQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, literal, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from takt.core.errors import InvalidCursor

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    data: list[T] = Field(description="The items on this page, in the requested order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering; the last key must be unique (usually the id)."""

    column: Any
    descending: bool = False

    def order_by(self) -> ColumnElement[Any]:
        return self.column.desc() if self.descending else self.column.asc()  # type: ignore[no-any-return]


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"takt-cursor:" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, sort: str, values: Sequence[Any]) -> str:
        payload = orjson.dumps({"s": sort, "k": [_tag(v) for v in values]})
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, cursor: str, sort: str, width: int) -> list[Any]:
        try:
            payload_part, signature_part = cursor.split(".", 1)
            payload = _unb64(payload_part)
            signature = _unb64(signature_part)
        except ValueError as exc:
            raise InvalidCursor("The cursor is malformed.") from exc
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor("The cursor was altered or comes from another server.")
        data = orjson.loads(payload)
        if data.get("s") != sort or len(data.get("k", [])) != width:
            raise InvalidCursor("The cursor belongs to another sort order; start from page one.")
        return [_untag(v) for v in data["k"]]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64") from exc
    # The decoder skips stray characters and ignores the spare bits of the last one; accept
    # only the one spelling we issue, so every altered cursor is refused.
    if _b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


def _tag(value: Any) -> Any:
    return {"$dt": value.isoformat()} if isinstance(value, datetime) else value


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    return value


@dataclass(frozen=True)
class PageRequest:
    """The page a caller asked for (`limit` and `cursor` of a list) and the codec that signs and
    checks its cursors. Routers take it as `PageDep` and hand it to the service's list function,
    which runs its repository's statement through `fetch`."""

    codec: CursorCodec
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    async def fetch(
        self,
        session: AsyncSession,
        stmt: Select[*tuple[Any, ...]],
        *,
        keys: Sequence[SortKey],
        key_of: Callable[[Any], Sequence[Any]],
        sort_name: str,
        scalars: bool = True,
    ) -> tuple[list[Any], str | None]:
        """`paginate` `stmt` for this page: its rows and the next cursor."""
        return await paginate(
            session,
            stmt,
            keys=keys,
            key_of=key_of,
            codec=self.codec,
            sort_name=sort_name,
            limit=self.limit,
            cursor=self.cursor,
            scalars=scalars,
        )


def after_keyset(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the ordering `keys`.

    One row-value comparison when every key runs the same way (it can use a composite index on
    both databases); otherwise the equivalent OR-chain. A value may be a bind parameter (see
    `keyset_page`); any other is bound here.
    """
    # Typed, so values go through the column's type (UTC handling on SQLite).
    typed = [
        v if isinstance(v, BindParameter) else literal(v, k.column.type)
        for k, v in zip(keys, values, strict=True)
    ]
    if len({k.descending for k in keys}) == 1:
        left = tuple_(*(k.column for k in keys))
        right = tuple_(*typed)
        return left < right if keys[0].descending else left > right
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == typed[j] for j in range(i)]
        step = key.column < typed[i] if key.descending else key.column > typed[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


def keyset_page(
    stmt: Select[*tuple[Any, ...]], keys: Sequence[SortKey], *, after: bool
) -> Select[*tuple[Any, ...]]:
    """`stmt` as one page: ordered by `keys`, at most `page_limit` rows, and, when `after`,
    after the keyset in `after_0`, `after_1`… (bind parameters `paginate` fills in).

    A caller may build it once per shape and keep it (`functools.cache`, see
    `items.repository.project_items_page`): SQLAlchemy computes a statement's cache key once per
    statement object, and for a list page's statement rebuilt per request that was about a tenth
    of the request (bench/RESULTS.md, session 10)."""
    if after:
        stmt = stmt.where(
            after_keyset(
                keys, [bindparam(f"after_{i}", type_=k.column.type) for i, k in enumerate(keys)]
            )
        )
    return stmt.order_by(*(k.order_by() for k in keys)).limit(
        bindparam("page_limit", type_=Integer)
    )


async def paginate(
    session: AsyncSession,
    stmt: Select[*tuple[Any, ...]] | Callable[[bool], Select[*tuple[Any, ...]]],
    *,
    keys: Sequence[SortKey],
    key_of: Callable[[Any], Sequence[Any]],
    codec: CursorCodec,
    sort_name: str,
    limit: int,
    cursor: str | None,
    scalars: bool = True,
    params: dict[str, Any] | None = None,
) -> tuple[list[Any], str | None]:
    """Run `stmt` for one page; returns the rows and the next cursor (None on the last page).

    `stmt` is the statement to page, or a function that answers its `keyset_page` (with or
    without a cursor to start after) built once, with `params` for its other bind parameters;
    that page must have been built with these same `keys`, whose order the cursor's values
    (`after_0`, `after_1`…) follow."""
    values = codec.decode(cursor, sort_name, len(keys)) if cursor else []
    page = stmt(bool(cursor)) if callable(stmt) else keyset_page(stmt, keys, after=bool(cursor))
    result = await session.execute(page, {**(params or {}), **page_params(values, limit)})
    rows = list(result.scalars().all() if scalars else result.all())
    return cut_page(rows, limit, codec=codec, sort_name=sort_name, key_of=key_of)


def page_params(after: Sequence[Any], limit: int) -> dict[str, Any]:
    """The bind parameters of a `keyset_page` for a page of `limit` rows after the keyset
    `after` (a decoded cursor's values; empty for page one): one row more than the page, to
    know whether another follows."""
    params: dict[str, Any] = {"page_limit": limit + 1}
    params.update((f"after_{i}", value) for i, value in enumerate(after))
    return params


def cut_page(
    rows: list[T],
    limit: int,
    *,
    codec: CursorCodec,
    sort_name: str,
    key_of: Callable[[T], Sequence[Any]],
) -> tuple[list[T], str | None]:
    """The page of `rows` (a `keyset_page` run with `page_params`) and the next cursor, None on
    the last page."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, codec.encode(sort_name, key_of(rows[-1]))
