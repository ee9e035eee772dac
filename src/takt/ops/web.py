"""The web app (`frontend/`, built by `make web`) served at `/`, beside the API.

Installed as the app router's `default`: it runs only for requests no route matched, so it can
never shadow an API route, and a method or path it doesn't serve gets the router's own answer (a
problem+json 404, or the 405 of a route matched by path). For a `GET` or `HEAD` outside the API
and operations paths it answers, in this order:
- a file of the build (`TAKT_WEB_DIST`): under `assets/` (Vite's content-hashed names) cached for
  a year as immutable, anything else (`favicon.svg`, `robots.txt`) revalidated every time;
- a missing file under `assets/`: the 404 (an old tab asking for a replaced chunk must not get
  HTML in place of JavaScript);
- `/`, and any other path asked for by a browser navigating (`Accept` names `text/html`):
  `index.html` (the app routes it in the browser), never cached, with the app's
  Content-Security-Policy. A client that doesn't ask for HTML (`curl`, an API client with a
  wrong URL) gets the 404 problem, as before there was an app;
- nothing built: `/` says how to build it, other paths are 404.
"""

from __future__ import annotations

import html
import stat
from pathlib import Path

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

# Paths of the API and of the operations endpoints: an unknown path under one of them is the
# router's 404 (problem+json), never the app's page.
RESERVED = (
    "/api",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/problems",
    "/bench",
)
ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The built app loads its scripts, styles, fonts and images from this server only, runs no inline
# script and talks only to this server's API and event stream. Inline `style` attributes are
# allowed (component and chart libraries position elements with them); inline `<style>` and
# `<script>` elements are not.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; manifest-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
NOT_BUILT_CSP = "default-src 'none'; frame-ancestors 'none'"


def is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED)


def not_built_page(dist: Path) -> str:
    where = html.escape(str(dist))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Takt: the web app is not built</title></head><body>\n"
        "<h1>Takt is running; its web app is not built</h1>\n"
        f"<p>There is no <code>index.html</code> in <code>{where}</code>. Build the app with "
        "<code>make web</code> (it needs Node.js 20 or later; <code>make run</code> builds it "
        "too), or point <code>TAKT_WEB_DIST</code> at a build, then reload this page.</p>\n"
        '<p>The API is here all the same: <a href="/docs">Swagger UI</a>, '
        '<a href="/redoc">ReDoc</a>, <a href="/openapi.json">the schema</a>.</p>\n'
        "</body></html>\n"
    )


def _wants_html(scope: Scope) -> bool:
    return "text/html" in Headers(scope=scope).get("accept", "")


class WebAppFiles(StaticFiles):
    """Starlette's static files for the build directory, with the app's fallback and caching."""

    def __init__(self, dist: Path) -> None:
        super().__init__(directory=dist, check_dir=False)
        self.dist = dist

    async def get_response(self, path: str, scope: Scope) -> Response:
        relative = path.replace("\\", "/")
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or relative.startswith(ASSETS):
                raise
            if scope["path"] != "/" and not _wants_html(scope):
                raise
            return await self._index(scope)
        is_index = relative == "index.html"
        response.headers["Cache-Control"] = (
            IMMUTABLE if relative.startswith(ASSETS) and response.status_code == 200 else REVALIDATE
        )
        if is_index:
            response.headers["Content-Security-Policy"] = APP_CSP
        return response

    async def _index(self, scope: Scope) -> Response:
        full_path, found = await anyio.to_thread.run_sync(self.lookup_path, "index.html")
        if found is None or not stat.S_ISREG(found.st_mode):
            if scope["path"] == "/":
                return HTMLResponse(
                    not_built_page(self.dist),
                    headers={"Cache-Control": REVALIDATE, "Content-Security-Policy": NOT_BUILT_CSP},
                )
            raise HTTPException(status_code=404)
        response = self.file_response(full_path, found, scope)
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["Vary"] = "Accept"
        response.headers["Content-Security-Policy"] = APP_CSP
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response


def web_app_fallback(dist: Path, not_found: ASGIApp) -> ASGIApp:
    """The router's `default`: the web app for a GET or HEAD outside the reserved paths, else
    `not_found` (the router's own 404)."""
    files = WebAppFiles(dist)

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or is_reserved(scope["path"])
        ):
            await not_found(scope, receive, send)
            return
        response = await files.get_response(files.get_path(scope), scope)
        await response(scope, receive, send)

    return fallback
