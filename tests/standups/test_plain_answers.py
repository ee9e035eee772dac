"""The summary and the draft are written from plain data (views.py): each answer is, byte for
byte, what its response model writes; and a draft's suggested blockers say what they wait on."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.config import Settings
from takt.core.db import Database
from takt.core.time import clock_at
from takt.standups.schemas import Draft, StandupSummary
from tests.standups.kit import CONFIG, call, day_url, ok, submit, utc
from tests.standups.test_drafts import _scripted
from tests.standups.test_summary import MONDAY, _history, _sprint, _squad, _sweep


def _as_model_writes(response: Response, model: type[StandupSummary] | type[Draft]) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert model.model_validate_json(response.content).model_dump_json().encode() == (
        response.content
    )


async def test_the_summary_is_what_its_model_writes(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    people = await _squad(client, app, db)
    ada, bob = people["ada"], people["bob"]
    ok(await client.put(CONFIG, json={}, headers=ada.headers))
    await _history(client, ada)
    _, keys = await _sprint(client, ada, 6)
    blockers = [
        {"item_key": keys[0], "reason": "Keys", "waiting_on": {"kind": "person", "user": "cid"}},
        {"item_key": keys[1], "reason": "Bank", "waiting_on": {"kind": "external", "name": "B"}},
        {"item_key": keys[2], "reason": "Dep", "waiting_on": {"kind": "item", "item_key": keys[3]}},
    ]
    ok(await submit(client, bob, MONDAY, at=utc(2026, 11, 16, 8, 13), blockers=blockers))
    ok(await submit(client, ada, MONDAY, at=utc(2026, 11, 16, 9), answers={"today": "ünïcode"}))
    monday = await call(client, ada, "GET", day_url(MONDAY), at=utc(2026, 11, 16, 9, 31))
    _as_model_writes(monday, StandupSummary)
    assert len(monday.json()["open_blockers"]) == 3
    assert monday.json()["sprint"]["as_of"] == "now"
    await _sweep(db, settings, utc(2026, 11, 16, 10, 5))
    with clock_at(utc(2026, 11, 17, 7)):
        resolved = await client.post(
            f"/api/v1/blockers/{monday.json()['open_blockers'][0]['id']}/resolve",
            json={"resolution": "done"},
            headers=ada.headers,
        )
    assert resolved.status_code == 200, resolved.text
    for day, at in ((MONDAY, utc(2026, 11, 17, 9)), ("2026-11-17", utc(2026, 11, 17, 9, 1))):
        summary = await call(client, people["vic"], "GET", day_url(day), at=at)
        _as_model_writes(summary, StandupSummary)
    assert summary.json()["open_blocker_count"] == 2
    recorded = (await call(client, ada, "GET", day_url(MONDAY), at=utc(2026, 11, 17, 9))).json()
    assert recorded["recorded"] is not None
    assert recorded["sprint"]["as_of"] == "cutoff"


async def test_a_draft_is_what_its_model_writes_and_says_what_suggestions_wait_on(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, (_mine, other, stuck, created) = await _scripted(client, app, db)
    bob = week.people["bob"]
    # The stuck item (flagged blocked by ada's blocker) is linked blocked by an unfinished item,
    # and by a finished one linked earlier (not what it waits on any more).
    await week.do(
        "bob",
        utc(2026, 11, 24, 16, 30),
        "POST",
        f"/api/v1/items/{stuck}/links",
        type="blocked_by",
        target=other,
    )
    await week.do(
        "bob",
        utc(2026, 11, 24, 16, 40),
        "POST",
        f"/api/v1/items/{stuck}/links",
        type="blocked_by",
        target=created,
    )
    url = day_url("2026-11-25", "/draft")
    draft = await call(client, bob, "GET", url, at=utc(2026, 11, 25, 8))
    _as_model_writes(draft, Draft)
    suggested = {s["item_key"]: s for s in draft.json()["suggested_blockers"]}
    assert suggested[stuck]["source"] == "blocked_item"
    # `other` is done, so the stuck item waits on the item created after.
    assert suggested[stuck]["waiting_on"] == {"kind": "item", "item_key": created}
    assert suggested[other]["source"] == "open_blocker"
    assert suggested[other]["waiting_on"] == {"kind": "external", "name": "Bank"}
    # Sent back as it is, a suggestion raises the blocker it describes.
    body = {
        "blockers": [
            {"item_key": s["item_key"], "reason": s["reason"], "waiting_on": s["waiting_on"]}
            for s in draft.json()["suggested_blockers"]
        ]
    }
    entry = ok(await submit(client, bob, "2026-11-25", at=utc(2026, 11, 25, 8, 5), **body))
    assert len(entry["blocker_ids"]) == 2
    again = await call(client, bob, "GET", url, at=utc(2026, 11, 25, 8, 10))
    _as_model_writes(again, Draft)
    assert again.json()["entry"]["id"] == entry["id"]


async def test_a_person_the_blocker_waits_on_is_named_by_username(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, (mine, *_rest) = await _scripted(client, app, db)
    bob = week.people["bob"]
    await week.do(
        "bob",
        utc(2026, 11, 24, 17),
        "POST",
        "/api/v1/projects/API/blockers",
        item_key=mine,
        reason="Review",
        waiting_on={"kind": "person", "user": week.people["ada"].id},
    )
    draft = ok(
        await call(client, bob, "GET", day_url("2026-11-25", "/draft"), at=utc(2026, 11, 25, 8))
    )
    suggested = {s["item_key"]: s for s in draft["suggested_blockers"]}
    assert suggested[mine]["waiting_on"] == {"kind": "person", "user": "ada"}
