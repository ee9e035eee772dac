"""takt.api adds the domain routers' routes to one router instead of including each router
(only the same API while no domain router adds anything of its own at inclusion), and the
app finds a request's route through takt.core.routes.RouteIndex: it must pick what FastAPI's own
routing picks, and every answer must be the same with it and without it."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient
from starlette.routing import compile_path

from takt.api import API_PREFIX, API_ROUTES, DOMAIN_ROUTERS, api_router
from takt.config import Settings
from takt.core.db import Database
from takt.core.routes import RouteIndex
from takt.main import create_app


@pytest.mark.parametrize("router", DOMAIN_ROUTERS, ids=lambda r: r.tags[0] if r.tags else "events")
def test_a_domain_router_adds_nothing_at_inclusion(router: APIRouter) -> None:
    # A prefix, dependencies, default responses or a route class of the router's own would be
    # lost when its routes move to api_router (include_router is where FastAPI applies them).
    assert router.prefix == ""
    assert router.dependencies == []
    assert router.responses == {}
    assert router.route_class is APIRoute
    assert router.callbacks == []
    assert router.deprecated is None
    assert all(isinstance(route, APIRoute) for route in router.routes)


def test_every_domain_route_is_served_once_under_the_prefix() -> None:
    declared = [route for router in DOMAIN_ROUTERS for route in router.routes]
    assert api_router.routes == declared
    assert len({id(route) for route in declared}) == len(declared)
    assert API_PREFIX == "/api/v1"


# The route index (takt.core.routes.RouteIndex) ------------------------------------------------


def _sample(template: str) -> str:
    """A concrete path for a route template: each parameter becomes a value it accepts."""
    return re.sub(r"\{[^}:]+(:int)?\}", lambda m: "7" if m.group(1) else "x7", template)


def _first_match(routes: list[APIRoute], path: str, method: str) -> APIRoute | None:
    """The route FastAPI's own routing picks: the first in declaration order whose template
    matches the path and that takes the method."""
    for route in routes:
        regex = compile_path(API_PREFIX + route.path)[0]
        if regex.match(path) and method in (route.methods or set()):
            return route
    return None


def test_the_index_picks_what_fastapi_would_for_every_operation() -> None:
    index = RouteIndex(API_PREFIX, API_ROUTES, APIRouter())
    routes = API_ROUTES
    for route in routes:
        path = _sample(API_PREFIX + route.path)
        candidates = [routes[p] for p in index.candidates(path)]
        assert route in candidates, path
        for method in route.methods or ():
            assert _first_match(candidates, path, method) is _first_match(routes, path, method)


def test_a_path_no_route_could_match_is_left_to_fastapi() -> None:
    index = RouteIndex(API_PREFIX, API_ROUTES, APIRouter())
    assert index.candidates("/api/v1/no-such-thing/x7") == ()
    assert index.candidates("/api/v1/projects/") == ()  # a trailing slash: FastAPI redirects
    assert index.candidates("/api/v1/projects//items") == ()


@pytest.fixture
def apps(settings: Settings, db: Database) -> tuple[FastAPI, FastAPI]:
    """The app, and the same app routing every request through FastAPI's routing alone."""
    indexed = create_app(settings, database=db)
    plain = create_app(settings, database=db)
    plain.router.routes[:] = [r for r in plain.router.routes if not isinstance(r, RouteIndex)]
    assert len(plain.router.routes) == len(indexed.router.routes) - 1
    return indexed, plain


def _requests() -> list[tuple[str, str]]:
    """Every operation's sample path with every method, trailing slashes, unknown paths."""
    paths = {_sample(API_PREFIX + route.path) for route in API_ROUTES}
    paths |= {p + "/" for p in list(paths)}
    paths |= {"/api/v1/nothing", "/api/v1/projects/x7/nothing", "/api/v1", "/api/v1/", "/"}
    methods = ("GET", "POST", "PATCH", "PUT", "DELETE")
    return [(method, path) for path in sorted(paths) for method in methods]


async def test_every_request_gets_the_same_answer_with_and_without_the_index(
    apps: tuple[FastAPI, FastAPI],
) -> None:
    indexed, plain = apps
    transports = [ASGITransport(app=app) for app in (indexed, plain)]
    async with (
        AsyncClient(transport=transports[0], base_url="http://test") as with_index,
        AsyncClient(transport=transports[1], base_url="http://test") as without,
    ):
        for method, path in _requests():
            got = await with_index.request(method, path)
            expected = await without.request(method, path)
            assert (got.status_code, got.headers.get("location"), got.headers.get("allow")) == (
                expected.status_code,
                expected.headers.get("location"),
                expected.headers.get("allow"),
            ), (method, path)
            if got.headers.get("content-type", "").endswith("json"):
                got_body, expected_body = got.json(), expected.json()
                if isinstance(got_body, dict):
                    got_body.pop("request_id", None)
                    expected_body.pop("request_id", None)
                assert got_body == expected_body, (method, path)
