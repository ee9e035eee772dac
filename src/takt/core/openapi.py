"""OpenAPI helpers: declare problem responses in one line, and `polish_openapi`, which makes the
schema say what the server does for every operation at once (statuses, headers, examples,
security schemes, what request strings refuse)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from takt.core.errors import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    Conflict,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidCursor,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
    error_for_status,
)
from takt.core.problems import Problem
from takt.core.schemas import without_null

_DESCRIPTIONS = {
    304: "Not modified: your `If-None-Match` names the current representation (`ETag`).",
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
_IDEMPOTENCY_409 = "Or a request with the same `Idempotency-Key` is still running."
_IDEMPOTENCY_422 = "Or the `Idempotency-Key` was used before with another request."

# Reusable response headers (components/headers), named as the server sends them.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id (yours, if you sent a sane `X-Request-ID`). Quote it "
        "when reporting a problem; the logs and the audit log carry it.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "Names this representation: two answers with the same tag have the same "
        'body. A resource that shows only its own fields is tagged `"v<version>"`. One that '
        "also shows other rows (an item: its status, labels, people, parent, sprint, pull "
        "requests and the project's Definition of Ready; a project: your role; a readiness "
        "policy: environment names; an incident: its environment and opener; a risk: its "
        "owner and items; a deployment: its environment, reporter and what it shipped) is "
        'tagged `"v<version>-<digest of the body>"`, so a renamed status '
        "gives its items new tags though their `version` stays (a blocker's tag ends with its "
        'age, which `If-Match` ignores: `"v<version>-<digest>-<age>"`). Send it as '
        "`If-None-Match` to get 304 while your copy is current, or as `If-Match` to write "
        "only if nothing you were shown changed (412 otherwise). `If-Match` also takes "
        '`"v<version>"` (the `version` lists show): then only the resource\'s own fields must '
        "be unchanged.",
        "schema": {"type": "string", "examples": ['"v3"', '"v3-5f0c8e9a1b2d3c4e"']},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response of an earlier request with the "
        "same `Idempotency-Key` (the request did not run again).",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed per window for this caller.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the current window ends.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Policy": {
        "description": "The limit and the window in seconds, e.g. `120;w=60`.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    },
    "WWW-Authenticate": {
        "description": "How to authenticate: `Bearer`.",
        "schema": {"type": "string"},
    },
}
_RATE_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key with the same request replays the first "
    "response (with `Idempotent-Replayed: true`) instead of running it again. Kept for 24 "
    "hours, per caller; use a new key (e.g. a UUID) for each new request.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

# The security schemes, as Swagger UI's Authorize dialog shows them: a password login, and a
# field to paste a token in. (client_id and client_secret are hidden by the docs page's CSS.)
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "PasswordLogin": {
        "type": "oauth2",
        "description": "Log in with your username and password; Swagger UI then sends the "
        "access token it gets.",
        "flows": {"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/token"}},
    },
    "BearerToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "Paste a personal access token (`takt_pat_…`) or an access token from "
        "`POST /api/v1/auth/token`; it is sent as `Authorization: Bearer <token>`.",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"PasswordLogin": []}, {"BearerToken": []}]
_SAFE = {"get", "head", "options"}
API_PREFIX = "/api/v1/"
NO_NUL_PATTERN = "^[^\x00]*$"
_COMPONENT = "#/components/schemas/"


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented with the Problem schema."""
    return {s: {"model": Problem, "description": _DESCRIPTIONS.get(s, "Error.")} for s in statuses}


def _examples(status: int, instance: str, *, post: bool) -> dict[str, Any]:
    """Example problems for `status`, one per way the server answers it."""
    by_status: dict[int, list[tuple[type[AppError], str, dict[str, Any]]]] = {
        400: [(InvalidCursor, "The cursor was not issued by this server.", {})],
        401: [(Unauthorized, "Send `Authorization: Bearer <token>`.", {})],
        403: [(Forbidden, "This token has the read scope only.", {})],
        404: [(NotFound, "Nothing at this address is visible to you.", {})],
        409: [(Conflict, "The change conflicts with the current state; re-read and retry.", {})],
        412: [(PreconditionFailed, 'If-Match "v3" does not match the current version "v4".', {})],
        413: [(PayloadTooLarge, "The request body is larger than 1048576 bytes.", {})],
        422: [
            (
                ValidationFailed,
                "/title: String should have at most 255 characters",
                ValidationFailed.at("/title", "at most 255 characters").extra,
            )
        ],
        429: [(RateLimited, "More than 120 requests a minute.", {})],
        503: [(ServiceUnavailable, "The database can't be reached right now; retry shortly.", {})],
    }
    fallback = error_for_status(status)
    cases = list(by_status.get(status, [(fallback, _DESCRIPTIONS.get(status, fallback.title), {})]))
    if post and status == 409:
        cases.append((IdempotencyKeyInUse, "A request with this key is still running.", {}))
    if post and status == 422:
        reused = IdempotencyKeyReused.at("/headers/Idempotency-Key", "used with another request")
        cases.append(
            (IdempotencyKeyReused, "This key was used with another request.", reused.extra)
        )
    return {
        error.code: {
            "summary": error.title,
            "value": {
                "type": f"/problems/{error.code}",
                "title": error.title,
                "status": error.status,
                "detail": detail,
                "instance": instance,
                "code": error.code,
                "request_id": "5f0c6f1e2d8a4c8e9b1a7d3e4f5a6b7c",
                **extra,
            },
        }
        for error, detail, extra in cases
    }


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The statuses every operation like this one can answer, whatever its route declares."""
    params = {p.get("name", "").lower() for p in operation.get("parameters", [])}
    statuses: set[int] = set()
    if path.startswith(API_PREFIX):
        statuses.add(503)  # the database can't be reached
    if operation.get("security"):
        statuses |= {401, 429}
        if method not in _SAFE:
            statuses.add(403)  # a read-only token
    if method == "post" and operation.get("security"):
        statuses |= {409, 422}  # the idempotency key in use, or reused with another body
    if "requestBody" in operation:
        statuses |= {413, 422}
    if params:
        statuses.add(422)
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        statuses.add(404)
    if "if-match" in params:
        statuses.add(412)
    if params & {"cursor", "after"}:
        statuses.add(400)  # a cursor this server did not issue
    return statuses


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _polish_operation(
    path: str, method: str, operation: dict[str, Any], versioned: set[str]
) -> None:
    # Idempotency-Key applies to a signed-in caller's POSTs: keys belong to the caller, so an
    # anonymous POST (register, login, refresh, logout) can't be deduplicated and doesn't offer it.
    post = method == "post" and bool(operation.get("security"))
    if operation.get("security"):
        operation["security"] = SECURITY
    for param in operation.get("parameters", []):
        # A parameter is present or not: it can't carry null (FastAPI types a missing one so).
        param["schema"] = schema = without_null(param.get("schema", {}))
        if schema.get("default", ...) is None:
            del schema["default"]
        if param.get("in") in ("path", "query") and schema.get("type") == "string":
            # The server refuses a NUL character (%00) anywhere in the URL.
            schema.setdefault("pattern", NO_NUL_PATTERN)
    if post:
        params = operation.setdefault("parameters", [])
        if not any(p.get("name") == "Idempotency-Key" for p in params):
            params.append(dict(IDEMPOTENCY_KEY))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for added in _statuses(path, method, operation):
        responses.setdefault(str(added), {"description": _DESCRIPTIONS.get(added, "Error.")})
    for status, response in responses.items():
        code = int(status) if status.isdigit() else 0
        headers = ["X-Request-ID"]
        if operation.get("security") and code != 401:
            headers += _RATE_HEADERS
        if code in (429, 503):
            headers.append("Retry-After")
        if code == 401:
            headers.append("WWW-Authenticate")
        if post:
            headers.append("Idempotent-Replayed")
        if code == 304 or (200 <= code < 300 and _returns_versioned(response, versioned)):
            headers.append("ETag")
        response["headers"] = {**response.get("headers", {}), **_header_refs(*headers)}
        if status[0] in "45":
            response["content"] = {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": _examples(code, path, post=post),
                }
            }
            if code == 422:
                response["description"] = _DESCRIPTIONS[422]
            if post and code == 409 and _IDEMPOTENCY_409 not in response["description"]:
                response["description"] += " " + _IDEMPOTENCY_409
            if post and code == 422 and _IDEMPOTENCY_422 not in response["description"]:
                response["description"] += " " + _IDEMPOTENCY_422
    operation["responses"] = dict(sorted(responses.items()))


def _returns_versioned(response: dict[str, Any], versioned: set[str]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] in versioned


def _allows_null(schema: dict[str, Any]) -> bool:
    if "$ref" in schema and "anyOf" not in schema:
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(o) for o in schema.get("anyOf", []) + schema.get("oneOf", []))


def _tidy_properties(schemas: dict[str, Any]) -> None:
    """A field that may be left out but not sent as null has no `default: null` either. An
    integer `const` is written as a one-value `enum` (the same to JSON Schema): the Python
    client generator writes code for integer consts that Python warns about."""
    for component in schemas.values():
        for prop in component.get("properties", {}).values():
            if "default" in prop and prop["default"] is None and not _allows_null(prop):
                del prop["default"]
            if prop.get("type") == "integer" and "const" in prop:
                prop["enum"] = [prop.pop("const")]


def _without_number_enums(node: Any) -> None:
    """Drop `enum` from number schemas: the Python client generator can't make an enum of
    floats and leaves out every operation that uses one (the description lists the values)."""
    if isinstance(node, dict):
        if node.get("type") == "number":
            node.pop("enum", None)
        for value in node.values():
            _without_number_enums(value)
    elif isinstance(node, list):
        for value in node:
            _without_number_enums(value)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT):
            yield ref.removeprefix(_COMPONENT)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _without_nul(node: Any) -> None:
    """Say in every free-form string schema under `node` that NUL is refused (request bodies
    refuse it: no database column can store it)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(node):
            node["pattern"] = NO_NUL_PATTERN
        for value in node.values():
            _without_nul(value)
    elif isinstance(node, list):
        for value in node:
            _without_nul(value)


def _request_components(schema: dict[str, Any]) -> set[str]:
    """The components request bodies use, directly or through other components."""
    schemas = schema["components"]["schemas"]
    bodies = [
        operation["requestBody"]
        for path_item in schema.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    found: set[str] = set()
    todo = list(_refs(bodies))
    while todo:
        name = todo.pop()
        if name not in found and name in schemas:
            found.add(name)
            todo += _refs(schemas[name])
    return found


def polish_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the schema say what the server does, for every operation at once: the security
    schemes, the `Idempotency-Key` parameter of every POST, the statuses every operation of a
    kind can answer (each problem+json with examples of its own), and the headers responses
    carry."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    if "Problem" not in schemas:
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schemas["Problem"].pop("$defs", {}).items():
            schemas.setdefault(name, sub)
    components["headers"] = HEADERS
    components["securitySchemes"] = SECURITY_SCHEMES
    versioned = {name for name, sub in schemas.items() if "version" in sub.get("properties", {})}
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            if isinstance(operation, dict) and "responses" in operation:
                _polish_operation(path, method, operation, versioned)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _tidy_properties(schemas)
    _without_number_enums(schemas)
    for name in _request_components(schema):
        _without_nul(schemas[name])
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
