"""The sprint in a `/sprints/{id}` path is found through its project's visibility rule, by the
one loader every child of a project uses (`projects.service.load_in_project`): one statement,
and a sprint the caller can't reach answers exactly like one that doesn't exist."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import Account, QueryCounter, bearer, make_pat, make_project, team


async def _sprint(client: AsyncClient, who: Account, key: str = "API") -> dict[str, Any]:
    made = await client.post(
        f"/api/v1/projects/{key}/sprints",
        json={"name": "S1", "start_date": "2026-03-02", "end_date": "2026-03-13"},
        headers=who.headers,
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def test_the_sprint_in_the_path_and_its_project_are_loaded_in_one_statement(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint = await _sprint(client, ada)
    path = f"/api/v1/sprints/{sprint['id']}"
    first = await client.get(path, headers=ada.headers)  # warms the caller's principal
    assert first.status_code == 200
    with QueryCounter(db) as counter:
        unchanged = await client.get(
            path, headers={**ada.headers, "If-None-Match": first.headers["ETag"]}
        )
    assert unchanged.status_code == 304
    assert counter.count == 1, counter.statements
    with QueryCounter(db) as counter:
        report = await client.get(f"{path}/report", headers=ada.headers)
    assert report.status_code == 409  # planned: no report yet, decided on the loaded sprint
    assert counter.count == 1, counter.statements


async def test_a_sprint_of_a_project_you_cannot_see_answers_like_an_unknown_sprint(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    sprint = await _sprint(client, people["ada"])
    unknown = await client.get("/api/v1/sprints/no-such-sprint", headers=people["sam"].headers)
    hidden = await client.get(f"/api/v1/sprints/{sprint['id']}", headers=people["sam"].headers)
    assert unknown.status_code == hidden.status_code == 404
    assert hidden.json()["detail"] == unknown.json()["detail"]
    # A write by a stranger is a 404 as well, never a 403 that would confirm the sprint exists.
    started = await client.post(
        f"/api/v1/sprints/{sprint['id']}/start", headers=people["sam"].headers
    )
    assert started.status_code == 404
    # A viewer sees the sprint and is refused the write.
    seen = await client.get(f"/api/v1/sprints/{sprint['id']}", headers=people["vic"].headers)
    assert seen.status_code == 200
    refused = await client.post(
        f"/api/v1/sprints/{sprint['id']}/start", headers=people["vic"].headers
    )
    assert refused.status_code == 403


async def test_a_project_limited_token_reaches_only_the_sprints_of_its_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await make_project(db, ada, "OPS")
    api_sprint = await _sprint(client, ada)
    ops_sprint = await _sprint(client, ada, "OPS")
    _, secret = await make_pat(app, db, ada, ["read"], projects=["OPS"])
    limited = bearer(secret)
    assert (
        await client.get(f"/api/v1/sprints/{ops_sprint['id']}", headers=limited)
    ).status_code == 200
    assert (
        await client.get(f"/api/v1/sprints/{api_sprint['id']}", headers=limited)
    ).status_code == 404


async def test_a_sprint_of_a_deleted_project_is_not_found(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint = await _sprint(client, ada)
    deleted = await client.delete("/api/v1/projects/API", headers=ada.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/sprints/{sprint['id']}", headers=ada.headers)
    assert gone.status_code == 404
