"""Request bodies take what their schema says and nothing else: booleans are `true`/`false`
(not 0, 1 or "yes"), and a field is nullable in the schema exactly when null is accepted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import ValidationError

from takt.core.db import Database
from takt.core.schemas import Input
from tests.support import make_project, make_user, new_item


def subclasses(cls: type[Input]) -> Iterator[type[Input]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)


def allows_null(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(allows_null(o) for o in prop.get("anyOf", []))


def is_boolean(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "boolean" or any(is_boolean(o) for o in prop.get("anyOf", []))


def errors_at(model: type[Input], name: str, value: object) -> list[Any]:
    """The errors about field `name` when it alone is sent with `value`."""
    try:
        model.model_validate({name: value})
    except ValidationError as exc:
        return [e for e in exc.errors() if e["loc"][:1] == (name,)]
    return []


@pytest.fixture(scope="module")
def request_models(app: FastAPI) -> list[tuple[type[Input], dict[str, Any]]]:
    """Every request body model the app documents, with its schema component."""
    components = app.openapi()["components"]["schemas"]
    found = {m for m in subclasses(Input) if m.__name__ in components}
    assert len(found) > 20
    return [(m, components[m.__name__]) for m in sorted(found, key=lambda m: m.__name__)]


def test_every_boolean_of_a_request_body_refuses_numbers_and_strings(
    request_models: list[tuple[type[Input], dict[str, Any]]],
) -> None:
    booleans = [
        (model, name)
        for model, component in request_models
        for name, field in model.model_fields.items()
        if is_boolean(component["properties"][field.alias or name])
    ]
    assert booleans
    lax = [
        f"{model.__name__}.{name} takes {value!r}"
        for model, name in booleans
        for value in (0, 1, "true", "yes")
        if not errors_at(model, name, value)
    ]
    assert lax == []


def test_a_request_field_is_nullable_in_the_schema_exactly_when_null_is_accepted(
    request_models: list[tuple[type[Input], dict[str, Any]]],
) -> None:
    wrong = [
        f"{model.__name__}.{name}"
        for model, component in request_models
        for name, field in model.model_fields.items()
        if allows_null(component["properties"][field.alias or name])
        != (not errors_at(model, name, None))
    ]
    assert wrong == []


async def test_patch_refuses_null_for_a_field_that_cant_be_cleared(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    owner = await make_user(app, db, "nullable")
    await make_project(db, owner, "NUL")
    item = await new_item(client, owner, "NUL", assignee="nullable")
    url = f"/api/v1/items/{item['key']}"

    refused = await client.patch(url, json={"title": None}, headers=owner.headers)
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/title"]
    cleared = await client.patch(url, json={"assignee": None}, headers=owner.headers)
    assert cleared.status_code == 200
    assert cleared.json()["assignee"] is None

    properties = app.openapi()["components"]["schemas"]["ItemUpdate"]["properties"]
    assert not allows_null(properties["title"])
    assert allows_null(properties["assignee"])


async def test_booleans_sent_as_numbers_or_strings_are_refused(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    owner = await make_user(app, db, "booleans")
    await make_project(db, owner, "BOO")
    item = await new_item(client, owner, "BOO")

    created = await client.post(
        "/api/v1/projects/BOO/items", json={"title": "x", "blocked": 1}, headers=owner.headers
    )
    assert created.status_code == 422
    assert [e["pointer"] for e in created.json()["errors"]] == ["/blocked"]
    patched = await client.patch(
        f"/api/v1/items/{item['key']}", json={"blocked": "true"}, headers=owner.headers
    )
    assert patched.status_code == 422
    bulk = await client.post(
        "/api/v1/projects/BOO/items/bulk",
        json={"updates": [{"key": item["key"], "blocked": 0}]},
        headers=owner.headers,
    )
    assert bulk.status_code == 422
    assert [e["pointer"] for e in bulk.json()["errors"]] == ["/updates/0/blocked"]

    fine = await client.patch(
        f"/api/v1/items/{item['key']}", json={"blocked": True}, headers=owner.headers
    )
    assert fine.status_code == 200
    assert fine.json()["blocked"] is True
