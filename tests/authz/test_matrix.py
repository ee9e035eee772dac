"""The authorization matrix: every operation by every kind of caller → the expected status.

Driven by matrix.toml. A route of the app that the file does not list (or a listed one the app
no longer has) fails `test_every_route_is_in_the_matrix`, so new modules must state their rules.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.routes import operation_names
from tests.conftest import empty_all_tables
from tests.delivery.kit import seed_delivery
from tests.deployments.kit import seed_deployments
from tests.estimation.kit import seed_estimation
from tests.incidents.kit import seed_incidents
from tests.readiness.kit import seed_readiness
from tests.retros.kit import seed_retros
from tests.support import (
    KeptRows,
    add_member,
    bearer,
    keep_rows,
    make_pat,
    make_project,
    make_user,
    parents_first,
    put_back,
    seed_work,
)

MATRIX: dict[str, dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "matrix.toml").read_text()
)
ROLES = (
    "anonymous",
    "non_member",
    "viewer",
    "member",
    "project_admin",
    "instance_admin",
    "read_token",
    "limited_token",
    "other_project_token",
)
PROJECT_KEY = "MTX"
# The other project: the project admin administers it too, and both project-limited tokens are
# limited to it, so they must reach nothing of PROJECT_KEY nor anything instance-wide.
OTHER_KEY = "OTH"
ALL_SCOPES = ["read", "write", "admin"]


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = operation_names(app, prefix="/api/v1/")
    missing = routes - MATRIX.keys()
    stale = MATRIX.keys() - routes
    assert not missing, f"routes missing from tests/authz/matrix.toml: {sorted(missing)}"
    assert not stale, f"matrix.toml lists routes the app does not have: {sorted(stale)}"


def test_every_operation_names_every_role() -> None:
    for operation, spec in MATRIX.items():
        assert set(spec["expect"]) == set(ROLES), operation


async def _seed(app: FastAPI, db: Database) -> dict[str, Any]:
    """Fresh callers and a project; returns headers per role and placeholder values."""
    users = {
        name: await make_user(app, db, name, admin=(name == "iadmin"))
        for name in ("stranger", "viewer", "member", "padmin", "iadmin", "target", "extra")
    }
    project_id = await make_project(db, users["padmin"], PROJECT_KEY)
    await add_member(db, project_id, users["viewer"], "viewer")
    await add_member(db, project_id, users["member"], "member")
    await add_member(db, project_id, users["target"], "viewer")
    _, read_secret = await make_pat(app, db, users["padmin"], ["read"])
    other_id = await make_project(db, users["padmin"], OTHER_KEY)
    await add_member(db, other_id, users["extra"], "member")
    _, limited_secret = await make_pat(app, db, users["iadmin"], ALL_SCOPES, [OTHER_KEY])
    _, other_secret = await make_pat(app, db, users["padmin"], ALL_SCOPES, [OTHER_KEY])
    work = await seed_work(app, db, users["padmin"], users["member"], PROJECT_KEY)
    work |= await seed_estimation(
        app, db, users["padmin"], users["member"], PROJECT_KEY, work["item_key"]
    )
    work |= await seed_retros(app, users["padmin"], users["member"], PROJECT_KEY)
    work |= await seed_delivery(
        app, db, users["padmin"], users["member"], PROJECT_KEY, work["item_key"]
    )
    work |= await seed_incidents(app, db, users["padmin"], PROJECT_KEY)
    work |= await seed_deployments(app, db, users["padmin"], PROJECT_KEY, work["item_key"])
    work |= await seed_readiness(db, PROJECT_KEY)
    callers = {
        "non_member": users["stranger"],
        "viewer": users["viewer"],
        "member": users["member"],
        "project_admin": users["padmin"],
        "instance_admin": users["iadmin"],
    }
    headers: dict[str, dict[str, str]] = {role: acc.headers for role, acc in callers.items()}
    headers["read_token"] = bearer(read_secret)
    headers["limited_token"] = bearer(limited_secret)
    headers["other_project_token"] = bearer(other_secret)
    headers["anonymous"] = {}
    token_ids = {role: (await make_pat(app, db, acc, ["read"]))[0] for role, acc in callers.items()}
    token_ids["read_token"] = (await make_pat(app, db, users["padmin"], ["read"]))[0]
    # A project-limited token reaches only tokens within its projects: give it one of those.
    for role, owner in (("limited_token", "iadmin"), ("other_project_token", "padmin")):
        token_ids[role] = (await make_pat(app, db, users[owner], ["read"], [OTHER_KEY]))[0]
    token_ids["anonymous"] = token_ids["project_admin"]
    return {
        "headers": headers,
        "token_ids": token_ids,
        "user_id": users["target"].id,
        "work": work,
        "padmin": users["padmin"],
    }


# Seeding took about half a second, before each of 1,485 cells: half the suite's time. A worker
# seeds once, keeps the rows and puts them back before each cell (the cell's teardown empties
# every table). It seeds anew after a few minutes: well before the seed's access tokens
# (15 minutes) run out, and before its completed sprint's burndown is old enough to be stored
# on a read (sprints/reports.py, FINAL_AFTER: 5 minutes), which a fresh seed never saw.
RESEED_AFTER_SECONDS = 240.0
# A fresh seed leaves these callers' tokens in the app's principal cache (its retros are made
# through the API), so their reads of a project or an item take the direct path
# (core/direct.py); rows put back don't, so each cell after one warms them the same way.
WARM_CALLERS = ("project_admin", "member")


@dataclass(frozen=True)
class _Seeded:
    at: float
    seed: dict[str, Any]
    rows: KeptRows


_seeded: list[_Seeded] = []


async def _seeded_database(app: FastAPI, db: Database, client: AsyncClient) -> dict[str, Any]:
    """The seed of `_seed` in the (empty) database: put back from the worker's kept rows, or
    made anew when there are none yet or they are getting old."""
    now = time.monotonic()
    if _seeded and now - _seeded[0].at < RESEED_AFTER_SECONDS:
        seed = _seeded[0].seed
        await put_back(db, _seeded[0].rows)
        for role in WARM_CALLERS:
            me = await client.get("/api/v1/users/me", headers=seed["headers"][role])
            assert me.status_code == 200, me.text
        return seed
    seed = await _seed(app, db)
    _seeded[:] = [_Seeded(at=now, seed=seed, rows=await keep_rows(db))]
    return seed


async def test_put_back_gives_the_seed_row_for_row(app: FastAPI, db: Database) -> None:
    """What the cells rely on: the rows put back are the seed's, with SQL NULL and JSON null
    told apart and rows that refer to others of their table in order."""
    await _seed(app, db)
    kept = await keep_rows(db)
    await empty_all_tables(db)
    await put_back(db, kept)
    assert _by_table(await keep_rows(db)) == _by_table(kept)
    assert {"retros", "deployments", "sprints", "events"} <= _by_table(kept).keys()
    # Read back in the opposite order, a retro before the one it follows: still put back.
    reversed_rows = KeptRows(
        [(table, parents_first(table, rows[::-1])) for table, rows in kept.tables]
    )
    await empty_all_tables(db)
    await put_back(db, reversed_rows)
    assert _by_table(await keep_rows(db)) == _by_table(kept)


def _by_table(kept: KeptRows) -> dict[str, list[str]]:
    """Each table's rows, in an order of their own (a table's rows come back in any order)."""
    return {
        table.name: sorted(repr(sorted(row.items())) for row in rows) for table, rows in kept.tables
    }


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


CELLS = [(operation, role) for operation in MATRIX for role in ROLES]


@pytest.mark.parametrize(("operation", "role"), CELLS, ids=[f"{o} as {r}" for o, r in CELLS])
async def test_matrix_cell(
    operation: str, role: str, client: AsyncClient, app: FastAPI, db: Database
) -> None:
    spec = MATRIX[operation]
    seed = await _seeded_database(app, db, client)
    if spec.get("setup") == "delete_project":
        deleted = await client.delete(
            f"/api/v1/projects/{PROJECT_KEY}", headers=seed["padmin"].headers
        )
        assert deleted.status_code == 204
    if spec.get("setup") == "trash_item":
        trashed = await client.delete(
            f"/api/v1/items/{seed['work']['other_key']}", headers=seed["padmin"].headers
        )
        assert trashed.status_code == 204
    if spec.get("setup") == "start_sprint":
        started = await client.post(
            f"/api/v1/sprints/{seed['work']['sprint_id']}/start", headers=seed["padmin"].headers
        )
        assert started.status_code == 200
    values = {
        "project_key": PROJECT_KEY,
        "user_id": seed["user_id"],
        "token_id": seed["token_ids"][role],
        **seed["work"],
    }
    method, path = operation.split(" ", 1)
    path = spec.get("path", path)
    response = await client.request(
        method,
        _fill(path, values),
        headers=seed["headers"][role],
        json=_fill(spec.get("json"), values),
        data=_fill(spec.get("form"), values),
        params=_fill(spec.get("params"), values),
    )
    expected = spec["expect"][role]
    assert response.status_code == expected, f"{operation} as {role}: {response.text}"
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
