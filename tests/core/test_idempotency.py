"""`Idempotency-Key` on POST: replays, reuse with another body, caller scoping, retries, races,
what is never stored (refusals, failures, secrets), and replays on a served process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from httpx import AsyncClient, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from takt.core.db import Database
from takt.core.deps import SessionDep
from takt.core.events import EventData, emit
from takt.core.idempotency import IdempotencyRecord
from tests.live import live_server
from tests.support import PASSWORD, Account, bearer, make_pat, make_project, make_user

AssertProblem = Callable[[Response, int, str], dict[str, Any]]
CountEvents = Callable[..., Awaitable[int]]

router = APIRouter(prefix="/test/things")


class ThingCreated(EventData):
    event_type: ClassVar[str] = "test.idempotent_thing_created"

    name: str


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=64)


async def create(session: AsyncSession, body: ThingIn) -> JSONResponse:
    event = await emit(session, ThingCreated(name=body.name), None, None)
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


@pytest.fixture
async def alice(app: FastAPI, db: Database) -> Account:
    return await make_user(app, db, "alice")


@pytest.fixture
async def bob(app: FastAPI, db: Database) -> Account:
    return await make_user(app, db, "bob")


def keyed(key: str, caller: dict[str, str] | None = None) -> dict[str, str]:
    return {"Idempotency-Key": key, **(caller or {})}


async def test_replay_returns_the_first_response_and_creates_nothing(
    alice: Account, client: AsyncClient, count_events: CountEvents
) -> None:
    first = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed("k1", alice.headers)
    )
    replay = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed("k1", alice.headers)
    )
    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count_events(ThingCreated.event_type) == 1


async def test_replay_carries_its_own_request_id(alice: Account, client: AsyncClient) -> None:
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", alice.headers))
    replay = await client.post(
        "/test/things",
        json={"name": "a"},
        headers={**keyed("k1", alice.headers), "X-Request-ID": "r-2"},
    )
    assert replay.headers["x-request-id"] == "r-2"


async def test_same_key_with_another_body_gets_422_idempotency_key_reused(
    alice: Account, client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", alice.headers))
    response = await client.post(
        "/test/things", json={"name": "b"}, headers=keyed("k1", alice.headers)
    )
    assert_problem(response, 422, "idempotency-key-reused")
    assert await count_events(ThingCreated.event_type) == 1


async def test_key_reused_points_at_the_idempotency_key_header(
    alice: Account, client: AsyncClient, assert_problem: AssertProblem
) -> None:
    """A 422 names what to fix by pointer, as every 422 does (docs/api-conventions.md)."""
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", alice.headers))
    response = await client.post(
        "/test/things", json={"name": "b"}, headers=keyed("k1", alice.headers)
    )
    body = assert_problem(response, 422, "idempotency-key-reused")
    assert [e["pointer"] for e in body["errors"]] == ["/headers/Idempotency-Key"]


async def test_same_key_on_another_path_gets_422_idempotency_key_reused(
    alice: Account, client: AsyncClient, assert_problem: AssertProblem
) -> None:
    await client.post("/test/things", json={"name": "a"}, headers=keyed("k1", alice.headers))
    response = await client.post(
        "/test/things/flaky", json={"name": "a"}, headers=keyed("k1", alice.headers)
    )
    assert_problem(response, 422, "idempotency-key-reused")


async def test_key_longer_than_255_characters_gets_422(
    alice: Account, client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    response = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed("k" * 256, alice.headers)
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["pointer"] == "/headers/Idempotency-Key"
    assert await count_events() == 0


async def test_key_of_255_characters_is_accepted_and_replayed(
    alice: Account, client: AsyncClient
) -> None:
    headers = keyed("k" * 255, alice.headers)
    first = await client.post("/test/things", json={"name": "a"}, headers=headers)
    replay = await client.post("/test/things", json={"name": "a"}, headers=headers)
    assert first.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"


async def test_callers_with_the_same_key_never_see_each_others_responses(
    alice: Account, bob: Account, client: AsyncClient, count_events: CountEvents
) -> None:
    first = await client.post("/test/things", json={"name": "a"}, headers=keyed("s", alice.headers))
    other = await client.post("/test/things", json={"name": "a"}, headers=keyed("s", bob.headers))
    assert first.status_code == other.status_code == 201
    assert "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    assert await count_events(ThingCreated.event_type) == 2


async def test_server_error_is_not_stored_so_a_retry_runs_again(
    alice: Account, app: FastAPI, client: AsyncClient, count_events: CountEvents
) -> None:
    app.state.flaky_calls = 0
    headers = keyed("k-flaky", alice.headers)
    crashed = await client.post("/test/things/flaky", json={"name": "a"}, headers=headers)
    retried = await client.post("/test/things/flaky", json={"name": "a"}, headers=headers)
    replayed = await client.post("/test/things/flaky", json={"name": "a"}, headers=headers)
    assert crashed.status_code == 500
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.content == retried.content
    assert await count_events(ThingCreated.event_type) == 1


async def test_duplicate_while_the_first_is_running_gets_409_idempotency_key_in_use(
    alice: Account,
    client: AsyncClient,
    gate: Gate,
    assert_problem: AssertProblem,
    count_events: CountEvents,
) -> None:
    headers = keyed("k-gated", alice.headers)
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
    assert await count_events(ThingCreated.event_type) == 1


async def test_concurrent_identical_requests_run_once(
    alice: Account, client: AsyncClient, assert_problem: AssertProblem, count_events: CountEvents
) -> None:
    headers = keyed("k-race", alice.headers)
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
    assert await count_events(ThingCreated.event_type) == 1


async def test_anonymous_posts_are_not_deduplicated(
    client: AsyncClient, count_events: CountEvents
) -> None:
    first = await client.post("/test/things", json={"name": "a"}, headers=keyed("anon"))
    second = await client.post("/test/things", json={"name": "a"}, headers=keyed("anon"))
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert await count_events(ThingCreated.event_type) == 2


@pytest.fixture
async def unreachable_database() -> AsyncIterator[Database]:
    engine = create_async_engine("sqlite+aiosqlite:////nonexistent-takt-folder/missing.db")
    yield Database(url=str(engine.url), write_engine=engine, read_engine=engine)
    await engine.dispose()


async def test_keyed_post_with_database_down_gets_503_problem(
    alice: Account,
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]],
    unreachable_database: Database,
    assert_problem: AssertProblem,
) -> None:
    app = make_app(database=unreachable_database)
    async with client_for(app) as client:
        response = await client.post(
            "/api/v1/anything", json={}, headers=keyed("k-down", alice.headers)
        )
    assert_problem(response, 503, "service-unavailable")


# --- What is never stored: refusals, failures and secrets ------------------------------------


async def test_rate_limited_post_is_not_stored_so_a_retry_runs(
    make_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]],
    db: Database,
    assert_problem: AssertProblem,
) -> None:
    app = make_app(rate_limit_per_minute=1)
    owner = await make_user(app, db, "owner")
    await make_project(db, owner, "RTL")
    headers = keyed("k-limited", owner.headers)
    async with client_for(app) as client:
        assert (await client.get("/api/v1/projects", headers=owner.headers)).status_code == 200
        limited = await client.post(
            "/api/v1/projects/RTL/items", json={"title": "a"}, headers=headers
        )
        await app.state.security.counters.close()  # the minute is over
        retried = await client.post(
            "/api/v1/projects/RTL/items", json={"title": "a"}, headers=headers
        )
    assert_problem(limited, 429, "rate-limited")
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers


async def test_request_refused_by_validation_is_not_stored(
    alice: Account, client: AsyncClient, count_events: CountEvents
) -> None:
    headers = keyed("k-invalid", alice.headers)
    refused = await client.post("/test/things", json={"name": "a" * 65}, headers=headers)
    again = await client.post("/test/things", json={"name": "a" * 65}, headers=headers)
    assert refused.status_code == again.status_code == 422
    assert "idempotent-replayed" not in again.headers
    assert await count_events() == 0


async def test_domain_error_raised_by_the_handler_is_not_stored(
    alice: Account, client: AsyncClient, assert_problem: AssertProblem
) -> None:
    headers = keyed("k-missing", alice.headers)
    first = await client.post("/api/v1/projects/NOPE/items", json={"title": "a"}, headers=headers)
    again = await client.post("/api/v1/projects/NOPE/items", json={"title": "a"}, headers=headers)
    assert_problem(first, 404, "not-found")
    assert_problem(again, 404, "not-found")
    assert "idempotent-replayed" not in again.headers


async def test_no_replay_once_the_credential_is_revoked(
    app: FastAPI, alice: Account, client: AsyncClient, db: Database, assert_problem: AssertProblem
) -> None:
    await make_project(db, alice, "REV")
    token_id, secret = await make_pat(app, db, alice, ["write"])
    headers = keyed("k-pat", bearer(secret))
    item = {"title": "a"}
    first = await client.post("/api/v1/projects/REV/items", json=item, headers=headers)
    revoked = await client.delete(f"/api/v1/users/me/tokens/{token_id}", headers=alice.headers)
    retry = await client.post("/api/v1/projects/REV/items", json=item, headers=headers)
    assert first.status_code == 201
    assert revoked.status_code == 204
    assert_problem(retry, 401, "invalid-credentials")


async def test_new_token_secret_is_never_stored_and_a_retry_gets_409_withheld(
    alice: Account, client: AsyncClient, db: Database, assert_problem: AssertProblem
) -> None:
    headers = keyed("k-token", alice.headers)
    body = {"name": "ci", "scopes": ["read"]}
    created = await client.post("/api/v1/users/me/tokens", json=body, headers=headers)
    retry = await client.post("/api/v1/users/me/tokens", json=body, headers=headers)
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    problem = assert_problem(retry, 409, "idempotency-response-withheld")
    assert secret not in retry.text
    assert "201" in problem["detail"]
    listed = await client.get("/api/v1/users/me/tokens", headers=alice.headers)
    assert len(listed.json()["data"]) == 1  # the retry created nothing
    async with db.transaction(write=False) as session:
        records = list(await session.scalars(select(IdempotencyRecord)))
    assert [(r.status_code, r.secret_withheld, r.response_body) for r in records] == [
        (201, True, None)
    ]
    assert all(secret not in str(r.response_headers) for r in records)


async def test_login_response_with_tokens_is_never_stored(
    alice: Account, client: AsyncClient, db: Database
) -> None:
    form = {"username": "alice", "password": PASSWORD}
    headers = keyed("k-login", alice.headers)
    first = await client.post("/api/v1/auth/token", data=form, headers=headers)
    assert first.status_code == 200, first.text
    async with db.transaction(write=False) as session:
        records = list(await session.scalars(select(IdempotencyRecord)))
    assert [r.response_body for r in records] == [None]
    assert first.json()["access_token"] not in str(records[0].response_headers)


# --- Scope: the caller's identity, not the header text ----------------------------------------


async def test_key_is_scoped_to_the_account_across_its_access_tokens(
    app: FastAPI, alice: Account, client: AsyncClient, count_events: CountEvents
) -> None:
    refreshed, _ = app.state.security.access_tokens.issue(alice.id)  # a new jti
    assert refreshed != alice.token
    first = await client.post("/test/things", json={"name": "a"}, headers=keyed("k", alice.headers))
    again = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed("k", bearer(refreshed))
    )
    lowercase = await client.post(
        "/test/things",
        json={"name": "a"},
        headers=keyed("k", {"Authorization": f"bearer {alice.token}"}),
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert lowercase.headers["idempotent-replayed"] == "true"
    assert again.content == lowercase.content == first.content
    assert await count_events(ThingCreated.event_type) == 1


async def test_each_personal_access_token_has_keys_of_its_own(
    app: FastAPI, alice: Account, client: AsyncClient, db: Database, count_events: CountEvents
) -> None:
    _, first_pat = await make_pat(app, db, alice, ["write"])
    _, second_pat = await make_pat(app, db, alice, ["write"])
    callers = [alice.headers, bearer(first_pat), bearer(second_pat)]
    responses = [
        await client.post("/test/things", json={"name": "a"}, headers=keyed("same", who))
        for who in callers
    ]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert all("idempotent-replayed" not in r.headers for r in responses)
    assert await count_events(ThingCreated.event_type) == 3


async def test_invalid_credentials_are_never_deduplicated(
    client: AsyncClient, assert_problem: AssertProblem
) -> None:
    headers = keyed("k-forged", {"Authorization": "Bearer forged"})
    first = await client.post("/api/v1/projects/X/items", json={"title": "a"}, headers=headers)
    again = await client.post("/api/v1/projects/X/items", json={"title": "a"}, headers=headers)
    assert_problem(first, 401, "invalid-credentials")
    assert_problem(again, 401, "invalid-credentials")
    assert "idempotent-replayed" not in again.headers


# --- Committed before it is sent ---------------------------------------------------------------


async def test_an_immediate_retry_replays_on_a_served_process(
    app: FastAPI, db: Database, database_url: str, tmp_path: Path
) -> None:
    """The response is stored before the client sees it: over real sockets, a retry sent the
    moment the first answer arrives is a replay, 50 times out of 50."""
    owner = await make_user(app, db, "racer")
    await make_project(db, owner, "IDR")

    def create_then_retry(base: str) -> list[tuple[int, int, str | None, bool]]:
        outcomes = []
        with httpx.Client(base_url=base, headers=owner.headers, trust_env=False) as http:
            for i in range(50):
                headers = {"Idempotency-Key": f"pair-{i}"}
                body = {"title": f"Item {i}"}
                first = http.post("/api/v1/projects/IDR/items", json=body, headers=headers)
                retry = http.post("/api/v1/projects/IDR/items", json=body, headers=headers)
                same = retry.content == first.content
                outcomes.append(
                    (
                        first.status_code,
                        retry.status_code,
                        retry.headers.get("idempotent-replayed"),
                        same,
                    )
                )
        return outcomes

    with live_server(database_url, tmp_path, TAKT_RATE_LIMIT_PER_MINUTE="100000") as base:
        outcomes = await asyncio.to_thread(create_then_retry, base)
    assert outcomes == [(201, 201, "true", True)] * 50


async def test_a_key_with_surrounding_spaces_is_the_same_key(
    alice: Account, client: AsyncClient, count_events: CountEvents
) -> None:
    first = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed("ws-1", alice.headers)
    )
    spaced = await client.post(
        "/test/things", json={"name": "a"}, headers=keyed(" ws-1 ", alice.headers)
    )
    assert spaced.headers["idempotent-replayed"] == "true"
    assert spaced.content == first.content
    assert await count_events(ThingCreated.event_type) == 1
