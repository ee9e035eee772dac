"""The recipe of docs/architecture.md, checked where a reader can't see it break: routers build
answers through their domain's views and get lists from their domain's service; the children of
a project in a path load through `projects.service.load_in_project`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "takt"
ROUTERS = sorted(SRC.glob("*/router.py"))
# items' list, board and search are the measured fast path (docs/architecture.md, performance
# section): its router pages and shapes rows itself.
FAST_PATH = {"items"}


def _domain(path: Path) -> str:
    return path.parent.name


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def test_there_are_routers_to_check() -> None:
    assert {"sprints", "projects", "auth", "audit", "events", "workflow"} <= {
        _domain(r) for r in ROUTERS
    }


@pytest.mark.parametrize("router", [r for r in ROUTERS if _domain(r) not in FAST_PATH], ids=_domain)
def test_a_router_gets_its_lists_from_the_service(router: Path) -> None:
    tree = ast.parse(router.read_text())
    paging = [call.lineno for call in _calls(tree) if _name(call) == "paginate"]
    assert paging == [], f"{router.relative_to(SRC)} pages a statement itself (lines {paging})"


@pytest.mark.parametrize("router", [r for r in ROUTERS if _domain(r) not in FAST_PATH], ids=_domain)
def test_a_router_builds_its_answers_through_views(router: Path) -> None:
    tree = ast.parse(router.read_text())
    from_attributes = [
        call.lineno
        for call in _calls(tree)
        if _name(call) == "model_validate"
        and any(k.arg == "from_attributes" for k in call.keywords)
    ]
    readers = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("_read")
    ]
    assert from_attributes == [], (
        f"{router.relative_to(SRC)} validates models (lines {from_attributes})"
    )
    assert readers == [], f"{router.relative_to(SRC)} defines views: {readers}"


@pytest.mark.parametrize("schemas", sorted(SRC.glob("*/schemas.py")), ids=_domain)
def test_schemas_hold_shapes_not_views(schemas: Path) -> None:
    tree = ast.parse(schemas.read_text())
    readers = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("_read")
    ]
    assert readers == [], f"{schemas.relative_to(SRC)} builds responses: {readers}"


def test_children_of_a_project_load_through_the_one_loader() -> None:
    """A `deps.py` that loads a resource of a project by a path value other than the project's
    key goes through `load_in_project` (the E1 detail row of items excepted: it reads columns,
    not entities)."""
    loaders = {_domain(d): d.read_text() for d in SRC.glob("*/deps.py")}
    for domain in ("sprints", "items"):
        assert "load_in_project(" in loaders[domain], domain
    assert "projects.service import load_in_project" in (SRC / "events" / "router.py").read_text()
