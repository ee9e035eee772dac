"""Concurrent submissions of one member's entry leave one entry (the database decides)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.standups.models import StandupEntry
from tests.standups.kit import submit, utc
from tests.support import team


async def test_concurrent_puts_of_one_entry_leave_one_entry(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    at = utc(2026, 11, 25, 8)
    responses = await asyncio.gather(
        *(
            submit(client, bob, "2026-11-25", at=at, answers={"today": f"take {n}"})
            for n in range(6)
        )
    )
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    async with db.transaction(write=False) as session:
        entries = list(await session.scalars(select(StandupEntry)))
    assert len(entries) == 1
    assert entries[0].version == 6  # each write applied once, one after the other
    assert sorted(r.json()["version"] for r in responses) == [1, 2, 3, 4, 5, 6]
    assert {r.json()["id"] for r in responses} == {entries[0].id}
    assert entries[0].answers["today"] in {f"take {n}" for n in range(6)}


async def test_concurrent_first_configs_all_apply(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    responses = await asyncio.gather(
        *(
            client.put(
                "/api/v1/projects/API/standup-config",
                json={"cutoff": f"0{n}:00"},
                headers=ada.headers,
            )
            for n in range(4)
        )
    )
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    assert sorted(r.json()["version"] for r in responses) == [1, 2, 3, 4]
