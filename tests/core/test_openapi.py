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


def error_responses(schema: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (method, path, status, response)
        for method, path, operation in operations(schema)
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]


async def test_every_error_response_is_problem_json(schema: dict[str, Any]) -> None:
    errors = error_responses(schema)
    assert errors  # at least /readyz documents its 503
    wrong = [
        f"{method.upper()} {path} {status}"
        for method, path, status, response in errors
        if list(response.get("content", {})) != [PROBLEM_MEDIA_TYPE]
        or response["content"][PROBLEM_MEDIA_TYPE]["schema"]
        != {"$ref": "#/components/schemas/Problem"}
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


# What the server does, said in the schema (issue 11.7) -------------------------------------


def is_authenticated(operation: dict[str, Any]) -> bool:
    return bool(operation.get("security"))


async def test_every_authenticated_post_declares_the_idempotency_key_header(
    schema: dict[str, Any],
) -> None:
    posts = [
        (path, op)
        for method, path, op in operations(schema)
        if method == "post" and is_authenticated(op)
    ]
    assert posts
    # Keys belong to the caller: an anonymous POST can't be deduplicated, so none offers it.
    anonymous = [
        path
        for method, path, op in operations(schema)
        if method == "post" and not is_authenticated(op)
        if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
    ]
    assert anonymous == []
    missing = [
        path
        for path, op in posts
        if not any(
            p["name"] == "Idempotency-Key" and p["in"] == "header" and not p["required"]
            for p in op.get("parameters", [])
        )
    ]
    assert missing == []


async def test_every_status_an_operation_of_a_kind_can_answer_is_declared(
    schema: dict[str, Any],
) -> None:
    missing = []
    for method, path, op in operations(schema):
        declared = set(op["responses"])
        expected = set()
        if is_authenticated(op):
            expected |= {"401", "429"}
            if method not in ("get", "head"):
                expected.add("403")  # a read-only token
        if method == "post" and is_authenticated(op):
            expected |= {"409", "422"}  # Idempotency-Key in use, or reused
        if "requestBody" in op:
            expected |= {"413", "422"}
        names = {p["name"].lower() for p in op.get("parameters", [])}
        if "if-match" in names:
            expected.add("412")
        if path.startswith("/api/v1/"):
            expected.add("503")
        missing += [f"{method.upper()} {path} {s}" for s in sorted(expected - declared)]
    assert missing == []


async def test_each_error_status_shows_examples_of_its_own(schema: dict[str, Any]) -> None:
    wrong = []
    for method, path, status, response in error_responses(schema):
        examples = response["content"][PROBLEM_MEDIA_TYPE].get("examples", {})
        if not examples:
            wrong.append(f"{method.upper()} {path} {status}: no example")
        for name, example in examples.items():
            value = example["value"]
            if value["status"] != int(status) or value["code"] != name:
                wrong.append(f"{method.upper()} {path} {status}: {name} says {value['status']}")
    assert wrong == []
    create = schema["paths"]["/api/v1/projects/{project_key}/items"]["post"]["responses"]
    assert set(create["409"]["content"][PROBLEM_MEDIA_TYPE]["examples"]) >= {
        "idempotency-key-in-use"
    }
    assert set(create["401"]["content"][PROBLEM_MEDIA_TYPE]["examples"]) == {"unauthorized"}
    assert create["422"]["content"][PROBLEM_MEDIA_TYPE]["examples"]["validation-failed"]["value"][
        "errors"
    ]


def response_headers(response: dict[str, Any]) -> set[str]:
    return set(response.get("headers", {}))


async def test_responses_declare_the_headers_the_server_sends(schema: dict[str, Any]) -> None:
    headers = schema["components"]["headers"]
    assert {
        "X-Request-ID",
        "ETag",
        "Idempotent-Replayed",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "RateLimit-Policy",
        "Retry-After",
    } <= set(headers)
    wrong = []
    for method, path, op in operations(schema):
        for status, response in op["responses"].items():
            names = response_headers(response)
            label = f"{method.upper()} {path} {status}"
            if "X-Request-ID" not in names:
                wrong.append(f"{label}: X-Request-ID")
            if status in ("429", "503") and "Retry-After" not in names:
                wrong.append(f"{label}: Retry-After")
            if is_authenticated(op) and status != "401" and "RateLimit-Remaining" not in names:
                wrong.append(f"{label}: RateLimit-*")
            replayable = method == "post" and is_authenticated(op)
            if replayable and status.startswith("2") and "Idempotent-Replayed" not in names:
                wrong.append(f"{label}: Idempotent-Replayed")
    assert wrong == []
    item = schema["paths"]["/api/v1/items/{item_key}"]
    assert "ETag" in response_headers(item["get"]["responses"]["200"])
    assert "ETag" in response_headers(item["get"]["responses"]["304"])
    assert "ETag" in response_headers(item["patch"]["responses"]["200"])
    created = schema["paths"]["/api/v1/projects/{project_key}/items"]["post"]["responses"]["201"]
    assert "ETag" in response_headers(created)
    listed = schema["paths"]["/api/v1/projects/{project_key}/items"]["get"]["responses"]["200"]
    assert "ETag" not in response_headers(listed)


def inline_enums(node: Any, where: str = "#") -> list[str]:
    """Where an enumeration of two or more values is written out rather than referenced."""
    found = []
    if isinstance(node, dict):
        if len(node.get("enum", [])) > 1:
            found.append(where)
        for key, value in node.items():
            found += inline_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += inline_enums(value, f"{where}/{index}")
    return found


async def test_enumerations_are_named_shared_components(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    concepts = {
        "Priority": ["none", "low", "medium", "high", "urgent"],
        "ItemType": ["epic", "story", "task", "bug", "spike"],
        "StatusCategory": ["backlog", "todo", "in_progress", "in_review", "done", "cancelled"],
        "Role": ["admin", "member", "viewer"],
        "LinkType": ["blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by"],
        "SprintState": ["planned", "active", "completed", "cancelled"],
        "Scope": ["read", "write", "admin"],
    }
    for name, values in concepts.items():
        assert components[name]["enum"] == values, name
    # Everywhere else an enumeration appears, it is a reference to its component.
    written_out = [
        where
        for where in inline_enums(schema)
        if not any(where == f"#/components/schemas/{name}" for name in components)
    ]
    assert written_out == []
    read = components["ItemRead"]["properties"]["priority"]
    update = components["ItemUpdate"]["properties"]["priority"]
    assert read == {"$ref": "#/components/schemas/Priority"}
    assert update == {"$ref": "#/components/schemas/Priority"}


def allows_null(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(allows_null(o) for o in prop.get("anyOf", []))


async def test_problem_schema_declares_every_field_the_server_sends(
    schema: dict[str, Any],
) -> None:
    problem = schema["components"]["schemas"]["Problem"]
    for field in ("errors", "position"):
        assert field in problem["properties"]
        assert not allows_null(problem["properties"][field]), field  # left out, never null
    assert "examples" not in problem  # each response has its own


async def test_optional_parameters_are_not_nullable(schema: dict[str, Any]) -> None:
    nullable = [
        f"{method.upper()} {path} {p['name']}"
        for method, path, op in operations(schema)
        for p in op.get("parameters", [])
        if allows_null(p["schema"])
    ]
    assert nullable == []


# Docs that work offline (11.6) and an Authorize dialog that fits (11.8) ---------------------

ABSOLUTE_URL = re.compile(r"https?://", re.IGNORECASE)
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_page_names_no_other_host_and_its_assets_are_served(
    client: AsyncClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    html = response.text
    assert ABSOLUTE_URL.findall(html) == []  # no CDN, no Google Fonts, no validator badge
    assets = REFERENCE.findall(html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert served.content
        assert served.headers["content-type"].split(";")[0] in {
            "text/javascript",
            "text/css",
            "image/png",
        }


async def test_redoc_loads_no_web_fonts(client: AsyncClient) -> None:
    html = (await client.get("/redoc")).text
    assert "fonts.googleapis" not in html
    assert "<link" not in html.replace('<link rel="shortcut icon"', "")


async def test_an_unknown_docs_asset_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/docs/assets/..%2Fpyproject.toml")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


async def test_authorize_offers_a_password_login_and_a_token_field(
    schema: dict[str, Any], client: AsyncClient
) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"PasswordLogin", "BearerToken"}
    assert set(schemes["PasswordLogin"]["flows"]) == {"password"}
    assert schemes["PasswordLogin"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["BearerToken"] == {**schemes["BearerToken"], "type": "http", "scheme": "bearer"}
    secured = [op for _, _, op in operations(schema) if is_authenticated(op)]
    assert secured
    assert all(op["security"] == [{"PasswordLogin": []}, {"BearerToken": []}] for op in secured)

    # Swagger UI draws client_id, client_secret and a credentials-location choice for every
    # password flow; the page's own stylesheet hides those rows, by the labels the served
    # bundle gives them.
    html = (await client.get("/docs")).text
    own_css = next(a for a in REFERENCE.findall(html) if a.endswith("takt-swagger.css"))
    css = (await client.get(own_css)).text
    bundle = (await client.get("/docs/assets/swagger-ui-bundle.js")).text
    for label, rendered in [
        ("client_id_password", "htmlFor:`client_id_${"),
        ("client_secret_password", "htmlFor:`client_secret_${"),
        ("password_type", 'htmlFor:"password_type"'),
    ]:
        assert f'label[for="{label}"]' in css
        assert rendered in bundle
    assert "display: none" in css
