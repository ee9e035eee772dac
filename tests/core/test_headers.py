"""Headers a security scanner checks, on every kind of answer: nosniff, a Content-Security-Policy
(strict on the API, workable on the docs pages), Referrer-Policy; Retry-After on 503; a 405's
Allow listing every method of the path; CORS refusals and over-long URLs as problems."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import create_async_engine

from takt.core.db import Database
from takt.core.middleware import MAX_URL_BYTES

AssertProblem = Callable[[Response, int, str], dict[str, Any]]
ClientFor = Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]]

GOOD_ORIGIN = "https://board.example.com"


@pytest.fixture(scope="module")
def app(make_quiet_app: Callable[..., FastAPI]) -> FastAPI:
    return make_quiet_app(cors_origins=[GOOD_ORIGIN])


def csp_directives(response: Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives = [d.split() for d in policy.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def assert_hardened(response: Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert csp_directives(response)["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/nowhere", 404),
        ("GET", "/api/v1/projects", 401),
        ("POST", "/healthz", 405),
        ("POST", "/api/v1/auth/token", 422),
    ],
)
async def test_api_answers_carry_nosniff_a_strict_policy_and_no_referrer(
    client: AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert_hardened(response)
    assert csp_directives(response)["default-src"] == ["'none'"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_pages_get_a_policy_that_lets_them_load_from_this_server(
    client: AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert_hardened(response)
    policy = csp_directives(response)
    assert "'self'" in policy["script-src"]
    assert "'self'" in policy["style-src"]
    # Swagger UI and ReDoc start from inline scripts; ReDoc runs a worker from a blob.
    assert "'unsafe-inline'" in policy["script-src"]
    assert "blob:" in policy["worker-src"]
    # Everything the page loads comes from this server, which the policy allows.
    for url in re.findall(r'(?:src|href)="([^"]+)"', response.text):
        assert url.startswith("/"), url
        assert not url.startswith("//"), url


@pytest.fixture
async def unreachable_database() -> AsyncIterator[Database]:
    engine = create_async_engine("sqlite+aiosqlite:////nonexistent-takt-folder/missing.db")
    yield Database(url=str(engine.url), write_engine=engine, read_engine=engine)
    await engine.dispose()


async def test_every_503_says_when_to_retry(
    make_app: Callable[..., FastAPI],
    client_for: ClientFor,
    unreachable_database: Database,
    assert_problem: AssertProblem,
) -> None:
    app = make_app(database=unreachable_database)
    token, _ = app.state.security.access_tokens.issue("someone")
    caller = {"Authorization": f"Bearer {token}"}
    async with client_for(app) as client:
        not_ready = await client.get("/readyz")
        keyed = await client.post(
            "/api/v1/projects", json={}, headers={"Idempotency-Key": "k", **caller}
        )
        listed = await client.get("/api/v1/projects", headers=caller)
    for response in (not_ready, keyed, listed):
        assert_problem(response, 503, "service-unavailable")
        assert int(response.headers["retry-after"]) > 0
        assert_hardened(response)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/projects", "GET, POST"),
        ("/api/v1/projects/ABC", "DELETE, GET, PATCH"),
        ("/api/v1/projects/ABC/members/u1", "DELETE, PATCH"),
        ("/api/v1/items/ABC-1/links", "DELETE, GET, POST"),
        ("/healthz", "GET"),
    ],
)
async def test_405_allow_lists_every_method_the_path_supports(
    client: AsyncClient, assert_problem: AssertProblem, path: str, methods: str
) -> None:
    response = await client.put(path, json={})
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == methods


async def test_refused_cors_preflight_is_a_problem(
    client: AsyncClient, assert_problem: AssertProblem
) -> None:
    refused = await client.options(
        "/api/v1/projects",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    allowed = await client.options(
        "/api/v1/projects",
        headers={"Origin": GOOD_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    body = assert_problem(refused, 400, "cors-preflight-refused")
    assert "origin" in body["detail"]
    assert "access-control-allow-origin" not in refused.headers
    assert_hardened(refused)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == GOOD_ORIGIN


async def test_over_long_url_is_a_414_problem(
    client: AsyncClient, assert_problem: AssertProblem
) -> None:
    filler = "x" * MAX_URL_BYTES
    response = await client.get(f"/api/v1/projects?q={filler}")
    assert_problem(response, 414, "uri-too-long")
    assert_hardened(response)
    at_limit = await client.get("/healthz?" + "x" * (MAX_URL_BYTES - len("/healthz")))
    assert at_limit.status_code == 200
