"""The workflow's rules hold when admins change it at the same time (each request its own
transaction; on PostgreSQL they really overlap, on SQLite writes take turns)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import insert, select

from takt.core.db import Database
from takt.projects.models import Project
from takt.workflow.models import Label
from takt.workflow.service import MAX_LABELS, MAX_STATUSES
from tests.support import team

BASE = "/api/v1/projects/API"


async def test_concurrent_deletes_keep_one_status(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    statuses = (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    answers = await asyncio.gather(
        *(client.delete(f"{BASE}/statuses/{s['id']}", headers=ada.headers) for s in statuses)
    )
    assert sorted(a.status_code for a in answers) == [204] * (len(statuses) - 1) + [409]
    left = (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    assert len(left) == 1
    assert left[0]["position"] == 0


async def test_concurrent_creates_stop_at_the_status_limit_with_distinct_positions(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    have = len((await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"])
    for n in range(MAX_STATUSES - have - 2):
        made = await client.post(
            f"{BASE}/statuses", json={"name": f"Step {n}", "category": "todo"}, headers=ada.headers
        )
        assert made.status_code == 201, made.text
    answers = await asyncio.gather(
        *(
            client.post(
                f"{BASE}/statuses",
                json={"name": f"Late {n}", "category": "todo"},
                headers=ada.headers,
            )
            for n in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 201] + [409] * 4
    left = (await client.get(f"{BASE}/statuses", headers=ada.headers)).json()["data"]
    assert len(left) == MAX_STATUSES
    assert sorted(s["position"] for s in left) == list(range(MAX_STATUSES))


async def test_concurrent_status_names_differing_in_case_make_one_status(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    answers = await asyncio.gather(
        *(
            client.post(
                f"{BASE}/statuses", json={"name": name, "category": "todo"}, headers=ada.headers
            )
            for name in ("Prüfung", "PRÜFUNG", "prüfung", "PrÜfung")
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]


async def test_concurrent_label_names_differing_in_case_make_one_label(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    answers = await asyncio.gather(
        *(
            client.post(f"{BASE}/labels", json={"name": name}, headers=ada.headers)
            for name in ("Übersetzung", "ÜBERSETZUNG", "übersetzung", "ÜberSetzung")
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    labels = (await client.get(f"{BASE}/labels", headers=ada.headers)).json()["data"]
    assert [label["name"].lower() for label in labels].count("übersetzung") == 1


async def test_concurrent_renames_to_one_name_in_two_cases_leave_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    made = [
        (
            await client.post(f"{BASE}/labels", json={"name": f"label {n}"}, headers=ada.headers)
        ).json()
        for n in range(4)
    ]
    answers = await asyncio.gather(
        *(
            client.patch(f"{BASE}/labels/{label['id']}", json={"name": name}, headers=ada.headers)
            for label, name in zip(made, ("Urgent", "URGENT", "urgent", "UrGeNt"), strict=True)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]


async def test_concurrent_label_creates_stop_at_the_limit(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    have = len((await client.get(f"{BASE}/labels", headers=ada.headers)).json()["data"])
    async with db.transaction() as session:
        project_id = await session.scalar(select(Project.id).where(Project.key == "API"))
        await session.execute(
            insert(Label),
            [
                {"project_id": project_id, "name": f"seeded {n}", "color": "#336699"}
                for n in range(MAX_LABELS - have - 2)
            ],
        )
    answers = await asyncio.gather(
        *(
            client.post(f"{BASE}/labels", json={"name": f"late {n}"}, headers=ada.headers)
            for n in range(6)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 201] + [409] * 4
    labels = (await client.get(f"{BASE}/labels", headers=ada.headers)).json()["data"]
    assert len(labels) == MAX_LABELS
