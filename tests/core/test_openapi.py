"""The OpenAPI document: metadata, operation ids, problem responses, and routes == operations."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from httpx import AsyncClient

from takt.core.errors import PROBLEM_MEDIA_TYPE

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def app(make_quiet_app: Callable[..., FastAPI]) -> FastAPI:
    """The real app and nothing else: no test-only routes."""
    return make_quiet_app()


@pytest.fixture
async def schema(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


async def test_schema_is_openapi_3_1_with_title_version_description_and_tags(
    app: FastAPI, schema: dict[str, Any]
) -> None:
    assert schema["openapi"].startswith("3.1.")
    info = schema["info"]
    assert info["title"] == "Takt API"
    assert info["version"] == app.version
    assert "problem+json" in info["description"]
    assert schema["tags"]
    for tag in schema["tags"]:
        assert tag["name"]
        assert tag["description"]


async def test_every_operation_has_a_declared_tag(schema: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in schema["tags"]}
    untagged = [
        f"{method.upper()} {path}"
        for method, path, operation in operations(schema)
        if not operation.get("tags") or not set(operation["tags"]) <= declared
    ]
    assert untagged == []


async def test_operation_ids_are_unique_snake_case_identifiers(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert [i for i in ids if not SNAKE_CASE.match(i)] == []


async def test_every_error_response_is_problem_json(schema: dict[str, Any]) -> None:
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    errors = [
        (method, path, status, response)
        for method, path, operation in operations(schema)
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert errors  # at least /readyz documents its 503
    wrong = [
        f"{method.upper()} {path} {status}"
        for method, path, status, response in errors
        if response.get("content") != problem
    ]
    assert wrong == []


async def test_problem_schema_has_every_contract_field(schema: dict[str, Any]) -> None:
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail", "instance", "code"}
    assert {"request_id", "errors"} <= set(problem["properties"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]


async def test_every_route_is_an_operation_and_every_operation_a_route(
    app: FastAPI, schema: dict[str, Any]
) -> None:
    routes = {
        (method.lower(), route.path)
        for route in iter_route_contexts(app.routes)
        if getattr(route, "include_in_schema", True)
        for method in (route.methods or {"<no methods>"}) - {"HEAD"}
    }
    documented = {(method, path) for method, path, _ in operations(schema)}
    assert routes == documented
    assert ("get", "/healthz") in routes


async def test_hidden_framework_routes_stay_out_of_the_schema(schema: dict[str, Any]) -> None:
    assert not {"/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"} & set(schema["paths"])
