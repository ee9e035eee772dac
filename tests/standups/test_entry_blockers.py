"""Structured blockers in an entry become real blockers of the project."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.standups.kit import call, day_url, ok, submit, utc
from tests.support import new_item, team

WEDNESDAY = "2026-11-25"


def _blocker(key: str, reason: str = "Sandbox down") -> dict[str, object]:
    return {"item_key": key, "reason": reason, "waiting_on": {"kind": "external", "name": "Bank"}}


async def test_an_entry_raises_its_blockers_and_flags_the_items(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = (await new_item(client, bob))["key"]
    at = utc(2026, 11, 25, 8)
    entry = ok(await submit(client, bob, WEDNESDAY, at=at, blockers=[_blocker(key)]))
    assert entry["blocked"] is True  # a structured blocker means blocked
    assert len(entry["blocker_ids"]) == 1
    blocker = ok(
        await client.get(f"/api/v1/blockers/{entry['blocker_ids'][0]}", headers=bob.headers)
    )
    assert blocker["item_key"] == key
    assert blocker["status"] == "open"
    assert blocker["raised_by"]["username"] == "bob"
    item = ok(await client.get(f"/api/v1/items/{key}", headers=bob.headers))
    assert item["blocked"] is True


async def test_submitting_the_same_blocker_again_raises_nothing_new(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    first, second = (await new_item(client, bob))["key"], (await new_item(client, bob))["key"]
    at = utc(2026, 11, 25, 8)
    once = ok(await submit(client, bob, WEDNESDAY, at=at, blockers=[_blocker(first)]))
    again = ok(
        await submit(
            client, bob, WEDNESDAY, at=at, blockers=[_blocker(first), _blocker(second, "No spec")]
        )
    )
    assert again["blocker_ids"][0] == once["blocker_ids"][0]
    assert len(again["blocker_ids"]) == 2
    assert again["version"] == 2  # one write, one version
    listed = ok(
        await client.get(
            "/api/v1/projects/API/blockers", params={"state": "open"}, headers=bob.headers
        )
    )
    assert sorted(b["item_key"] for b in listed["data"]) == sorted([first, second])
    # Resolved since, and named again: the work is stuck again, a new blocker.
    resolved = await client.post(
        f"/api/v1/blockers/{once['blocker_ids'][0]}/resolve", json={}, headers=bob.headers
    )
    assert resolved.status_code == 200, resolved.text
    third = ok(await submit(client, bob, WEDNESDAY, at=at, blockers=[_blocker(first)]))
    assert len(third["blocker_ids"]) == 3


async def test_a_blocker_on_an_unknown_item_is_422_at_its_place_and_nothing_is_kept(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = (await new_item(client, bob))["key"]
    at = utc(2026, 11, 25, 8)
    response = await submit(
        client, bob, WEDNESDAY, at=at, blockers=[_blocker(key), _blocker("API-999")]
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/blockers/1/item_key"
    item = ok(await client.get(f"/api/v1/items/{key}", headers=bob.headers))
    assert item["blocked"] is False  # the whole write rolled back
    draft = ok(await call(client, bob, "GET", day_url(WEDNESDAY, "/draft"), at=at))
    assert draft["entry"] is None


async def test_an_entry_raises_at_most_fifty_blockers_in_all(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Each submission may name ten blockers, and the entry keeps the ids of every blocker it
    raised (its answer and every `standup.entry_submitted` carry them all): without a bound in
    all, resubmitting the day's entry with new reasons grew both without end."""
    bob = (await team(app, db))["bob"]
    key = (await new_item(client, bob))["key"]
    at = utc(2026, 11, 25, 8)
    entry: dict[str, object] = {}
    for batch in range(5):
        wanted = [_blocker(key, f"Reason {batch}.{n}") for n in range(10)]
        entry = ok(await submit(client, bob, WEDNESDAY, at=at, blockers=wanted))
    assert len(entry["blocker_ids"]) == 50  # type: ignore[arg-type]
    # Naming again what it raised (still open) raises nothing, so it is fine.
    again = ok(await submit(client, bob, WEDNESDAY, at=at, blockers=wanted))
    assert again["blocker_ids"] == entry["blocker_ids"]
    refused = await submit(client, bob, WEDNESDAY, at=at, blockers=[_blocker(key, "One more")])
    assert refused.status_code == 422, refused.text
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/blockers"]
    listed = ok(
        await client.get(
            "/api/v1/projects/API/blockers", params={"limit": 100}, headers=bob.headers
        )
    )
    assert len(listed["data"]) == 50
    draft = ok(await call(client, bob, "GET", day_url(WEDNESDAY, "/draft"), at=at))
    assert draft["entry"]["version"] == again["version"]
