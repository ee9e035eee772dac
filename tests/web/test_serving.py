"""Takt serves the built web app at `/` (takt.ops.web): files of the build with the right
caching, `index.html` for the app's own paths, never in place of an API or operations answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from takt.config import Settings
from takt.core.db import Database
from takt.main import create_app

INDEX = (
    '<!doctype html><html><head><script type="module" crossorigin src="/assets/index-4f2a9c.js">'
    '</script><link rel="stylesheet" href="/assets/index-77b1e0.css"></head>'
    '<body><div id="root"></div></body></html>'
)
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def build(dist: Path) -> Path:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-4f2a9c.js").write_text("console.log('takt')")
    (dist / "assets" / "index-77b1e0.css").write_text("body{margin:0}")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return dist


def app_for(settings: Settings, db: Database, dist: Path) -> FastAPI:
    return create_app(settings.model_copy(update={"web_dist": dist}), database=db)


async def client_of(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://localhost") as c:
        yield c


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("web") / "dist")


@pytest.fixture(scope="module")
def built_app(settings: Settings, db: Database, dist: Path) -> FastAPI:
    return app_for(settings, db, dist)


@pytest.fixture(scope="module")
def unbuilt_app(
    settings: Settings, db: Database, tmp_path_factory: pytest.TempPathFactory
) -> FastAPI:
    return app_for(settings, db, tmp_path_factory.mktemp("web") / "no-such-dist")


@pytest.fixture
async def built(built_app: FastAPI, db: Database) -> AsyncIterator[AsyncClient]:
    async for client in client_of(built_app):
        yield client


@pytest.fixture
async def unbuilt(unbuilt_app: FastAPI, db: Database) -> AsyncIterator[AsyncClient]:
    async for client in client_of(unbuilt_app):
        yield client


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", ["/", "/index.html", "/projects/DEMO/board", "/items/DEMO-12"])
async def test_the_app_is_served_for_its_own_paths(built: AsyncClient, path: str) -> None:
    response = await built.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


async def test_the_app_page_has_a_strict_content_security_policy(built: AsyncClient) -> None:
    response = await built.get("/sprints", headers=BROWSER)
    csp = csp_directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]  # no inline or evaluated script
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert all("unsafe-eval" not in v for values in csp.values() for v in values)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_hashed_assets_are_cached_for_good_others_revalidated(built: AsyncClient) -> None:
    script = await built.get("/assets/index-4f2a9c.js")
    assert script.status_code == 200
    assert script.text == "console.log('takt')"
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    style = await built.get("/assets/index-77b1e0.css")
    assert style.headers["content-type"].startswith("text/css")
    icon = await built.get("/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == "no-cache"
    again = await built.get("/favicon.svg", headers={"If-None-Match": icon.headers["etag"]})
    assert again.status_code == 304


async def test_index_is_revalidated_by_etag(built: AsyncClient) -> None:
    first = await built.get("/", headers=BROWSER)
    again = await built.get("/", headers={**BROWSER, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_a_missing_asset_is_a_404_not_the_page(built: AsyncClient) -> None:
    response = await built.get("/assets/index-000000.js", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-thing",
        "/api/v1/projects/NOPE/no-such-child",
        "/api/v2/projects",
        "/api",
        "/problems/no-such-code",
        "/docs/assets/no-such-file.js",
        "/metrics/extra",
        "/healthz/extra",
        "/openapi.json/extra",
    ],
)
async def test_the_app_never_shadows_an_api_or_operations_404(
    built: AsyncClient, path: str
) -> None:
    response = await built.get(path, headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not-found"


async def test_api_and_operations_paths_keep_their_answers(built: AsyncClient) -> None:
    assert (await built.get("/healthz", headers=BROWSER)).json() == {"status": "ok"}
    assert (await built.get("/openapi.json")).json()["info"]["title"] == "Takt API"
    docs = await built.get("/docs", headers=BROWSER)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    me = await built.get("/api/v1/users/me", headers=BROWSER)
    assert me.status_code == 401
    assert me.headers["content-type"] == "application/problem+json"


async def test_other_methods_on_app_paths_are_404_problems(built: AsyncClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = await built.request(method, "/projects/DEMO/board", headers=BROWSER)
        assert response.status_code == 404, method
        assert response.headers["content-type"] == "application/problem+json"
    head = await built.head("/projects/DEMO/board", headers=BROWSER)
    assert head.status_code == 200
    assert head.content == b""


async def test_a_client_that_asks_for_no_html_gets_the_404_problem(built: AsyncClient) -> None:
    """curl or an API client with a wrong URL: a problem it can read, not the app's page."""
    for accept in ("*/*", "application/json"):
        response = await built.get("/nowhere", headers={"Accept": accept})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    root = await built.get("/", headers={"Accept": "*/*"})
    assert root.status_code == 200
    assert root.text == INDEX


@pytest.mark.parametrize(
    "path", ["/..%2f..%2fpyproject.toml", "/assets/..%2f..%2fsecret", "/%2e%2e/%2e%2e/etc/passwd"]
)
async def test_paths_can_not_leave_the_build(built: AsyncClient, dist: Path, path: str) -> None:
    (dist.parent / "secret").write_text("do not serve")
    response = await built.get(path, headers=BROWSER)
    assert "do not serve" not in response.text
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.text == INDEX


async def test_without_a_build_the_root_says_how_to_build_it(unbuilt: AsyncClient) -> None:
    response = await unbuilt.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "make web" in response.text
    assert "<script" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    other = await unbuilt.get("/projects", headers=BROWSER)
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    api = await unbuilt.get("/api/v1/nope")
    assert api.status_code == 404
    assert api.json()["code"] == "not-found"


async def test_a_build_made_while_serving_is_served_without_a_restart(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    later = tmp_path / "later"
    async for client in client_of(app_for(settings, db, later)):
        assert "make web" in (await client.get("/", headers=BROWSER)).text
        build(later)
        assert (await client.get("/", headers=BROWSER)).text == INDEX
