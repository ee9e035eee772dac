"""Who may report and read deployments: a CI token limited to the project with the write scope
reports; a token limited to another project finds nothing (404); a read-only token reads but
can't report (403); viewers read; strangers see nothing."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import deployed, report
from tests.support import bearer, make_pat, make_project, team


async def test_a_project_limited_write_token_reports_deployments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await make_project(db, people["bob"], "OPS")
    _, ci = await make_pat(app, db, people["bob"], ["write"], projects=["API"])
    created = await report(client, bearer(ci), triggered_by="ci")
    assert created.status_code == 201, created.text
    assert created.json()["reported_by"]["username"] == "bob"
    # The same token can't reach another project of bob's.
    elsewhere = await report(client, bearer(ci), key="OPS")
    assert elsewhere.status_code == 404
    _, ops_only = await make_pat(app, db, people["bob"], ["write"], projects=["OPS"])
    hidden = await client.get(
        f"/api/v1/deployments/{created.json()['id']}", headers=bearer(ops_only)
    )
    assert hidden.status_code == 404
    assert (await report(client, bearer(ops_only))).status_code == 404


async def test_a_read_only_token_reads_but_cannot_report(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    shipped = await deployed(client, people["bob"])
    _, reader = await make_pat(app, db, people["bob"], ["read"], projects=["API"])
    assert (await report(client, bearer(reader))).status_code == 403
    path = f"/api/v1/deployments/{shipped['id']}"
    assert (await client.get(path, headers=bearer(reader))).status_code == 200
    patch = await client.patch(path, json={"version": "x"}, headers=bearer(reader))
    assert patch.status_code == 403


async def test_viewers_read_and_strangers_see_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    shipped = await deployed(client, people["bob"])
    assert (await report(client, people["vic"])).status_code == 403
    path = f"/api/v1/deployments/{shipped['id']}"
    assert (await client.get(path, headers=people["vic"].headers)).status_code == 200
    assert (
        await client.patch(path, json={"version": "x"}, headers=people["vic"].headers)
    ).status_code == 403
    assert (await client.get(path, headers=people["sam"].headers)).status_code == 404
    assert (await report(client, people["sam"])).status_code == 404
