"""`Idempotency-Key` on POST: replays, reuse with another body, caller scoping, retries, races."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from httpx import AsyncClient, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from takt.core.db import Database
from takt.core.deps import SessionDep
from takt.core.events import emit

AssertProblem = Callable[[Response, int, str], dict[str, Any]]
CountEvents = Callable[..., Awaitable[int]]

ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}

router = APIRouter(prefix="/test/things")


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)


async def create(session: AsyncSession, body: ThingIn) -> JSONResponse:
    event = await emit(session, "thing.created", None, None, {"name": body.name})
    return JSONResponse(
        {"id": event.id, "name": body.name},
        status_code=201,
        headers={"Location": f"/test/things/{event.id}"},
    )


@router.post("", status_code=201)
async def create_thing(body: ThingIn, session: SessionDep) -> JSONResponse:
    return await create(session, body)


@router.post("/flaky", status_code=201)
async def create_thing_after_one_crash(
    body: ThingIn, session: SessionDep, request: Request
) -> JSONResponse:
    calls = request.app.state.flaky_calls = getattr(request.app.state, "flaky_calls", 0) + 1
    if calls == 1:
        raise RuntimeError("the first attempt dies")
    return await create(session, body)


@router.post("/gated", status_code=201)
async def create_thing_when_released(
    body: ThingIn, session: SessionDep, request: Request
) -> JSONResponse:
    gate: Gate = request.app.state.gate
    gate.entered.set()
    await gate.released.wait()
    return await create(session, body)


class Gate:
    """Holds a request inside its handler until the test lets it go."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.released = asyncio.Event()


@pytest.fixture(scope="module")
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    app = make_app()
    app.include_router(router)
    return app


@pytest.fixture
def gate(app: FastAPI) -> Gate:
    gate = app.state.gate = Gate()
    return gate


def keyed(key: str, caller: dict[str, str] | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key, **(caller or {})}


async def test_replay_returns_the_first_response_and_creates_nothing(
    client: AsyncClient, count_events: CountEvents
) -> None:
    first = await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", ALICE))
    replay = await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", ALICE))
    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count_events("thing.created") == 1


async def test_replay_carries_its_own_request_id(client: AsyncClient) -> None:
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", ALICE))
    replay = await client.post(
        "/test/things", json={"name": "a"}, headers={**keyed("k1", ALICE), "X-Request-ID": "r-2"}
    )
    assert replay.headers["x-request-id"] == "r-2"


async def test_same_key_with_another_body_gets_422_idempotency_key_reused(
    client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", ALICE))
    response = await client.post("/test/things", json={"name": "b"}, headers=keyed("k1", ALICE))
    assert_problem(response, 422, "idempotency-key-reused")
    assert await count_events("thing.created") == 1


async def test_same_key_on_another_path_gets_422_idempotency_key_reused(
    client: AsyncClient, assert_problem: AssertProblem
) -> None:
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", ALICE))
    response = await client.post(
        "/test/things/flaky", json={"name": "a"}, headers=keyed("k1", ALICE)
    )
    assert_problem(response, 422, "idempotency-key-reused")


async def test_key_longer_than_255_characters_gets_422(
    client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    response = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed("k" * 256, ALICE)
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["pointer"] == "/headers/Idempotency-Key"
    assert await count_events() == 0


async def test_key_of_255_characters_is_accepted_and_replayed(client: AsyncClient) -> None:
    headers = keyed("k" * 255, ALICE)
    first = await client.post("/test/things", json={"name": "a"}, headers=headers)
    replay = await client.post("/test/things", json={"name": "a"}, headers=headers)
    assert first.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"


async def test_callers_with_the_same_key_never_see_each_others_responses(
    client: AsyncClient, count_events: CountEvents
) -> None:
    alice = await client.post("/test/things", json={"name": "a"}, headers=keyed("shared", ALICE))
    bob = await client.post("/test/things", json={"name": "a"}, headers=keyed("shared", BOB))
    assert alice.status_code == bob.status_code == 201
    assert "idempotent-replayed" not in bob.headers
    assert bob.json()["id"] != alice.json()["id"]
    assert await count_events("thing.created") == 2


async def test_server_error_is_not_stored_so_a_retry_runs_again(
    app: FastAPI, client: AsyncClient, count_events: CountEvents
) -> None:
    app.state.flaky_calls = 0
    headers = keyed("k-flaky", ALICE)
    crashed = await client.post("/test/things/flaky", json={"name": "a"}, headers=headers)
    retried = await client.post("/test/things/flaky", json={"name": "a"}, headers=headers)
    replayed = await client.post("/test/things/flaky", json={"name": "a"}, headers=headers)
    assert crashed.status_code == 500
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == retried.content
    assert await count_events("thing.created") == 1


async def test_duplicate_while_the_first_is_running_gets_409_idempotency_key_in_use(
    client: AsyncClient, gate: Gate, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    headers = keyed("k-gated", ALICE)
    first = asyncio.create_task(
        client.post("/test/things/gated", json={"name": "a"}, headers=headers)
    )
    try:
        await asyncio.wait_for(gate.entered.wait(), timeout=5)
        duplicate = await client.post("/test/things/gated", json={"name": "a"}, headers=headers)
    finally:
        gate.released.set()
        original = await first
    assert_problem(duplicate, 409, "idempotency-key-in-use")
    assert original.status_code == 201
    after = await client.post("/test/things/gated", json={"name": "a"}, headers=headers)
    assert after.headers["idempotent-replayed"] == "true"
    assert await count_events("thing.created") == 1


async def test_concurrent_identical_requests_run_once(
    client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    headers = keyed("k-race", ALICE)
    responses = await asyncio.gather(
        *(client.post("/test/things", json={"name": "a"}, headers=headers) for _ in range(10))
    )
    ran = [r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "idempotency-key-in-use")
        else:
            assert response.status_code == 201
            assert response.content == ran[0].content
    assert {r.status_code for r in responses} <= {201, 409}
    assert await count_events("thing.created") == 1


async def test_anonymous_posts_are_not_deduplicated(
    client: AsyncClient, count_events: CountEvents
) -> None:
    first = await client.post("/test/things", json={"name": "a"}, headers=keyed("anon"))
    second = await client.post("/test/things", json={"name": "a"}, headers=keyed("anon"))
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert await count_events("thing.created") == 2


@pytest.fixture
async def unreachable_database() -> AsyncIterator[Database]:
    engine = create_async_engine("sqlite+aiosqlite:////nonexistent-takt-folder/missing.db")
    yield Database(url=str(engine.url), write_engine=engine, read_engine=engine)
    await engine.dispose()


async def test_keyed_post_with_database_down_gets_503_problem(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]],
    unreachable_database: Database,
    assert_problem: AssertProblem,
) -> None:
    app = make_app(database=unreachable_database)
    async with client_for(app) as client:
        response = await client.post("/api/v1/anything", json={}, headers=keyed("k-down", ALICE))
    assert_problem(response, 503, "service-unavailable")
