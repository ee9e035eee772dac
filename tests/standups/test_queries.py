"""The summary and the draft cost a fixed number of statements, whatever the size of the team,
the number of open blockers or of the member's events."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.standups.kit import call, day_url, ok, submit, utc
from tests.support import Account, QueryCounter, add_member, make_user, new_item, team

MONDAY = "2026-11-16"


async def _grow(
    client: AsyncClient, app: FastAPI, db: Database, people: dict[str, Account], n: int
) -> None:
    """n more members, each with an entry, an item and an open blocker on it."""
    project = ok(await client.get("/api/v1/projects/API", headers=people["ada"].headers))
    for _ in range(n):
        name = f"m{len(people)}"
        people[name] = who = await make_user(app, db, name)
        await add_member(db, project["id"], who, "member")
        key = (await new_item(client, who, assignee=name))["key"]
        body = {"item_key": key, "reason": "x", "waiting_on": {"kind": "team", "name": "Ops"}}
        ok(
            await call(
                client,
                who,
                "POST",
                "/api/v1/projects/API/blockers",
                at=utc(2026, 11, 13),
                json=body,
            ),
            201,
        )
        ok(await submit(client, who, MONDAY, at=utc(2026, 11, 16, 9), blocked=True))


async def _statements(client: AsyncClient, db: Database, who: Account, url: str) -> int:
    await call(client, who, "GET", url, at=utc(2026, 11, 16, 9, 30))  # warm the principal
    with QueryCounter(db) as counter:
        ok(await call(client, who, "GET", url, at=utc(2026, 11, 16, 9, 30)))
    return counter.count


async def test_the_summary_reads_no_row_per_member_or_blocker(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await _grow(client, app, db, people, 1)
    small = await _statements(client, db, people["vic"], day_url(MONDAY))
    await _grow(client, app, db, people, 6)
    large = await _statements(client, db, people["vic"], day_url(MONDAY))
    summary = ok(
        await call(client, people["vic"], "GET", day_url(MONDAY), at=utc(2026, 11, 16, 9, 30))
    )
    assert len(summary["entries"]) == 7
    assert summary["open_blocker_count"] == 7
    assert large == small, large
    assert large <= 12, large


async def test_the_draft_reads_no_row_per_event_or_item(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    url = day_url(MONDAY, "/draft")

    async def work(count: int) -> None:
        for _ in range(count):
            key = (await new_item(client, bob, assignee="bob"))["key"]
            for status in ("In Progress", "In Review"):
                moved = await call(
                    client,
                    bob,
                    "PATCH",
                    f"/api/v1/items/{key}",
                    at=utc(2026, 11, 13, 10),
                    json={"status": status},
                )
                ok(moved)
            ok(
                await call(
                    client,
                    bob,
                    "POST",
                    f"/api/v1/items/{key}/comments",
                    at=utc(2026, 11, 13, 11),
                    json={"body": "hm"},
                ),
                201,
            )

    await work(1)
    small = await _statements(client, db, bob, url)
    await work(8)
    large = await _statements(client, db, bob, url)
    draft = ok(await call(client, bob, "GET", url, at=utc(2026, 11, 16, 9, 30)))
    assert len([line for line in draft["lines"] if line["kind"] == "in_progress"]) == 9
    assert large == small, large
    assert large <= 14, large
