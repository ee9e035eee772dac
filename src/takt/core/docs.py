"""Swagger UI at `/docs` and ReDoc at `/redoc`, served with their scripts from Takt itself.

FastAPI's own pages load their scripts, styles and fonts from CDNs, so an install without
internet access shows blank pages. The assets come from the `fastapi-offline` package (it ships
the Swagger UI and ReDoc distribution builds; we use its files, not its app factory) and are
served under `/docs/assets/`; neither page names another host.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

from takt.core.errors import NotFound

ASSET_PREFIX = "/docs/assets"

# Swagger UI's Authorize dialog draws client_id, client_secret and "client credentials location"
# for every OAuth2 password flow; Takt's token endpoint takes neither, so they only confuse.
# Each row is a `div.wrapper` whose label names its input.
SWAGGER_CSS = b"""\
.auth-container .wrapper:has(> label[for="client_id_password"]),
.auth-container .wrapper:has(> label[for="client_secret_password"]),
.auth-container .wrapper:has(> label[for="password_type"]) { display: none; }
"""

_VENDOR = files("fastapi_offline") / "static"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
# name served -> (file in the package, or None for Takt's own bytes above)
_ASSETS: dict[str, Traversable | None] = {
    "swagger-ui-bundle.js": _VENDOR / "swagger-ui-bundle.js",
    "swagger-ui.css": _VENDOR / "swagger-ui.css",
    "redoc.standalone.js": _VENDOR / "redoc.standalone.js",
    "favicon.png": _VENDOR / "favicon.png",
    "takt-swagger.css": None,
}
SWAGGER_UI_PARAMETERS: dict[str, Any] = {
    "persistAuthorization": True,
    # Swagger UI would otherwise send the schema to validator.swagger.io for a badge.
    "validatorUrl": None,
}


def asset_names() -> list[str]:
    return list(_ASSETS)


def _asset_bytes(name: str) -> bytes:
    source = _ASSETS[name]
    return SWAGGER_CSS if source is None else source.read_bytes()


def install_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Add `/docs`, `/redoc` and their assets to `app` (created with `docs_url=None` and
    `redoc_url=None`), all left out of the schema."""
    cache: dict[str, bytes] = {}

    def asset_url(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSET_PREFIX}/{name}"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=request.scope.get("root_path", "") + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=asset_url(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset_url(request, "swagger-ui.css"),
            swagger_favicon_url=asset_url(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
        own_css = f'<link rel="stylesheet" href="{asset_url(request, "takt-swagger.css")}">'
        return HTMLResponse(bytes(page.body).decode().replace("</head>", f"{own_css}\n</head>", 1))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=request.scope.get("root_path", "") + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset_url(request, "redoc.standalone.js"),
            redoc_favicon_url=asset_url(request, "favicon.png"),
            with_google_fonts=False,
        )

    @app.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        if name not in _ASSETS:
            raise NotFound(f"No documentation asset {name!r}.")
        if name not in cache:
            cache[name] = _asset_bytes(name)
        suffix = name[name.rfind(".") :]
        return Response(
            cache[name],
            media_type=_MEDIA_TYPES[suffix],
            headers={"Cache-Control": "public, max-age=86400"},
        )
