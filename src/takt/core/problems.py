"""Render every error, ours and the framework's, as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from takt.core.concurrency import stale_to_precondition
from takt.core.errors import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    Conflict,
    ServiceUnavailable,
    ValidationFailed,
    error_for_status,
)
from takt.core.events import describes_an_event
from takt.core.logging import request_id_var
from takt.core.schemas import NOT_NULL

log = logging.getLogger("takt.errors")


class FieldError(BaseModel):
    pointer: str = Field(description="JSON pointer to the offending field, e.g. `/title`.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details. Each response shows examples of its own."""

    type: str = Field(description="`/problems/<code>`: a page that explains the problem.")
    title: str = Field(description="Short, stable summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong in this case.")
    instance: str = Field(description="The path of the request that failed.")
    code: str = Field(description="Stable kebab-case slug, e.g. `not-found`.")
    request_id: str | None = Field(None, description="Quote it when reporting a problem.")
    errors: Annotated[list[FieldError] | None, NOT_NULL] = Field(
        None, description="On 422 (`validation-failed` and its kinds): each field error."
    )
    position: Annotated[int | None, NOT_NULL] = Field(
        None,
        ge=0,
        description="On 400 `invalid-query`: the 0-based character offset in `q` where the "
        "query goes wrong.",
    )


def problem_body(
    *, status: int, code: str, title: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id_var.get(),
    }
    body.update(extra)
    return body


def problem_response(error: AppError, instance: str) -> Response:
    body = problem_body(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        instance=instance,
        **error.extra,
    )
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers,
    )


def _pointer(loc: tuple[int | str, ...]) -> str:
    # FastAPI prefixes the location with where it came from: body, query, path, header, cookie.
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return "/" + "/".join(parts)


def _field_error(error: dict[str, Any]) -> tuple[str, str]:
    """The (pointer, message) of one of FastAPI's or Pydantic's validation errors."""
    if error["type"] == "json_invalid":
        # FastAPI puts the character offset in `loc`; it is not a field, the body is at fault.
        reason = error.get("ctx", {}).get("error", "")
        position = error["loc"][-1]
        return "/", f"Malformed JSON at character {position}: {reason}"
    return _pointer(tuple(error["loc"])), error["msg"]


def validation_error(exc: RequestValidationError) -> ValidationFailed:
    return ValidationFailed.at_each(_field_error(e) for e in exc.errors())


# Exceptions from the database layer that may not be bugs (see database_error).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    StaleDataError,
    DBAPIError,
    PoolTimeout,
    ConnectionError,
)


_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout, ConnectionError)
_TRANSIENT = {"40P01", "40001"}  # deadlock detected, serialization failure
_CANCELED = "57014"  # query_canceled: the statement timeout, or pg_cancel_backend
# The server can't take the work now: out of connections, memory or disk (class 53), or
# shutting down or starting up (a restart, a failover).
_TURNED_AWAY = ("53", "57P01", "57P02", "57P03")


def database_error(exc: BaseException) -> AppError | None:
    """The problem a database failure means to the client, or None when it is a bug.

    A lost optimistic-lock race is a 412. A database that can't be reached is a 503 worth
    retrying: connection refused or dropped (whatever error the driver happens to raise when a
    connection dies mid-query, SQLAlchemy marks it invalidated), pool exhausted, SQLite locked,
    a statement that ran out of its time (PostgreSQL's statement timeout).
    A constraint the code did not check first is a 409; the log keeps which one.
    """
    if isinstance(exc, StaleDataError):
        return stale_to_precondition(exc)
    dropped = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if dropped or isinstance(exc, _UNREACHABLE):
        return unreachable()
    if isinstance(exc, IntegrityError):
        return Conflict("The change conflicts with existing data; re-read it and decide again.")
    sqlstate = str(getattr(getattr(exc, "orig", None), "pgcode", None) or "")
    if isinstance(exc, DataError):
        return value_refused()
    return sqlstate_error(sqlstate)


def unreachable() -> ServiceUnavailable:
    return ServiceUnavailable("The database can't be reached right now; retry shortly.")


def sqlstate_error(sqlstate: str) -> AppError | None:
    """The problem a PostgreSQL error code means to the client, for the codes that are not a
    bug (`database_error`; the direct reads' driver errors, takt.core.direct)."""
    if sqlstate in _TRANSIENT:
        # Two transactions collided (PostgreSQL chose one to fail); nothing was written.
        return ServiceUnavailable("A concurrent change got in the way; nothing was saved, retry.")
    if sqlstate == _CANCELED:
        # TAKT_DB_STATEMENT_TIMEOUT_MS ran out (or an operator cancelled the statement): the
        # database is too busy for this request now, not a fault in it; nothing was written.
        return ServiceUnavailable("The database took too long to answer; nothing was saved, retry.")
    if sqlstate.startswith(_TURNED_AWAY):
        # Not a fault in the request or the code: the database turns work away for now (e.g.
        # "too many clients" when a new connection is opened); nothing was written.
        return unreachable()
    if sqlstate.startswith("22"):  # SQL class 22: data exception
        return value_refused()
    return None


def value_refused() -> ValidationFailed:
    """A value the column type refuses (e.g. a NUL byte in a path or query on PostgreSQL)."""
    return ValidationFailed.at(
        "/",
        "value refused by the database",
        detail="A value in the request can't be stored or compared; check for control characters.",
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return problem_response(exc, request.url.path)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_error(exc), request.url.path)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error_class = error_for_status(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) else error_class.title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # A body that isn't UTF-8 JSON is a validation failure like any malformed JSON.
            return problem_response(
                ValidationFailed.at(
                    "/", "not valid UTF-8 JSON", detail="The request body is not valid UTF-8 JSON."
                ),
                request.url.path,
            )
        error = error_class(detail, headers=dict(exc.headers or {}))
        response = problem_response(error, request.url.path)
        if error_class is AppError:  # a status we have no class for: keep the framework's
            response.status_code = exc.status_code
        return response

    async def on_database_error(request: Request, exc: Exception) -> Response:
        error = database_error(exc)
        if error is None:
            raise exc  # a bug: the last-resort handler logs it and answers a generic 500
        if not isinstance(exc, StaleDataError):
            log.error("database error", exc_info=exc, extra={"path": request.url.path})
        return problem_response(error, request.url.path)

    async def on_model_error(request: Request, exc: Exception) -> Response:
        # A service built a model from input the request schema let through: still the
        # client's input, so 422 — but logged, since the request schema should have caught it.
        assert isinstance(exc, PydanticValidationError)
        if describes_an_event(exc.title):
            raise exc  # an event that doesn't fit its catalogue: a bug, answered 500
        log.warning("validation inside a service", extra={"path": request.url.path})
        errors = [(_pointer(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        return problem_response(
            ValidationFailed.at_each(errors, detail=errors[0][1] if errors else None),
            request.url.path,
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(PydanticValidationError, on_model_error)
    for exc_class in DATABASE_ERRORS:
        app.add_exception_handler(exc_class, on_database_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def internal_error_response(instance: str) -> Response:
    return problem_response(
        AppError("An unexpected error occurred. Quote the request id when reporting it."), instance
    )
