"""OpenAPI helpers: declare problem responses in one line, and make the schema say problem+json."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from takt.core.errors import PROBLEM_MEDIA_TYPE
from takt.core.problems import Problem

_DESCRIPTIONS = {
    400: "Malformed request, e.g. a tampered cursor.",
    401: "Missing or invalid credentials.",
    403: "Your role or token scope does not allow this.",
    404: "Not found, or not visible to you.",
    409: "Conflicts with the current state.",
    412: "`If-Match` is stale: the resource changed since you read it.",
    413: "Request body too large.",
    422: "Validation failed; `errors` points at each field.",
    429: "Rate limited; see `Retry-After`.",
    503: "Service unavailable.",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented with the Problem schema."""
    return {s: {"model": Problem, "description": _DESCRIPTIONS.get(s, "Error.")} for s in statuses}


def polish_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx/5xx response is `application/problem+json` with the Problem schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in components:
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, sub in components["Problem"].pop("$defs", {}).items():
            components.setdefault(name, sub)
    problem_content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    response["content"] = problem_content
                    if status == "422":
                        response["description"] = _DESCRIPTIONS[422]
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def json_response(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialize a response model once, straight to JSON bytes.

    FastAPI validates a returned model against the route's `response_model` again before it
    serializes it; for the big read responses (lists, board) that doubles the work. Routes that
    return this keep `response_model=` in their decorator so the schema documents the shape.
    """
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def json_bytes(payload: Any) -> bytes:
    """JSON for plain data shaped like a response model, written as pydantic writes it
    (UTC timestamps end in `Z`)."""
    return orjson.dumps(payload, option=orjson.OPT_UTC_Z)


def json_data_response(
    payload: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A response from plain data (dicts, lists, datetimes) with no model in between: the hot
    reads build their rows as dicts and write them once. Routes keep `response_model=` in their
    decorator for the schema, and the contract test checks the two agree."""
    return Response(
        json_bytes(payload), status_code=status_code, media_type="application/json", headers=headers
    )
