"""Blockers through the API: raising flags the item, resolving the last one clears it, the flag
can't be cleared by hand while one is open, what a blocker waits on, lists and suggestions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from takt.auth.principal import Principal
from takt.blockers import service
from takt.blockers.deps import get_blocker_context
from takt.blockers.schemas import PromoteRequest
from takt.core.db import Database
from takt.core.errors import NotFound
from takt.core.events import Event
from takt.core.time import clock_at, utcnow
from takt.items.models import Item
from tests.blockers.kit import BLOCKERS, an_item, item_flag, raise_on
from tests.support import Account, make_project, new_item, team


async def test_raising_a_blocker_flags_the_item_and_records_both_events(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    key = await an_item(client, bob)
    blocker = await raise_on(client, bob, key, waiting_on={"kind": "person", "user": "ada"})
    assert blocker["item_key"] == key
    assert blocker["status"] == "open"
    assert blocker["raised_by"]["username"] == "bob"
    assert blocker["waiting_on"]["kind"] == "person"
    assert blocker["waiting_on"]["user"]["username"] == "ada"
    assert blocker["escalated"] is False
    assert blocker["risk_id"] is None
    assert blocker["age_working_hours"] >= 0
    assert await item_flag(client, bob, key) is True
    async with db.transaction() as session:
        types = list(await session.scalars(select(Event.type).order_by(Event.seq)))
    assert types[-2:] == ["blocker.raised", "item.updated"]
    shown = await client.get(f"/api/v1/blockers/{blocker['id']}", headers=people["vic"].headers)
    assert shown.status_code == 200
    assert shown.headers["etag"].startswith(f'"v{blocker["version"]}-')  # version, then body


async def test_resolving_the_last_open_blocker_clears_the_flag_and_not_before(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = await an_item(client, bob)
    first = await raise_on(client, bob, key)
    second = await raise_on(client, bob, key, waiting_on={"kind": "team", "name": "Platform"})
    resolved = await client.post(
        f"/api/v1/blockers/{first['id']}/resolve",
        json={"resolution": "Sandbox fixed"},
        headers=bob.headers,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_by"]["username"] == "bob"
    assert resolved.json()["resolution"] == "Sandbox fixed"
    assert await item_flag(client, bob, key) is True
    last = await client.post(f"/api/v1/blockers/{second['id']}/resolve", headers=bob.headers)
    assert last.status_code == 200
    assert await item_flag(client, bob, key) is False
    again = await client.post(f"/api/v1/blockers/{second['id']}/resolve", headers=bob.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "blocker-not-open"


async def test_the_flag_cannot_be_cleared_by_hand_while_a_blocker_is_open(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = await an_item(client, bob)
    blocker = await raise_on(client, bob, key)
    item_url = f"/api/v1/items/{key}"
    before = (await client.get(item_url, headers=bob.headers)).json()
    refused = await client.patch(item_url, json={"blocked": False}, headers=bob.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "item-has-open-blockers"
    assert (await client.get(item_url, headers=bob.headers)).json() == before
    bulk = await client.post(
        "/api/v1/projects/API/items/bulk",
        json={"updates": [{"key": key, "blocked": False}]},
        headers=bob.headers,
    )
    assert bulk.json()["results"][0]["status"] == 409
    await client.post(f"/api/v1/blockers/{blocker['id']}/resolve", headers=bob.headers)
    # A flag set by hand, with no blocker behind it, comes off by hand.
    assert (await client.patch(item_url, json={"blocked": True}, headers=bob.headers)).json()[
        "blocked"
    ]
    cleared = await client.patch(item_url, json={"blocked": False}, headers=bob.headers)
    assert cleared.status_code == 200
    assert cleared.json()["blocked"] is False


async def test_a_blocker_on_an_item_of_another_project_is_refused_and_changes_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await make_project(db, ada, "WEB")
    foreign = (await new_item(client, ada, "WEB"))["key"]
    mine = await an_item(client, ada)
    for body in (
        {"item_key": foreign, "reason": "x", "waiting_on": {"kind": "team", "name": "T"}},
        {"item_key": mine, "reason": "x", "waiting_on": {"kind": "item", "item_key": foreign}},
        {"item_key": mine, "reason": "x", "waiting_on": {"kind": "item", "item_key": mine}},
        {"item_key": mine, "reason": "x", "waiting_on": {"kind": "person", "user": "sam"}},
        {"item_key": mine, "reason": "  ", "waiting_on": {"kind": "team", "name": "T"}},
        {"item_key": mine, "reason": "x", "waiting_on": {"kind": "person", "name": "T"}},
        {"item_key": mine, "reason": "x", "waiting_on": {"kind": "boss"}},
    ):
        refused = await client.post(BLOCKERS, json=body, headers=ada.headers)
        assert refused.status_code == 422, (body, refused.text)
    assert (
        await client.post(
            "/api/v1/projects/WEB/blockers",
            json={"item_key": mine, "reason": "x", "waiting_on": {"kind": "team", "name": "T"}},
            headers=people["bob"].headers,
        )
    ).status_code == 404
    listed = await client.get(BLOCKERS, headers=ada.headers)
    assert listed.json()["data"] == []
    assert await item_flag(client, ada, mine) is False
    assert await item_flag(client, ada, foreign) is False


async def test_waiting_on_an_item_shows_its_key_and_a_change_is_recorded(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocked, blocking = await an_item(client, bob), await an_item(client, bob)
    blocker = await raise_on(
        client, bob, blocked, waiting_on={"kind": "item", "item_key": blocking}
    )
    assert blocker["waiting_on"] == {
        "kind": "item",
        "user": None,
        "name": None,
        "item_key": blocking,
    }
    url = f"/api/v1/blockers/{blocker['id']}"
    stale = await client.patch(
        url,
        json={"reason": "new"},
        headers={**bob.headers, "If-Match": '"v99"'},
    )
    assert stale.status_code == 412
    changed = await client.patch(
        url,
        json={"reason": "Needs the new schema", "waiting_on": {"kind": "external", "name": "Acme"}},
        headers={**bob.headers, "If-Match": f'"v{blocker["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["waiting_on"]["name"] == "Acme"
    assert changed.json()["version"] == blocker["version"] + 1
    async with db.transaction() as session:
        event = await session.scalar(
            select(Event).where(Event.type == "blocker.updated").order_by(Event.seq.desc())
        )
    assert event is not None
    assert event.changes == {
        "reason": ["Waiting for the sandbox", "Needs the new schema"],
        "waiting_on": [
            {"kind": "item", "item_key": blocking},
            {"kind": "external", "name": "Acme"},
        ],
    }
    await client.post(f"{url}/resolve", headers=bob.headers)
    frozen = await client.patch(url, json={"reason": "late"}, headers=bob.headers)
    assert frozen.status_code == 409


async def test_lists_filter_by_state_item_waiting_on_and_raiser_open_ones_oldest_first(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    one, two = await an_item(client, bob), await an_item(client, bob)
    day = datetime(2026, 11, 2, 10, tzinfo=UTC)
    late = await raise_on(client, bob, one, at=day.replace(day=4))
    early = await raise_on(client, ada, two, at=day, waiting_on={"kind": "team", "name": "Ops"})
    gone = await raise_on(client, bob, two, at=day.replace(day=3))
    with clock_at(day.replace(day=5)):
        await client.post(f"/api/v1/blockers/{gone['id']}/resolve", headers=bob.headers)

    async def ids(**params: str) -> list[str]:
        with clock_at(day.replace(day=6)):
            response = await client.get(BLOCKERS, params=params, headers=people["vic"].headers)
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["data"]]

    assert await ids() == [early["id"], late["id"], gone["id"]]
    assert await ids(state="open") == [early["id"], late["id"]]
    assert await ids(state="resolved") == [gone["id"]]
    assert await ids(item=two) == [early["id"], gone["id"]]
    assert await ids(waiting_on="team") == [early["id"]]
    assert await ids(raised_by="ada") == [early["id"]]
    assert await ids(raised_by=bob.id, state="open") == [late["id"]]
    first = await ids(limit="1")
    assert first == [early["id"]]
    with clock_at(day.replace(day=6)):
        page = (await client.get(BLOCKERS, params={"limit": "2"}, headers=bob.headers)).json()
        rest = await client.get(
            BLOCKERS, params={"limit": "2", "cursor": page["next_cursor"]}, headers=bob.headers
        )
    assert [b["id"] for b in rest.json()["data"]] == [gone["id"]]
    other_order = await client.get(
        BLOCKERS,
        params={"state": "resolved", "cursor": page["next_cursor"]},
        headers=bob.headers,
    )
    assert other_order.status_code == 400
    for bad in ({"state": "stuck"}, {"older_than_hours": "-1"}, {"waiting_on": "god"}):
        assert (await client.get(BLOCKERS, params=bad, headers=bob.headers)).status_code == 422


async def test_a_blocker_of_a_project_you_cannot_see_answers_like_an_unknown_one(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    key = await an_item(client, people["bob"])
    blocker = await raise_on(client, people["bob"], key)
    sam, vic = people["sam"], people["vic"]
    url = f"/api/v1/blockers/{blocker['id']}"
    unknown = await client.get("/api/v1/blockers/nope", headers=sam.headers)
    hidden = await client.get(url, headers=sam.headers)
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["detail"] == hidden.json()["detail"]
    assert (await client.post(f"{url}/resolve", headers=sam.headers)).status_code == 404
    assert (await client.post(f"{url}/resolve", headers=vic.headers)).status_code == 403
    assert (await client.post(f"{url}/promote", headers=vic.headers)).status_code == 403
    assert await item_flag(client, vic, key) is True


async def test_blocked_by_links_to_unfinished_items_are_suggested_until_raised(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    blocked, blocking, done, shipped = [await an_item(client, bob) for _ in range(4)]
    for source, target in ((blocked, blocking), (blocked, done), (shipped, blocking)):
        linked = await client.post(
            f"/api/v1/items/{source}/links",
            json={"type": "blocked_by", "target": target},
            headers=bob.headers,
        )
        assert linked.status_code == 201, linked.text
    # Waiting on finished work, or finished itself: nothing to suggest.
    for key in (done, shipped):
        await client.patch(f"/api/v1/items/{key}", json={"status": "Done"}, headers=bob.headers)
    url = f"{BLOCKERS}/suggestions"
    suggested = (await client.get(url, headers=bob.headers)).json()["data"]
    assert [(s["item_key"], s["blocked_by"]) for s in suggested] == [(blocked, blocking)]
    # Only suggested: nothing was raised, nothing was flagged.
    assert (await client.get(BLOCKERS, headers=bob.headers)).json()["data"] == []
    assert await item_flag(client, bob, blocked) is False
    raised = await client.post(BLOCKERS, json=suggested[0]["body"], headers=bob.headers)
    assert raised.status_code == 201, raised.text
    assert raised.json()["waiting_on"]["item_key"] == blocking
    assert (await client.get(url, headers=bob.headers)).json()["data"] == []


async def test_a_blocker_of_an_item_in_the_trash_is_not_found_until_the_item_is_restored(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """What hides behind a trashed item answers 404 like the item itself (docs/work-items.md):
    reading, changing, resolving and promoting its blocker; the restore brings it back."""
    bob = (await team(app, db))["bob"]
    key = await an_item(client, bob)
    blocker = await raise_on(client, bob, key)
    url = f"/api/v1/blockers/{blocker['id']}"
    assert (await client.delete(f"/api/v1/items/{key}", headers=bob.headers)).status_code == 204
    answers = [
        await client.get(url, headers=bob.headers),
        await client.patch(url, json={"reason": "Still waiting"}, headers=bob.headers),
        await client.post(f"{url}/resolve", json={}, headers=bob.headers),
        await client.post(f"{url}/promote", json={}, headers=bob.headers),
    ]
    assert [a.status_code for a in answers] == [404] * 4, [a.text for a in answers]
    assert {a.json()["code"] for a in answers} == {"not-found"}
    restored = await client.post(f"/api/v1/items/{key}/restore", headers=bob.headers)
    assert restored.status_code == 200, restored.text
    again = await client.get(url, headers=bob.headers)
    assert again.status_code == 200
    assert again.json()["status"] == "open"


async def _act_once_the_item_is_trashed(
    db: Database, who: Account, blocker_id: str, key: str, act: str
) -> None:
    """Load the blocker as its route does, trash its item, then promote or resolve it."""
    async with db.transaction() as session:
        ctx = await get_blocker_context(blocker_id, Principal.of(who.user), session)
        await session.execute(update(Item).where(Item.key == key).values(deleted_at=utcnow()))
        if act == "promote":
            await service.promote_blocker(session, ctx, PromoteRequest())
        else:
            await service.resolve_blocker(session, ctx)


async def test_a_blocker_whose_item_goes_to_the_trash_while_it_is_promoted_is_not_found(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The item trashed after the blocker was loaded (a concurrent delete): the promotion and
    the resolution answer 404 too, not a 422 about a field the request doesn't have."""
    bob = (await team(app, db))["bob"]
    for act in ("promote", "resolve"):
        key = await an_item(client, bob)
        blocker = await raise_on(client, bob, key)
        with pytest.raises(NotFound):
            await _act_once_the_item_is_trashed(db, bob, blocker["id"], key, act)
