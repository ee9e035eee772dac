"""Keyset pagination: page sizes, orderings, limits, and signed cursors that can't be forged."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar, Literal

import pytest
from fastapi import APIRouter, FastAPI, Request
from httpx import AsyncClient, Response
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import select

from takt.core.db import Database
from takt.core.deps import CursorQuery, LimitQuery, SessionDep
from takt.core.errors import InvalidCursor
from takt.core.events import Event, EventData
from takt.core.pagination import CursorCodec, Page, SortKey, paginate

AssertProblem = Callable[[Response, int, str], dict[str, Any]]
Order = Literal["seq", "-seq", "type,-seq", "-occurred_at,seq"]

ORDERINGS: dict[str, list[SortKey]] = {
    "seq": [SortKey(Event.seq)],
    "-seq": [SortKey(Event.seq, descending=True)],
    "type,-seq": [SortKey(Event.type), SortKey(Event.seq, descending=True)],
    "-occurred_at,seq": [SortKey(Event.occurred_at, descending=True), SortKey(Event.seq)],
}
ROWS = 120
TYPES = ("test.page_b", "test.page_a", "test.page_c")
BASE_TIME = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)

router = APIRouter(prefix="/test/pages")


class EventOut(BaseModel):
    seq: int
    type: str
    occurred_at: datetime


@router.get("/events")
async def list_events(
    request: Request,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    order: Order = "seq",
) -> Page[EventOut]:
    keys = ORDERINGS[order]
    rows, next_cursor = await paginate(
        session,
        select(Event),
        keys=keys,
        key_of=lambda event: [getattr(event, key.column.key) for key in keys],
        codec=request.app.state.cursor_codec,
        sort_name=order,
        limit=limit,
        cursor=cursor,
    )
    return Page(
        data=[EventOut(seq=e.seq, type=e.type, occurred_at=e.occurred_at) for e in rows],
        next_cursor=next_cursor,
    )


@pytest.fixture(scope="module")
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()
    app.include_router(router)
    return app


class PageB(EventData):
    event_type: ClassVar[str] = "test.page_b"


class PageA(EventData):
    event_type: ClassVar[str] = "test.page_a"


class PageC(EventData):
    event_type: ClassVar[str] = "test.page_c"


@pytest.fixture
async def events(db: Database) -> list[EventOut]:
    """120 events in three types; pairs share a timestamp, so ties need the second key."""
    rows = [
        Event(
            type=TYPES[i % 3],
            occurred_at=BASE_TIME + timedelta(seconds=i // 2, microseconds=i // 2),
            data={},
        )
        for i in range(ROWS)
    ]
    async with db.transaction() as session:
        session.add_all(rows)
    return [EventOut(seq=e.seq, type=e.type, occurred_at=e.occurred_at) for e in rows]


async def walk(client: AsyncClient, order: str, limit: int) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; returns the pages."""
    pages = []
    params: dict[str, Any] = {"order": order, "limit": limit}
    while True:
        response = await client.get("/test/pages/events", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            return pages
        params["cursor"] = pages[-1]["next_cursor"]


def seqs(pages: list[dict[str, Any]]) -> list[int]:
    return [row["seq"] for page in pages for row in page["data"]]


async def test_120_rows_page_by_50_as_50_50_20(client: AsyncClient, events: list[EventOut]) -> None:
    pages = await walk(client, "seq", 50)
    assert [len(page["data"]) for page in pages] == [50, 50, 20]
    assert seqs(pages) == sorted(e.seq for e in events)
    assert [page["next_cursor"] is None for page in pages] == [False, False, True]


async def test_exactly_full_last_page_has_no_next_cursor(
    client: AsyncClient, events: list[EventOut]
) -> None:
    pages = await walk(client, "seq", 60)
    assert [len(page["data"]) for page in pages] == [60, 60]


async def test_default_page_size_is_50(client: AsyncClient, events: list[EventOut]) -> None:
    response = await client.get("/test/pages/events")
    assert len(response.json()["data"]) == 50


async def test_descending_order_pages_correctly(
    client: AsyncClient, events: list[EventOut]
) -> None:
    pages = await walk(client, "-seq", 50)
    assert seqs(pages) == sorted((e.seq for e in events), reverse=True)


async def test_mixed_direction_order_pages_correctly(
    client: AsyncClient, events: list[EventOut]
) -> None:
    pages = await walk(client, "type,-seq", 7)
    expected = sorted(events, key=lambda e: (e.type, -e.seq))
    assert seqs(pages) == [e.seq for e in expected]


async def test_datetime_keys_page_correctly(client: AsyncClient, events: list[EventOut]) -> None:
    pages = await walk(client, "-occurred_at,seq", 9)
    expected = sorted(events, key=lambda e: (-e.occurred_at.timestamp(), e.seq))
    assert seqs(pages) == [e.seq for e in expected]
    first = pages[0]["data"][0]
    assert first["occurred_at"] == expected[0].occurred_at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", "1.5"])
async def test_limit_outside_1_to_100_gets_422(
    client: AsyncClient, assert_problem: AssertProblem, limit: str
) -> None:
    response = await client.get("/test/pages/events", params={"limit": limit})
    body = assert_problem(response, 422, "validation-failed")
    assert [e["pointer"] for e in body["errors"]] == ["/query/limit"]


B64_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def _respell_last(text: str) -> str:
    """The same bytes spelled differently: the last character's unused low bits changed."""
    return text[:-1] + B64_ALPHABET[B64_ALPHABET.index(text[-1]) ^ 1]


TAMPERINGS: dict[str, Callable[[str, CursorCodec], str]] = {
    "payload-char-flipped": lambda c, _: _flip(c, 3),
    "signature-char-flipped": lambda c, _: _flip(c, len(c) - 3),
    "signature-respelled": lambda c, _: _respell_last(c),
    "signature-dropped": lambda c, _: c.split(".")[0],
    "extra-character": lambda c, _: c + "A",
    "stray-characters-in-payload": lambda c, _: c[:4] + "!!!!" + c[4:],
    "padded": lambda c, _: c + "=" * (-len(c.split(".")[1]) % 4 or 4),
    "garbage": lambda c, _: "not-a-cursor",
    "non-ascii": lambda c, _: "ü" + c,
    "other-sort": lambda _, codec: codec.encode("-seq", [10]),
    "other-width": lambda _, codec: codec.encode("seq", [10, 11]),
    "other-secret": lambda _, codec: CursorCodec("another-servers-secret-key-0123456789").encode(
        "seq", [10]
    ),
}


@pytest.mark.parametrize("tampering", TAMPERINGS)
async def test_tampered_cursor_gets_400_invalid_cursor(
    app: FastAPI, client: AsyncClient, assert_problem: AssertProblem, tampering: str
) -> None:
    codec: CursorCodec = app.state.cursor_codec
    cursor = TAMPERINGS[tampering](codec.encode("seq", [10]), codec)
    response = await client.get("/test/pages/events", params={"limit": 10, "cursor": cursor})
    assert_problem(response, 400, "invalid-cursor")


async def test_over_long_cursor_gets_422(
    client: AsyncClient, assert_problem: AssertProblem
) -> None:
    response = await client.get("/test/pages/events", params={"cursor": "a" * 1025})
    assert_problem(response, 422, "validation-failed")


def test_datetime_cursor_values_round_trip_as_aware_datetimes() -> None:
    codec = CursorCodec("unit-test-secret-key-that-is-long-enough")
    moment = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    (decoded, seq) = codec.decode(
        codec.encode("-occurred_at,seq", [moment, 7]), "-occurred_at,seq", 2
    )
    assert decoded == moment
    assert decoded.utcoffset() == timedelta(0)
    assert seq == 7


CODEC = CursorCodec("property-test-secret-key-long-enough-0123")
key_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(
        timezones=st.builds(
            timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m))
        )
    ),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
sort_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_,-", min_size=1, max_size=30)


@hypothesis_settings(max_examples=200, deadline=None, database=None)
@given(sort=sort_names, values=st.lists(key_values, min_size=1, max_size=4))
def test_cursor_decode_inverts_encode(sort: str, values: list[Any]) -> None:
    decoded = CODEC.decode(CODEC.encode(sort, values), sort, len(values))
    assert decoded == values
    assert [type(v) for v in decoded] == [type(v) for v in values]


@st.composite
def mutated(draw: st.DrawFn, cursor: str) -> str:
    """Any edit of the text, plus the edits a lenient base64 decoder would not notice."""
    index = draw(st.integers(0, len(cursor) - 1))
    kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "respell"]))
    if kind == "replace":
        char = draw(st.sampled_from(B64_ALPHABET) | st.characters(exclude_categories=["Cs"]))
        return cursor[:index] + char + cursor[index + 1 :]
    if kind == "insert":
        text = draw(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=4))
        return cursor[:index] + text + cursor[index:]
    if kind == "delete":
        return cursor[:index] + cursor[index + 1 :]
    if kind == "truncate":
        return cursor[:index]
    payload, signature = cursor.split(".")
    part = draw(st.sampled_from([payload, signature]))
    respelled = part[:-1] + draw(st.sampled_from(B64_ALPHABET))
    return cursor.replace(part, respelled, 1)


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(data=st.data(), sort=sort_names, values=st.lists(key_values, min_size=1, max_size=4))
def test_any_mutated_cursor_is_rejected_with_invalid_cursor(
    data: st.DataObject, sort: str, values: list[Any]
) -> None:
    cursor = CODEC.encode(sort, values)
    tampered = data.draw(mutated(cursor).filter(lambda c: c != cursor))
    with pytest.raises(InvalidCursor):
        CODEC.decode(tampered, sort, len(values))
