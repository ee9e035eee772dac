"""The register's rules hold when requests race (each request its own transaction; on
PostgreSQL they really overlap, on SQLite writes take turns): a blocker is promoted only while
open and to one risk at a time, a risk is deleted once, a stale If-Match loses. (Two promotions
of one blocker at once: tests/blockers/test_concurrency.py.)"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.events import Event
from takt.risks.models import Risk
from tests.blockers.kit import an_item, raise_on
from tests.support import team


async def _log(db: Database, *types: str) -> list[str]:
    async with db.transaction() as session:
        return list(
            await session.scalars(
                select(Event.type).where(Event.type.in_(types)).order_by(Event.seq)
            )
        )


async def _risks_of(db: Database, blocker_id: str) -> list[str]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Risk.id).where(Risk.blocker_id == blocker_id)))


async def test_a_blocker_resolved_while_it_is_promoted_is_promoted_only_while_open(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Promoted first, then resolved: both go through. Resolved first: the promotion is
    refused (409 blocker-not-open). Never a promotion after the resolution."""
    bob = (await team(app, db))["bob"]
    for _ in range(3):
        blocker = await raise_on(client, bob, await an_item(client, bob))
        resolved, promoted = await asyncio.gather(
            client.post(f"/api/v1/blockers/{blocker['id']}/resolve", headers=bob.headers),
            client.post(f"/api/v1/blockers/{blocker['id']}/promote", headers=bob.headers),
        )
        assert resolved.status_code == 200, resolved.text
        assert promoted.status_code in (201, 409), promoted.text
        if promoted.status_code == 409:
            assert promoted.json()["code"] == "blocker-not-open"
            assert await _risks_of(db, blocker["id"]) == []
    # Each promotion that went through came before its blocker's resolution.
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(Event.type, Event.subject_id)
                .where(Event.type.in_(["blocker.promoted", "blocker.resolved"]))
                .order_by(Event.seq)
            )
        ).all()
    resolved_ids: set[str] = set()
    for type_, subject in rows:
        if type_ == "blocker.resolved":
            resolved_ids.add(str(subject))
        else:
            assert str(subject) not in resolved_ids


async def test_a_risk_deleted_while_its_blocker_is_promoted_again_leaves_one_risk(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Deleted first, the blocker is free and promoted again; promoted first, the blocker still
    names the risk (409 blocker-already-promoted) until it is deleted. Either way the blocker
    names the one risk made from it, or none."""
    bob = (await team(app, db))["bob"]
    for _ in range(3):
        blocker = await raise_on(client, bob, await an_item(client, bob))
        url = f"/api/v1/blockers/{blocker['id']}"
        first = await client.post(f"{url}/promote", headers=bob.headers)
        assert first.status_code == 201, first.text
        deleted, promoted = await asyncio.gather(
            client.delete(f"/api/v1/risks/{first.json()['id']}", headers=bob.headers),
            client.post(f"{url}/promote", headers=bob.headers),
        )
        assert deleted.status_code == 204, deleted.text
        assert promoted.status_code in (201, 409), promoted.text
        risks = await _risks_of(db, blocker["id"])
        named = (await client.get(url, headers=bob.headers)).json()["risk_id"]
        if promoted.status_code == 201:
            assert risks == [promoted.json()["id"]] == [named]
        else:
            assert promoted.json()["code"] == "blocker-already-promoted"
            assert risks == []
            assert named is None


async def test_concurrent_deletes_of_one_risk_delete_it_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocker = await raise_on(client, bob, await an_item(client, bob))
    risk = await client.post(f"/api/v1/blockers/{blocker['id']}/promote", headers=bob.headers)
    assert risk.status_code == 201, risk.text
    answers = await asyncio.gather(
        *(
            client.delete(f"/api/v1/risks/{risk.json()['id']}", headers=bob.headers)
            for _ in range(4)
        )
    )
    codes = sorted(a.status_code for a in answers)
    # The others find it gone: 404, or 412 when it went while they held their copy.
    assert codes[0] == 204, [a.text for a in answers]
    assert set(codes[1:]) <= {404, 412}, [a.text for a in answers]
    assert await _log(db, "risk.deleted") == ["risk.deleted"]
    # The blocker stopped naming it once.
    async with db.transaction() as session:
        forgot = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "blocker.updated")
        )
        assert await session.scalar(select(func.count()).select_from(Risk)) == 0
    assert forgot == 1


async def test_concurrent_changes_with_one_etag_make_one_winner(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    made = await client.post(
        "/api/v1/projects/API/risks",
        json={"title": "Fees rise", "likelihood": 2, "impact": 2},
        headers=bob.headers,
    )
    url = f"/api/v1/risks/{made.json()['id']}"
    etag = (await client.get(url, headers=bob.headers)).headers["etag"]
    answers = await asyncio.gather(
        *(
            client.patch(url, json={"impact": n}, headers={**bob.headers, "If-Match": etag})
            for n in (1, 3, 4, 5)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 412, 412, 412], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await client.get(url, headers=bob.headers)).json()["impact"] == winner["impact"]
    assert await _log(db, "risk.updated") == ["risk.updated"]
