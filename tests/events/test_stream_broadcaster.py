"""The live stream's broadcaster on its own (in this process, on the test database): every
committed event reaches each stream once, in commit order, even when writers commit out of
order; a stream that falls behind is dropped while the others keep up; access is re-checked;
each user holds at most a few streams, and every way a stream ends gives its slot back."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from starlette.types import Message

from takt.auth.principal import Principal
from takt.config import Settings
from takt.core.db import Database
from takt.core.events import Event, emit
from takt.events import service
from takt.events.stream import (
    SHUTDOWN,
    SLOW,
    Broadcaster,
    Subscriber,
    TooManyStreams,
    broadcaster_of,
    close_broadcaster,
    open_stream,
)
from takt.events.views import HEARTBEAT, closing_comment
from takt.projects.models import ProjectMember
from tests.support import Account, Probe, add_member, make_project, make_user


def parsed(chunk: bytes) -> list[dict[str, Any]]:
    """The events in a chunk of the stream (comments left out)."""
    events = []
    for block in chunk.split(b"\n\n"):
        fields = dict(
            line.split(b": ", 1) for line in block.split(b"\n") if line and line[:1] != b":"
        )
        if fields:
            events.append({"id": fields[b"id"].decode(), "data": orjson.loads(fields[b"data"])})
    return events


@pytest.fixture
async def broadcaster(app: FastAPI, db: Database, settings: Settings) -> AsyncIterator[Broadcaster]:
    tuned = settings.model_copy(
        update={
            "sse_queue_size": 10,
            "sse_heartbeat_seconds": 0.05,
            "sse_max_streams_per_user": 2,  # no test here holds more per user
        }
    )
    state = app.state
    # Each test starts it once its data is written: a stream starts at the log's end.
    made = Broadcaster(db, state.wakeups, state.cursor_codec, state.security, tuned)
    yield made
    await made.close()


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (the state of another task's object)
            await asyncio.sleep(0.01)


def subscriber(account: Account, project_id: str | None, limit: int = 10) -> Subscriber:
    principal = Principal.of(account.user)
    return Subscriber(principal, account.token, project_id=project_id, types=None, limit=limit)


async def collect(frames: AsyncIterator[bytes], count: int, into: list[dict[str, Any]]) -> None:
    async for chunk in frames:
        into += parsed(chunk)
        if len(into) >= count:
            return


async def test_a_stream_that_falls_behind_is_dropped_and_the_others_keep_up(
    app: FastAPI, db: Database, broadcaster: Broadcaster
) -> None:
    ada = await make_user(app, db, "ada")
    project_id = await make_project(db, ada, "API")
    async with db.transaction(write=False) as session:
        await broadcaster.start(session)
    slow, fast = subscriber(ada, project_id), subscriber(ada, project_id)
    slow_frames = broadcaster.frames(slow, broadcaster.subscribe(slow, None))
    fast_frames = broadcaster.frames(fast, broadcaster.subscribe(fast, None))
    assert await anext(slow_frames) == HEARTBEAT  # subscribed, and never read from now on
    received: list[dict[str, Any]] = []
    reader = asyncio.create_task(collect(fast_frames, 30, received))
    await until(lambda: project_id in fast.projects)
    async with db.transaction() as session:
        for n in range(30):
            await emit(session, Probe(number=n), project_id, None)
    await asyncio.wait_for(reader, 10)
    assert [e["data"]["data"]["number"] for e in received] == list(range(30))
    assert slow.ended == SLOW
    assert slow not in broadcaster.subscribers
    assert broadcaster.open_streams(ada.id) == 1  # the dropped one's slot is back
    assert await anext(slow_frames) == closing_comment(SLOW)
    await fast_frames.aclose()
    assert broadcaster.open_streams(ada.id) == 0  # its reader closed it


async def _write_slowly(db: Database, project_id: str, number: int) -> str:
    async with db.transaction() as session:
        event = await emit(session, Probe(number=number), project_id, None)
        await asyncio.sleep(random.uniform(0, 0.2))
        return event.id


async def test_each_stream_gets_every_event_once_in_commit_order(
    app: FastAPI, db: Database, broadcaster: Broadcaster
) -> None:
    """One stream from now on and one catching up from the start of the log while writers
    commit in another order than they started: each gets each event once, in the log's order."""
    ada = await make_user(app, db, "ada")
    project_id = await make_project(db, ada, "API")
    async with db.transaction(write=False) as session:
        await broadcaster.start(session)
    live, late = subscriber(ada, project_id, 1000), subscriber(ada, project_id, 1000)
    writers = 30
    seen_live: list[dict[str, Any]] = []
    live_frames = broadcaster.frames(live, broadcaster.subscribe(live, None))
    reading = asyncio.create_task(collect(live_frames, writers, seen_live))
    await until(lambda: project_id in live.projects)
    first = [asyncio.create_task(_write_slowly(db, project_id, n)) for n in range(writers // 2)]
    await asyncio.sleep(0.05)
    # Subscribed mid-way, from the beginning of the log: catch-up and live queue meet.
    late_frames = broadcaster.frames(late, broadcaster.subscribe(late, service.START))
    seen_late: list[dict[str, Any]] = []
    catching_up = asyncio.create_task(collect(late_frames, writers + 1, seen_late))
    rest = [
        asyncio.create_task(_write_slowly(db, project_id, n)) for n in range(writers // 2, writers)
    ]
    written = set(await asyncio.gather(*first, *rest))
    await asyncio.wait_for(asyncio.gather(reading, catching_up), 20)

    async with db.transaction(write=False) as session:
        log = await service.events_after(
            session, service.START, project_ids=[project_id], limit=100
        )
    in_order = [event.id for event, _, _ in log]
    assert [e["data"]["id"] for e in seen_live] == [i for i in in_order if i in written]
    assert [e["data"]["id"] for e in seen_late] == in_order  # project.created, then the writes
    assert [e["id"] for e in seen_late] == [
        service.cursor_of(broadcaster.codec, (event.tx, event.seq)) for event, _, _ in log
    ]
    await live_frames.aclose()
    await late_frames.aclose()


async def test_the_periodic_check_narrows_a_stream_to_what_its_caller_still_sees(
    app: FastAPI, db: Database, broadcaster: Broadcaster
) -> None:
    ada, bob = await make_user(app, db, "ada"), await make_user(app, db, "bob")
    api = await make_project(db, ada, "API")
    oth = await make_project(db, ada, "OTH")
    await add_member(db, api, bob, "member")
    await add_member(db, oth, bob, "viewer")
    async with db.transaction(write=False) as session:
        await broadcaster.start(session)
    everywhere, one = subscriber(bob, None), subscriber(bob, api)
    frames = [broadcaster.frames(s, broadcaster.subscribe(s, None)) for s in (everywhere, one)]
    for opened in frames:
        assert await anext(opened) == HEARTBEAT
    assert everywhere.projects == {api, oth}
    async with db.transaction() as session:
        await session.execute(
            delete(ProjectMember).where(
                ProjectMember.user_id == bob.id, ProjectMember.project_id == api
            )
        )
    await broadcaster._check(list(broadcaster.subscribers))
    assert everywhere.projects == {oth}
    assert everywhere.ended is None
    assert one.ended == "the project is no longer visible to you"
    assert broadcaster.open_streams(bob.id) == 1
    for opened in frames:
        await opened.aclose()
    assert broadcaster.open_streams(bob.id) == 0


async def test_a_user_holds_at_most_the_cap_and_a_refusal_takes_no_slot(
    app: FastAPI, db: Database, broadcaster: Broadcaster
) -> None:
    ada, bob = await make_user(app, db, "ada"), await make_user(app, db, "bob")
    first, second = subscriber(ada, None), subscriber(ada, None)
    broadcaster.subscribe(first, None)
    broadcaster.subscribe(second, None)
    for _ in range(2):
        with pytest.raises(TooManyStreams) as refused:
            broadcaster.subscribe(subscriber(ada, None), None)
    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "5"}
    assert broadcaster.open_streams(ada.id) == 2
    assert len(broadcaster.subscribers) == 2
    broadcaster.subscribe(subscriber(bob, None), None)  # another user's count is their own
    broadcaster.unsubscribe(first)
    broadcaster.unsubscribe(first)  # twice (the stream and its response both close it): once
    assert broadcaster.open_streams(ada.id) == 1
    broadcaster.subscribe(subscriber(ada, None), None)
    assert broadcaster.open_streams(ada.id) == 2


async def test_stopping_ends_every_stream_and_gives_every_slot_back(
    app: FastAPI, db: Database, broadcaster: Broadcaster
) -> None:
    ada = await make_user(app, db, "ada")
    streams = [subscriber(ada, None), subscriber(ada, None)]
    for stream in streams:
        broadcaster.subscribe(stream, None)
    broadcaster.end_all()
    assert [s.ended for s in streams] == [SHUTDOWN, SHUTDOWN]
    assert broadcaster.open_streams(ada.id) == 0
    late = subscriber(ada, None)  # opened while stopping: ends at once, its slot with it
    frames = broadcaster.frames(late, broadcaster.subscribe(late, None))
    assert await anext(frames) == closing_comment(SHUTDOWN)
    await frames.aclose()
    assert broadcaster.open_streams(ada.id) == 0


async def test_a_signed_out_stream_gives_its_slot_back_at_the_check(
    app: FastAPI, db: Database, broadcaster: Broadcaster
) -> None:
    ada = await make_user(app, db, "ada")
    revoked = Subscriber(
        Principal.of(ada.user), "not-a-token", project_id=None, types=None, limit=10
    )
    broadcaster.subscribe(revoked, None)
    await broadcaster._check([revoked])
    assert revoked.ended == "the token was revoked or expired, or the account disabled"
    assert broadcaster.open_streams(ada.id) == 0


async def test_a_stream_holds_its_slot_exactly_while_its_response_runs(
    app: FastAPI, db: Database
) -> None:
    """The request can still fail between its handler and its response (its session's end):
    so the slot is taken when the response begins, in the call whose `finally` gives it back."""
    ada = await make_user(app, db, "ada")
    principal = Principal.of(ada.user)
    try:
        async with db.transaction(write=False) as session:
            response = await open_stream(
                app.state, session, principal, ada.token, project_id=None, types=None, cursor=None
            )
        broadcaster = broadcaster_of(app.state)
        assert broadcaster.open_streams(ada.id) == 0  # a response never sent holds none
        started = asyncio.Event()
        held_while_open: list[int] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                held_while_open.append(broadcaster.open_streams(ada.id))
                started.set()

        async def receive() -> Message:
            await started.wait()
            return {"type": "http.disconnect"}

        await asyncio.wait_for(response({"type": "http"}, receive, send), 10)
        assert held_while_open == [1]
        assert broadcaster.open_streams(ada.id) == 0
    finally:
        await close_broadcaster(app.state)


def _event(type_: str, actor_id: str | None = None, **data: Any) -> Event:
    return Event(type=type_, data=data, actor_id=actor_id)


def _principal(user_id: str, *, admin: bool = False, keys: set[str] | None = None) -> Principal:
    from datetime import UTC, datetime

    from takt.auth.principal import Account as Who

    who = Who(user_id, user_id, f"{user_id}@example.com", user_id, admin, True, datetime.now(UTC))
    return Principal(user=who, project_keys=frozenset(keys) if keys is not None else None)


@pytest.mark.parametrize(
    ("event", "principal", "expected"),
    [
        (_event("member.added", user_id="u1"), _principal("u1"), True),
        (_event("member.added", user_id="u2"), _principal("u1"), None),
        (_event("member.removed", user_id="u1"), _principal("u1"), False),
        (_event("member.removed", user_id="u1"), _principal("u1", admin=True), None),
        (_event("project.created", actor_id="u1"), _principal("u1"), True),
        (_event("project.created", actor_id="u2"), _principal("u1"), None),
        (_event("project.created", actor_id="u2"), _principal("u1", admin=True), True),
        (_event("project.restored"), _principal("u1", admin=True), True),
        (_event("project.deleted"), _principal("u1", admin=True), False),
        (_event("member.added", user_id="u1"), _principal("u1", keys={"OTH"}), None),
        (_event("project.created", actor_id="u2"), _principal("a", admin=True, keys=set()), None),
    ],
)
def test_events_that_change_who_sees_a_project(
    event: Event, principal: Principal, expected: bool | None
) -> None:
    assert service.sight_change(event, "API", principal) is expected
