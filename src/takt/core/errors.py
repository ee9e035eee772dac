"""Domain errors and their RFC 9457 problem+json rendering.

Every error class has a stable kebab-case `code`; its docstring is the explanation served at
`GET /problems/<code>`, so a new error documents itself by being written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Self

PROBLEM_MEDIA_TYPE = "application/problem+json"

# code -> (status, title, explanation); filled by AppError subclasses and the built-in list below.
PROBLEM_CATALOGUE: dict[str, tuple[int, str, str]] = {}


def register_problem(code: str, status: int, title: str, explanation: str) -> None:
    PROBLEM_CATALOGUE[code] = (status, title, " ".join(explanation.split()))


class AppError(Exception):
    """Something went wrong on our side. Retry later; if it persists, report the request id."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra or {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            register_problem(cls.code, cls.status, cls.title, cls.__doc__ or cls.title)


register_problem("internal-error", 500, AppError.title, AppError.__doc__ or "")


class BadRequest(AppError):
    """The request could not be understood as sent. Read `detail`, fix it and send it again."""

    status = 400
    code = "bad-request"
    title = "Bad request"


class CorsPreflightRefused(BadRequest):
    """A browser's CORS preflight asked for an origin, method or header this server does not
    allow (`detail` says which). Operators list allowed origins in `TAKT_CORS_ORIGINS`."""

    code = "cors-preflight-refused"
    title = "CORS preflight refused"


class InvalidCursor(BadRequest):
    """The `cursor` parameter was not one this server issued, or it was altered. Start again from
    the first page (no `cursor`) and follow `next_cursor` exactly as returned."""

    code = "invalid-cursor"
    title = "Invalid cursor"


class Unauthorized(AppError):
    """No valid credentials came with the request. Send `Authorization: Bearer <token>` with a
    current access token or personal access token; get one from `POST /api/v1/auth/token`."""

    status = 401
    code = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    """You can see this resource but your role or token scope does not allow this action. Ask a
    project admin for a higher role, or use a token with the needed scope."""

    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(AppError):
    """Nothing exists at this address that you are allowed to see. Check the key or id, and that
    you are a member of the project it belongs to."""

    status = 404
    code = "not-found"
    title = "Not found"


class MethodNotAllowed(AppError):
    """The resource exists but does not support this HTTP method. The `Allow` header lists the
    methods it does support."""

    status = 405
    code = "method-not-allowed"
    title = "Method not allowed"


class NotAcceptable(AppError):
    """The operation can't answer in a media type your `Accept` header allows (a live stream
    answers only `text/event-stream`). `detail` says what to send."""

    status = 406
    code = "not-acceptable"
    title = "Not acceptable"


class Conflict(AppError):
    """The request conflicts with the current state of the resource. Re-read it and decide again."""

    status = 409
    code = "conflict"
    title = "Conflict"


class IdempotencyKeyInUse(Conflict):
    """A request with this `Idempotency-Key` is still being processed. Wait and retry with the
    same key to receive its response."""

    code = "idempotency-key-in-use"
    title = "Idempotency key in use"


class IdempotencyResponseWithheld(Conflict):
    """The request with this `Idempotency-Key` already succeeded and was not run again, but its
    response carried a secret (such as a new token's value), which Takt never keeps, so it
    can't be replayed. Find what was created by listing it (e.g. `GET /users/me/tokens`); if
    the secret is lost, revoke that one and create another with a new key."""

    code = "idempotency-response-withheld"
    title = "Idempotent response withheld"


class PreconditionFailed(AppError):
    """The resource changed since you read it: your `If-Match` ETag is stale. GET it again, apply
    your change to the fresh copy and send it with the new ETag."""

    status = 412
    code = "version-conflict"
    title = "Version conflict"


class PayloadTooLarge(AppError):
    """The request body is larger than the server accepts (1 MiB by default). Send less at once."""

    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class UriTooLong(AppError):
    """The URL (path and query string) is longer than the server accepts (8 KiB). Send long
    filters in fewer terms, or page through the results instead."""

    status = 414
    code = "uri-too-long"
    title = "URI too long"


class UnsupportedMediaType(AppError):
    """The request body's `Content-Type` is not one this operation accepts. Send JSON."""

    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationFailed(AppError):
    """The request body or parameters did not pass validation. `errors` lists each problem with a
    JSON pointer to the offending field; fix them and send the request again."""

    status = 422
    code = "validation-failed"
    title = "Validation failed"

    def __init__(
        self, detail: str | None = None, *, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail, extra={"errors": errors or []})

    @classmethod
    def at(cls, pointer: str, message: str, *, detail: str | None = None) -> Self:
        """The 422 for one field: `errors` names it by its JSON `pointer` (RFC 6901, e.g.
        `/labels/0`, `/query/move_to`) with a short `message`; `detail`, the sentence for a
        person, defaults to `"<pointer>: <message>"`.

        `raise InvalidParent.at("/parent_key", "cycle", detail="That would make a cycle.")`
        """
        return cls.at_each([(pointer, message)], detail=detail)

    def under(self, prefix: str) -> Self:
        """The same problem for a body nested at `prefix` of a larger request (a blocker inside
        a stand-up entry's `/blockers/2`): every pointer starts with `prefix`."""
        errors = [
            {**error, "pointer": f"{prefix}{error['pointer']}"}
            for error in self.extra.get("errors", [])
        ]
        return type(self)(self.detail, errors=errors)

    @classmethod
    def at_each(cls, problems: Iterable[tuple[str, str]], *, detail: str | None = None) -> Self:
        """The 422 for several fields at once: one `errors` entry per `(pointer, message)`, in
        order. `detail` defaults to the first one, `"<pointer>: <message> (and N more)"`."""
        errors = []
        for pointer, message in problems:
            if not pointer.startswith("/"):
                # A bare field name would reach clients as a pointer that points nowhere.
                raise ValueError(f"{pointer!r} is not a JSON pointer: write '/{pointer}'")
            errors.append({"pointer": pointer, "message": message})
        if detail is None and errors:
            detail = f"{errors[0]['pointer']}: {errors[0]['message']}"
            if len(errors) > 1:
                detail += f" (and {len(errors) - 1} more)"
        return cls(detail, errors=errors)


class IdempotencyKeyReused(ValidationFailed):
    """This `Idempotency-Key` was already used with a different request. Use a new key for a new
    request; reuse a key only to retry exactly the same request."""

    code = "idempotency-key-reused"
    title = "Idempotency key reused with another request"


class RateLimited(AppError):
    """Too many requests. Wait for the number of seconds in `Retry-After`, then try again."""

    status = 429
    code = "rate-limited"
    title = "Too many requests"


class ServiceUnavailable(AppError):
    """The service can't answer right now (its database is unreachable or not migrated). Retry
    shortly; operators should check `/readyz`."""

    status = 503
    code = "service-unavailable"
    title = "Service unavailable"


def error_for_status(status: int) -> type[AppError]:
    """The generic error class for an HTTP status raised by the framework itself."""
    return {
        400: BadRequest,
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
        405: MethodNotAllowed,
        406: NotAcceptable,
        409: Conflict,
        412: PreconditionFailed,
        413: PayloadTooLarge,
        415: UnsupportedMediaType,
        422: ValidationFailed,
        429: RateLimited,
        503: ServiceUnavailable,
    }.get(status, AppError)
