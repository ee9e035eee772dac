"""The outermost ASGI layer: request id, access log, metrics, security headers and the
last-resort 500; the body-size limit; CORS whose refusals are problems."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from takt.core.errors import (
    CorsPreflightRefused,
    PayloadTooLarge,
    UriTooLong,
    ValidationFailed,
)
from takt.core.logging import request_id_var
from takt.core.metrics import Metrics
from takt.core.problems import database_error, internal_error_response, problem_response

access_log = logging.getLogger("takt.access")
error_log = logging.getLogger("takt.errors")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# Path and query string together; servers refuse longer request lines themselves (uvicorn's h11
# at 16 KiB of head, as plain text), so this answers a problem before they would.
MAX_URL_BYTES = 8 * 1024
# How long a client should wait after a 503 before it retries.
RETRY_AFTER_503_SECONDS = "5"
# API answers are data, never pages: nothing may run, load or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# HTML pages (the API docs, the problem pages) load their scripts, styles, fonts and workers
# from this server only; Swagger UI and ReDoc start with inline scripts and styles.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _has_encoded_nul(scope: Scope) -> bool:
    raw = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
    return b"%00" in raw or "\x00" in scope["path"]


def _url_length(scope: Scope) -> int:
    path = scope.get("raw_path") or scope["path"].encode()
    return len(path) + len(scope.get("query_string") or b"")


def _allowed_methods(scope: Scope, allowed: str) -> str:
    """Every method some route accepts at this path (Starlette's 405 lists only the first
    route that matched the path, while e.g. `GET` and `POST /projects` are two routes)."""
    from takt.core.routes import iter_operations  # imports FastAPI's routing; only on a 405

    methods = {m.strip().upper() for m in allowed.split(",") if m.strip()}
    app = scope.get("app")
    if app is not None:
        for method, template, _ in iter_operations(app):
            if compile_path(template)[0].match(scope["path"]):
                methods.add(method)
    return ", ".join(sorted(methods))


# Headers a security scanner looks for, on every response (ASGI header names are lowercase).
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def _finish_headers(
    message: Message, scope: Scope, request_id: str, *, is_api: bool
) -> list[tuple[bytes, bytes]]:
    """The response's headers with the request id, the route's extra headers (rate limits),
    `Cache-Control: no-store` for API answers and the security headers, each unless the
    response set it. Names present are looked up in a set: `MutableHeaders.setdefault` scans
    the list once per header, a tenth of a direct read's Python (bench/RESULTS.md)."""
    headers = [(n, v) for n, v in message.get("headers", ()) if n != b"x-request-id"]
    headers.append((b"x-request-id", request_id.encode("latin-1")))
    present = {name for name, _ in headers}
    for name, value in scope["state"].get("extra_headers", {}).items():
        key = name.lower().encode("latin-1")
        if key not in present:
            headers.append((key, value.encode("latin-1")))
            present.add(key)
    if is_api and b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))
    for name, value in _SECURITY_HEADERS:
        if name not in present:
            headers.append((name, value))
    if b"content-security-policy" not in present:
        content_type = next((v for n, v in headers if n == b"content-type"), b"")
        is_page = content_type.startswith(b"text/html")
        headers.append((b"content-security-policy", (PAGE_CSP if is_page else API_CSP).encode()))
    status = message["status"]
    if status == 503 and b"retry-after" not in present:
        headers.append((b"retry-after", RETRY_AFTER_503_SECONDS.encode()))
    elif status == 405:
        allowed = MutableHeaders(raw=headers)
        allowed["Allow"] = _allowed_methods(scope, allowed.get("allow", ""))
        return allowed.raw
    return headers


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"


class RequestContextMiddleware:
    """Gives every request an id (the client's `X-Request-ID` if sane), echoes it, logs one line
    per request, records metrics by route template, and turns an unexpected exception into a
    generic problem+json 500 whose traceback goes only to the log."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, access_log_enabled: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = dict(scope["headers"])
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        is_api = scope["path"].startswith("/api/") or b"authorization" in headers
        status = 500
        started = False
        began = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = _finish_headers(message, scope, request_id, is_api=is_api)
            await send(message)

        try:
            if _has_encoded_nul(scope):
                # No database can compare text with NUL in it; refuse before anything tries.
                error = ValidationFailed.at(
                    "/",
                    "NUL character in the URL",
                    detail="URLs must not contain NUL characters (%00).",
                )
                await problem_response(error, scope["path"])(scope, receive, send_wrapper)
                return
            if _url_length(scope) > MAX_URL_BYTES:
                too_long = UriTooLong(f"The URL is longer than {MAX_URL_BYTES} bytes.")
                await problem_response(too_long, scope["path"])(scope, receive, send_wrapper)
                return
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Database failures outside a route (e.g. the idempotency claim) mean what they mean
            # inside one: 503 when the database is down, not a generic 500.
            known = database_error(exc)
            error_log.exception("unhandled error", extra={"path": scope["path"]})
            status = known.status if known else 500
            if not started:
                response = (
                    problem_response(known, scope["path"])
                    if known
                    else internal_error_response(scope["path"])
                )
                await response(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - began
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.request_done(method, route, status, duration)
            if self.access_log_enabled:
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                    },
                )
            request_id_var.reset(token)


class _BodyTooLarge(StarletteHTTPException):
    # An HTTPException, because FastAPI turns any other error raised while it reads the body
    # into a 400; its handler renders this one as the payload-too-large problem.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with a 413 problem: at once when `Content-Length`
    says so, otherwise as soon as a streamed body passes the limit.

    Our own rather than FastAPI's `max_body_size`, whose 413 is plain text sent from outside
    every user middleware (no problem+json, no X-Request-ID, an "unhandled error" logged).
    It sits outside the idempotency middleware, which reads the body before any route does.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        larger: dict[tuple[str, str], int] | None = None,
        larger_under: dict[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Routes whose documents are legitimately bigger (a project import), by (method, path),
        # and by (method, path prefix) for routes with a parameter (inbound webhooks).
        self.larger = larger or {}
        self.larger_under = larger_under or {}

    def limit_for(self, method: str, path: str) -> int:
        limit = self.larger.get((method, path))
        if limit is not None:
            return limit
        for (under_method, prefix), prefixed in self.larger_under.items():
            if method == under_method and path.startswith(prefix):
                return prefixed
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        await problem_response(error, scope["path"])(scope, receive, send)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight answers a problem like every other
    refusal rather than a plain-text 400 (its CORS headers kept)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code >= 400:
                    error = CorsPreflightRefused(
                        f"{bytes(response.body).decode()}.",
                        headers={
                            name: value
                            for name, value in response.headers.items()
                            if name.startswith("access-control-") or name == "vary"
                        },
                    )
                    response = problem_response(error, scope["path"])
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)
