"""The outermost ASGI layer: request id, access log, metrics, and the last-resort 500."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from takt.core.logging import request_id_var
from takt.core.metrics import Metrics
from takt.core.problems import internal_error_response

access_log = logging.getLogger("takt.access")
error_log = logging.getLogger("takt.errors")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


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
                response_headers = MutableHeaders(scope=message)
                response_headers["X-Request-ID"] = request_id
                if is_api and "cache-control" not in response_headers:
                    response_headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_log.exception("unhandled error", extra={"path": scope["path"]})
            status = 500
            if not started:
                await internal_error_response(scope["path"])(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - began
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(duration)
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
