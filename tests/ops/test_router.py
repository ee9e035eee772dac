"""Health, readiness, metrics and the problem catalogue."""

from __future__ import annotations

from httpx import AsyncClient


async def test_healthz_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_migrated_database(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_request_id_is_echoed_or_generated(client: AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"


async def test_unknown_route_is_problem_json(client: AsyncClient) -> None:
    response = await client.get("/nowhere", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "not-found"
    assert body["type"] == "/problems/not-found"
    assert body["instance"] == "/nowhere"
    assert body["request_id"] == "req-1"


async def test_wrong_method_is_problem_json(client: AsyncClient) -> None:
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method-not-allowed"


async def test_metrics_count_requests_by_route_template(client: AsyncClient) -> None:
    await client.get("/healthz")
    body = (await client.get("/metrics")).text
    assert 'takt_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert "takt_http_request_duration_seconds_bucket" in body
    assert 'takt_db_pool_checked_out{pool="write"}' in body


async def test_problem_page_explains_code(client: AsyncClient) -> None:
    response = await client.get("/problems/version-conflict")
    assert response.status_code == 200
    assert "If-Match" in response.text
    missing = await client.get("/problems/no-such-code")
    assert missing.status_code == 404
