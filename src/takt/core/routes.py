"""Enumerate an app's operations, including those of included routers (FastAPI keeps included
routers nested, so `app.routes` alone does not list them)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


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
