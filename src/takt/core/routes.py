"""Enumerate an app's operations, including those of included routers (FastAPI keeps included
routers nested, so `app.routes` alone does not list them), and find a request's route by its
path segments (`RouteIndex`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send


def iter_operations(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, full path template, included in the schema) for every API operation."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        include = bool(getattr(context, "include_in_schema", True))
        for method in sorted(context.methods or ()):
            yield method, context.path or "", include


def operation_names(app: FastAPI, *, prefix: str = "") -> set[str]:
    """`"METHOD /path"` for every documented operation whose path starts with `prefix`."""
    return {
        f"{method} {path}"
        for method, path, include in iter_operations(app)
        if include and path.startswith(prefix)
    }


# The route index ------------------------------------------------------------------------------

# Scope keys: the candidates `matches` found (for `handle`), and that the index was tried.
_INDEX_POSITIONS = "takt.route_index.positions"
_INDEX_TRIED = "takt.route_index.tried"


@dataclass
class _Node:
    """One path segment of the index: its literal children, its parameter child, and the
    routes (by declaration order) whose template ends here."""

    literal: dict[str, _Node] = field(default_factory=dict)
    parameter: _Node | None = None
    ends: list[int] = field(default_factory=list)


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _is_parameter(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}") and segment.count("{") == 1


class RouteIndex(BaseRoute):
    """The API's routes found by their path segments instead of one after the other.

    FastAPI (0.165) finds a request's route by trying each route's pattern in declaration
    order, twice (once to match, once more to hand the request down), with several Python calls
    per route tried: a list of items, the 38th of 165 API routes, spent about a sixth of its
    CPU there (bench/RESULTS.md, issue 19). This route sits in the app's router before the API's
    own router. It looks the path up in a tree of the routes' path segments (a parameter segment
    matches any segment), which gives the few routes that could match, and hands the request to
    a router holding only those, in their declaration order, so the first that matches is the
    one FastAPI would have chosen among all of them. Everything that could behave differently
    is left to FastAPI's own routing, unchanged: a path no route could match is not claimed
    here, and when the candidates turn out not to match (a 404, or a trailing slash to
    redirect), the request goes through the app's router again with this route skipped."""

    # Not an operation of its own: the routes it finds are listed (and documented) through the
    # API's router, which stays in the app.
    include_in_schema = False

    def __init__(self, prefix: str, routes: Sequence[APIRoute], app_router: APIRouter) -> None:
        self.routes = list(routes)
        self.prefix = prefix
        self.app_router = app_router
        self.root = _Node()
        # Templates the tree can't place (a segment mixing text and a parameter, a `path`
        # parameter spanning segments) are candidates for every path.
        self.everywhere: list[int] = []
        for position, route in enumerate(self.routes):
            template = prefix + route.path
            if ":path}" in template or any(
                "{" in s and not _is_parameter(s) for s in _segments(template)
            ):
                self.everywhere.append(position)
                continue
            node = self.root
            for segment in _segments(template):
                if _is_parameter(segment):
                    node.parameter = node.parameter or _Node()
                    node = node.parameter
                else:
                    node = node.literal.setdefault(segment, _Node())
            node.ends.append(position)
        self.routers: dict[tuple[int, ...], APIRouter] = {}

    def candidates(self, path: str) -> tuple[int, ...]:
        """The positions, in declaration order, of the routes whose template could match."""
        found = list(self.everywhere)
        segments = path[1:].split("/")
        nodes = [self.root]
        for segment in segments:
            if not segment:
                return ()  # an empty segment (`//`, a trailing `/`): FastAPI's routing decides
            step: list[_Node] = []
            for node in nodes:
                child = node.literal.get(segment)
                if child is not None:
                    step.append(child)
                if node.parameter is not None:
                    step.append(node.parameter)
            nodes = step
            if not nodes:
                break
        for node in nodes:
            found.extend(node.ends)
        return tuple(sorted(found))

    def _router_for(self, positions: tuple[int, ...]) -> APIRouter:
        router = self.routers.get(positions)
        if router is None:
            chosen = APIRouter()
            chosen.routes.extend(self.routes[p] for p in positions)
            router = APIRouter(redirect_slashes=False, default=self._route_again)
            router.include_router(chosen, prefix=self.prefix)
            self.routers[positions] = router
        return router

    async def _route_again(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_INDEX_TRIED] = True
        await self.app_router.app(scope, receive, send)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or _INDEX_TRIED in scope:
            return Match.NONE, {}
        path = get_route_path(scope)
        if not path.startswith(self.prefix + "/"):
            return Match.NONE, {}
        positions = self.candidates(path)
        if not positions:
            return Match.NONE, {}
        return Match.FULL, {_INDEX_POSITIONS: positions}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        positions: tuple[int, ...] = scope.pop(_INDEX_POSITIONS)
        await self._router_for(positions).app(scope, receive, send)
