"""The live event stream on a real server (httpx's ASGI transport would buffer a stream whole):
events as they commit, resuming without loss or repeats, filters, heartbeats, who sees what,
streams cut off when their caller loses access, and how many one user may hold open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from takt.config import Settings
from takt.core.db import Database
from takt.projects.models import ProjectMember
from tests.conftest import empty_all_tables
from tests.live import live_server
from tests.support import (
    Account,
    add_member,
    app_for_module_data,
    bearer,
    make_pat,
    make_project,
    make_user,
)

STREAM = "text/event-stream"
API_EVENTS = "/api/v1/projects/API/events"
ALL_EVENTS = "/api/v1/events/stream"
# TAKT_SSE_MAX_STREAMS_PER_USER of this module's server: each test of the cap has users of its
# own, and the other tests hold at most one stream per user at a time.
CAP = 3


class EventReader:
    """Reads a server-sent event stream block by block (a block ends at a blank line)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def block(self, timeout: float = 10.0) -> list[str] | None:
        """The next block's lines; None once the stream has ended."""
        lines: list[str] = []
        async with asyncio.timeout(timeout):
            while True:
                try:
                    line = await anext(self._lines)
                except StopAsyncIteration:
                    return lines or None
                if line:
                    lines.append(line)
                elif lines:
                    return lines

    async def event(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next event (comments skipped): its `id`, `event` and parsed `data`."""
        while True:
            block = await self.block(timeout)
            assert block is not None, "the stream ended"
            fields = dict(line.split(": ", 1) for line in block if not line.startswith(":"))
            if fields:
                assert set(fields) == {"id", "event", "data"}, block
                return {
                    "id": fields["id"],
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.event() for _ in range(count)]

    async def comments_until_the_end(self, timeout: float = 15.0) -> list[str]:
        """Every comment line up to the end of the stream (events in between are skipped)."""
        comments: list[str] = []
        while (block := await self.block(timeout)) is not None:
            comments += [line for line in block if line.startswith(":")]
        return comments


def key_of(event: dict[str, Any]) -> str:
    key: str = event["data"]["data"]["key"]
    return key


@asynccontextmanager
async def opened(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    *,
    params: dict[str, str] | None = None,
) -> AsyncIterator[EventReader]:
    async with client.stream(
        "GET", path, params=params, headers={**headers, "Accept": STREAM}
    ) as response:
        assert response.status_code == 200, await response.aread()
        yield EventReader(response)


@dataclass
class World:
    app: FastAPI
    database: Database
    ada: Account  # admin of API
    bob: Account  # member of API
    sam: Account  # admin of OTH
    root: Account  # instance admin, member of nothing
    api_id: str


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(
        database_url,
        tmp_path_factory.mktemp("stream"),
        TAKT_EMBEDDED_WORKER="false",
        TAKT_SSE_HEARTBEAT_SECONDS="0.5",
        TAKT_PRINCIPAL_CACHE_SECONDS="0.5",
        TAKT_RATE_LIMIT_PER_MINUTE="1000000",
        TAKT_SSE_MAX_STREAMS_PER_USER=str(CAP),
    ) as base:
        yield base


@pytest.fixture(scope="module")
async def world(settings: Settings, server: str) -> AsyncIterator[World]:
    # The module's own data, made once: the server's broadcaster keeps its place in the log
    # between tests, so the log is not emptied under it (SQLite would reuse the numbers).
    database = Database.from_settings(settings)
    app = app_for_module_data(settings, database)
    ada, bob, sam = [await make_user(app, database, name) for name in ("ada", "bob", "sam")]
    root = await make_user(app, database, "root", admin=True)
    api = await make_project(database, ada, "API")
    await make_project(database, sam, "OTH")
    await add_member(database, api, bob, "member")
    yield World(app=app, database=database, ada=ada, bob=bob, sam=sam, root=root, api_id=api)
    await empty_all_tables(database)
    await database.dispose()


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=20) as c:
        yield c


async def new_item(
    client: httpx.AsyncClient, who: Account, key: str = "API", title: str = "Live"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{key}/items", json={"title": title}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


async def test_events_arrive_as_they_commit_with_the_log_cursor_as_id(
    client: httpx.AsyncClient, world: World
) -> None:
    async with opened(client, API_EVENTS, world.bob.headers) as stream:
        headers = stream.response.headers
        created = [await new_item(client, world.ada, title=f"Live {i}") for i in range(3)]
        got = await stream.events(3)
    assert headers["content-type"].startswith(STREAM)
    assert headers["cache-control"] == "no-store"
    assert headers["x-accel-buffering"] == "no"
    assert [e["event"] for e in got] == ["item.created"] * 3
    assert [key_of(e) for e in got] == [item["key"] for item in created]
    assert got[0]["data"]["project_key"] == "API"
    assert got[0]["data"]["actor"]["username"] == "ada"
    # An id is the log's cursor: the JSON log resumes after it, with the same envelopes.
    page = await client.get(API_EVENTS, params={"after": got[0]["id"]}, headers=world.bob.headers)
    assert page.json()["data"] == [e["data"] for e in got[1:]]
    assert page.json()["next_cursor"] == got[-1]["id"]


@pytest.mark.parametrize("resume", ["Last-Event-ID", "after"])
async def test_a_resumed_stream_loses_and_repeats_nothing(
    client: httpx.AsyncClient, world: World, resume: str
) -> None:
    async with opened(client, API_EVENTS, world.bob.headers) as stream:
        await new_item(client, world.ada, title="Seen")
        last = await stream.event()
    missed = [await new_item(client, world.ada, title=f"Missed {i}") for i in range(5)]
    headers, params = dict(world.bob.headers), {}
    if resume == "after":
        params["after"] = last["id"]
    else:
        headers["Last-Event-ID"] = last["id"]
    async with opened(client, API_EVENTS, headers, params=params) as stream:
        caught_up = await stream.events(len(missed))
        newer = await new_item(client, world.ada, title="Newer")
        following = await stream.event()
    assert [key_of(e) for e in caught_up] == [item["key"] for item in missed]
    assert key_of(following) == newer["key"]


async def test_last_event_id_wins_over_after(client: httpx.AsyncClient, world: World) -> None:
    async with opened(client, API_EVENTS, world.bob.headers) as stream:
        for title in ("One", "Two", "Three"):
            await new_item(client, world.ada, title=title)
        one, two, three = await stream.events(3)
    headers = {**world.bob.headers, "Last-Event-ID": two["id"]}
    async with opened(client, API_EVENTS, headers, params={"after": one["id"]}) as stream:
        assert key_of(await stream.event()) == key_of(three)


async def test_types_keeps_only_those_types(client: httpx.AsyncClient, world: World) -> None:
    params = {"types": "item.updated, item.deleted"}
    async with opened(client, API_EVENTS, world.bob.headers, params=params) as stream:
        item = await new_item(client, world.ada, title="Filtered")
        response = await client.patch(
            f"/api/v1/items/{item['key']}", json={"priority": "high"}, headers=world.ada.headers
        )
        assert response.status_code == 200, response.text
        got = await stream.event()
    assert got["event"] == "item.updated"
    assert got["data"]["changes"]["priority"][1] == "high"


async def test_a_quiet_stream_sends_heartbeats(client: httpx.AsyncClient, world: World) -> None:
    async with opened(client, ALL_EVENTS, world.bob.headers) as stream:
        blocks = [await stream.block() for _ in range(2)]
    assert blocks == [[": keep-alive"], [": keep-alive"]]


async def test_streams_show_only_projects_the_caller_sees(
    client: httpx.AsyncClient, world: World
) -> None:
    async with (
        opened(client, ALL_EVENTS, world.bob.headers) as bobs,
        opened(client, ALL_EVENTS, world.sam.headers) as sams,
    ):
        theirs = await new_item(client, world.sam, "OTH", title="Other project")
        ours = await new_item(client, world.ada, "API", title="Our project")
        later = await new_item(client, world.sam, "OTH", title="Other project again")
        bob_sees = await bobs.event()
        sam_sees = await sams.events(2)
    assert key_of(bob_sees) == ours["key"]  # OTH's item, committed first, never came
    assert [key_of(e) for e in sam_sees] == [theirs["key"], later["key"]]
    assert {e["data"]["project_key"] for e in sam_sees} == {"OTH"}
    # A project the caller can't see is a 404 problem, not a stream.
    response = await client.get(
        "/api/v1/projects/OTH/events", headers={**world.bob.headers, "Accept": STREAM}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_all_projects_stream_follows_projects_joined_and_left_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    async with opened(client, ALL_EVENTS, world.bob.headers) as stream:
        created = await client.post(
            "/api/v1/projects", json={"key": "BOBS", "name": "Bob's"}, headers=world.bob.headers
        )
        assert created.status_code == 201, created.text
        assert (await stream.event())["event"] == "project.created"
        in_new = await new_item(client, world.bob, "BOBS", title="In a new project")
        assert key_of(await stream.event()) == in_new["key"]

        joined = await client.post(
            "/api/v1/projects/OTH/members",
            json={"username": "bob", "role": "viewer"},
            headers=world.root.headers,
        )
        assert joined.status_code == 201, joined.text
        assert (await stream.event())["event"] == "member.added"
        there = await new_item(client, world.sam, "OTH", title="Seen by the new member")
        assert key_of(await stream.event()) == there["key"]

        left = await client.delete(
            f"/api/v1/projects/OTH/members/{world.bob.id}", headers=world.root.headers
        )
        assert left.status_code == 204, left.text
        assert (await stream.event())["event"] == "member.removed"  # about themselves
        await new_item(client, world.sam, "OTH", title="Not for former members")
        ours = await new_item(client, world.ada, "API", title="Still ours")
        assert key_of(await stream.event()) == ours["key"]


async def test_a_revoked_token_is_cut_off(client: httpx.AsyncClient, world: World) -> None:
    made = await client.post(
        "/api/v1/users/me/tokens", json={"name": "stream"}, headers=world.bob.headers
    )
    assert made.status_code == 201, made.text
    token = made.json()
    async with opened(client, API_EVENTS, bearer(token["token"])) as stream:
        item = await new_item(client, world.ada, title="Before the revocation")
        assert key_of(await stream.event()) == item["key"]
        revoked = await client.delete(
            f"/api/v1/users/me/tokens/{token['id']}", headers=world.bob.headers
        )
        assert revoked.status_code == 204
        comments = await stream.comments_until_the_end()
    assert comments[-1] == ": closed: the token was revoked or expired, or the account disabled"


async def test_a_disabled_account_is_cut_off(client: httpx.AsyncClient, world: World) -> None:
    dee = await make_user(world.app, world.database, "dee")
    async with opened(client, ALL_EVENTS, dee.headers) as stream:
        await stream.block()  # a heartbeat: the stream is open
        disabled = await client.patch(
            f"/api/v1/users/{dee.id}", json={"is_active": False}, headers=world.root.headers
        )
        assert disabled.status_code == 200, disabled.text
        comments = await stream.comments_until_the_end()
    assert comments[-1] == ": closed: the token was revoked or expired, or the account disabled"


async def test_a_member_removed_behind_its_back_is_cut_off(
    client: httpx.AsyncClient, world: World
) -> None:
    """Without an event saying so (here: a row deleted by hand), the periodic re-check finds
    that the member left."""
    eve = await make_user(world.app, world.database, "eve")
    await add_member(world.database, world.api_id, eve, "viewer")
    async with opened(client, API_EVENTS, eve.headers) as stream:
        item = await new_item(client, world.ada, title="While a member")
        assert key_of(await stream.event()) == item["key"]
        async with world.database.transaction() as session:
            await session.execute(delete(ProjectMember).where(ProjectMember.user_id == eve.id))
        comments = await stream.comments_until_the_end()
    assert comments[-1] == ": closed: the project is no longer visible to you"


async def test_a_stream_holds_no_database_connection(
    client: httpx.AsyncClient, world: World
) -> None:
    async with (
        opened(client, API_EVENTS, world.bob.headers) as first,
        opened(client, ALL_EVENTS, world.ada.headers) as second,
    ):
        item = await new_item(client, world.ada, title="Both streams")
        assert key_of(await first.event()) == key_of(await second.event()) == item["key"]
        # The access checks read for a moment every half second: one look of a few may
        # catch one, but never all of them.
        looks = [await connections_in_use(client) for _ in range(5)]
    assert min(looks) == 0, looks


async def connections_in_use(client: httpx.AsyncClient) -> int:
    metrics = (await client.get("/metrics")).text
    prefix = "takt_db_pool_checked_out{"
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    assert lines, "no pool gauge"
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines)


async def refused(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    """A stream request past the cap: its answer, which must come whole before any stream."""
    async with client.stream("GET", path, headers={**headers, "Accept": STREAM}) as response:
        assert response.status_code == 429, "a stream opened past the cap"
        await response.aread()
    return response


async def test_one_stream_more_than_a_user_may_hold_is_refused_with_a_429_problem(
    client: httpx.AsyncClient, world: World
) -> None:
    """Both kinds of stream and every token of the user count together."""
    fay = await make_user(world.app, world.database, "fay")
    await add_member(world.database, world.api_id, fay, "viewer")
    _, secret = await make_pat(world.app, world.database, fay, ["read"])
    kinds = [(API_EVENTS, fay.headers), (ALL_EVENTS, bearer(secret)), (ALL_EVENTS, fay.headers)]
    async with AsyncExitStack() as held:
        for path, headers in kinds[:CAP]:
            await held.enter_async_context(opened(client, path, headers))
        for path, headers in kinds:
            response = await refused(client, path, headers)
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.headers["retry-after"] == "5"
            assert problem["type"] == "/problems/too-many-streams"
            assert problem["code"] == "too-many-streams"
            assert problem["title"] == "Too many open streams"
            assert problem["status"] == 429
            assert problem["detail"].startswith(f"You have {CAP} live streams open")
        # The log as JSON pages is no stream: not counted, not refused.
        page = await client.get(API_EVENTS, headers=fay.headers)
        assert page.status_code == 200, page.text
    explained = await client.get("/problems/too-many-streams")
    assert "TAKT_SSE_MAX_STREAMS_PER_USER" in explained.text


async def test_concurrent_opens_past_the_cap_let_exactly_the_cap_through(
    client: httpx.AsyncClient, world: World
) -> None:
    gil = await make_user(world.app, world.database, "gil")
    requests = [
        client.build_request("GET", ALL_EVENTS, headers={**gil.headers, "Accept": STREAM})
        for _ in range(CAP + 3)
    ]
    responses = await asyncio.gather(*(client.send(r, stream=True) for r in requests))
    statuses = sorted(r.status_code for r in responses)
    for response in responses:
        await response.aclose()
    assert statuses == [200] * CAP + [429] * 3


async def test_a_user_at_the_cap_does_not_hold_back_another(
    client: httpx.AsyncClient, world: World
) -> None:
    hal = await make_user(world.app, world.database, "hal")
    async with AsyncExitStack() as held:
        for _ in range(CAP):
            await held.enter_async_context(opened(client, ALL_EVENTS, hal.headers))
        await refused(client, ALL_EVENTS, hal.headers)
        async with opened(client, API_EVENTS, world.bob.headers) as bobs:
            item = await new_item(client, world.ada, title="Past another user's cap")
            assert key_of(await bobs.event()) == item["key"]


async def test_a_stream_that_ends_gives_its_slot_back(
    client: httpx.AsyncClient, world: World
) -> None:
    ivy = await make_user(world.app, world.database, "ivy")
    token_id, secret = await make_pat(world.app, world.database, ivy, ["read"])
    async with AsyncExitStack() as held:
        by_token = await held.enter_async_context(opened(client, ALL_EVENTS, bearer(secret)))
        for _ in range(CAP - 1):
            await held.enter_async_context(opened(client, ALL_EVENTS, ivy.headers))
        await refused(client, ALL_EVENTS, ivy.headers)
        # Ended by the server (the token revoked): its slot is back once it has ended.
        revoked = await client.delete(f"/api/v1/users/me/tokens/{token_id}", headers=ivy.headers)
        assert revoked.status_code == 204, revoked.text
        await by_token.comments_until_the_end()
        again = await held.enter_async_context(opened(client, ALL_EVENTS, ivy.headers))
        assert await again.block() == [": keep-alive"]
        await refused(client, ALL_EVENTS, ivy.headers)
    # Ended by the client (every stream closed): the server notices at once, and each slot is
    # back within moments.
    async with asyncio.timeout(10):
        while True:
            async with AsyncExitStack() as held:
                try:
                    for _ in range(CAP):
                        await held.enter_async_context(opened(client, ALL_EVENTS, ivy.headers))
                except AssertionError:  # a 429: a slot not yet given back
                    await asyncio.sleep(0.05)
                    continue
                break
