"""Finalize writes the estimate to the item (its own change, in its history, by whoever
facilitates) and moves on; reset opens a new round; a finished session keeps every round.
Who may do what, and in which state."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.estimation.kit import act, items, ok, poker_team, start, url, vote
from tests.support import bearer, make_pat, make_user


async def test_finalize_writes_the_estimate_to_the_item_and_moves_on(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    bob, cal = people["bob"], people["cal"]
    keys = await items(client, people["ada"], 2)
    session = await start(client, bob, keys)
    ok(await vote(client, cal, session, keys[0], "5"))
    ok(await act(client, bob, session, keys[0], "reveal"))
    moved = ok(await act(client, bob, session, keys[0], "finalize", estimate=5))
    assert moved["current_item_key"] == keys[1]
    assert [(i["state"], i["estimate"], i["round"]) for i in moved["items"]] == [
        ("estimated", 5, 1),
        ("voting", None, 1),
    ]
    item = ok(await client.get(f"/api/v1/items/{keys[0]}", headers=cal.headers))
    assert item["estimate"] == 5
    history = ok(await client.get(f"/api/v1/items/{keys[0]}/history", headers=cal.headers))
    changed = [e for e in history["data"] if e["type"] == "item.updated"]
    assert [(e["actor"]["username"], e["changes"]) for e in changed] == [
        ("bob", {"estimate": [None, 5.0]})
    ]
    detail = ok(await client.get(url(session, keys[0]), headers=cal.headers))
    assert detail["estimated_by"]["username"] == "bob"
    assert detail["estimated_at"] is not None


async def test_a_project_admin_acts_as_facilitator_and_is_recorded_as_such(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    root = await make_user(app, db, "root", admin=True)
    keys = await items(client, people["ada"], 2)
    session = await start(client, people["bob"], keys)
    ok(await vote(client, people["cal"], session, keys[0], "3"))
    assert (await act(client, people["cal"], session, keys[0], "reveal")).status_code == 403
    ok(await act(client, people["ada"], session, keys[0], "reveal"))
    ok(await act(client, root, session, keys[0], "finalize", estimate=3))
    history = ok(await client.get(f"/api/v1/items/{keys[0]}/history", headers=root.headers))
    assert [e["actor"]["username"] for e in history["data"] if e["type"] == "item.updated"] == [
        "root"
    ]


async def test_the_last_finalize_finishes_the_session_which_keeps_every_round(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada, bob, cal = people["ada"], people["bob"], people["cal"]
    keys = await items(client, ada, 1)
    session = await start(client, ada, keys)
    ok(await vote(client, bob, session, keys[0], "2"))
    ok(await vote(client, cal, session, keys[0], "13"))
    ok(await act(client, ada, session, keys[0], "reveal"))
    again = ok(await act(client, ada, session, keys[0], "reset"))
    assert (again["round"], again["state"], again["votes_cast"]) == (2, "voting", 0)
    ok(await vote(client, bob, session, keys[0], "5"))
    ok(await vote(client, cal, session, keys[0], "8"))
    ok(await act(client, ada, session, keys[0], "reveal"))
    finished = ok(await act(client, ada, session, keys[0], "finalize", estimate=8))
    assert finished["state"] == "finished"
    assert finished["finished_at"] is not None
    assert finished["current"] is None
    assert finished["current_item_key"] is None
    rounds = ok(await client.get(url(session, keys[0]), headers=people["vic"].headers))["rounds"]
    assert [(r["number"], [v["card"] for v in r["votes"]]) for r in rounds] == [
        (1, ["2", "13"]),
        (2, ["5", "8"]),
    ]
    assert rounds[0]["reset_at"] is not None
    assert rounds[1]["reset_at"] is None
    for what in ("reveal", "reset"):
        closed = await act(client, ada, session, keys[0], what)
        assert closed.status_code == 409
        assert closed.json()["code"] == "estimation-finished"
    late = await vote(client, bob, session, keys[0], "3")
    assert late.json()["code"] == "estimation-finished"


async def test_rules_of_the_round(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await poker_team(app, db)
    ada, bob, cal = people["ada"], people["bob"], people["cal"]
    keys = await items(client, ada, 2)
    session = await start(client, bob, keys, participants=["bob", "cal"])

    async def code(response_: object) -> str:
        from httpx import Response

        assert isinstance(response_, Response)
        assert response_.headers["content-type"] == "application/problem+json"
        return str(response_.json()["code"])

    assert await code(await act(client, bob, session, keys[0], "reveal")) == "estimation-no-votes"
    assert await code(await vote(client, ada, session, keys[0], "3")) == "not-a-participant"
    assert await code(await vote(client, people["vic"], session, keys[0], "3")) == "forbidden"
    assert await code(await vote(client, cal, session, keys[1], "3")) == (
        "estimation-not-current-item"
    )
    assert await code(await vote(client, cal, session, keys[0], "7")) == "unknown-card"
    assert await code(await act(client, bob, session, keys[0], "finalize", estimate=3)) == (
        "estimation-round-not-revealed"
    )
    ok(await vote(client, cal, session, keys[0], "3"))
    changed = ok(await vote(client, cal, session, keys[0], "5"))
    assert changed["votes_cast"] == 1
    assert changed["rounds"][0]["my_card"] == "5"
    assert await code(await act(client, cal, session, keys[0], "reveal")) == "not-the-facilitator"
    ok(await act(client, bob, session, keys[0], "reveal"))
    assert await code(await act(client, bob, session, keys[0], "reveal")) == (
        "estimation-round-revealed"
    )
    assert await code(await vote(client, cal, session, keys[0], "8")) == (
        "estimation-round-revealed"
    )
    off = await act(client, bob, session, keys[0], "finalize", estimate=7)
    assert off.status_code == 422
    assert off.json()["errors"][0]["pointer"] == "/estimate"
    missing = await act(client, bob, session, "API-99", "finalize", estimate=5)
    assert missing.status_code == 404
    assert await code(await act(client, cal, session, keys[0], "finalize", estimate=5)) == (
        "not-the-facilitator"
    )
    assert await code(await client.post(url(session, act="finish"), headers=cal.headers)) == (
        "not-the-facilitator"
    )


async def test_a_reset_is_bounded_to_twenty_rounds(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    keys = await items(client, people["ada"], 1)
    session = await start(client, people["ada"], keys)
    for _ in range(19):
        ok(await act(client, people["ada"], session, keys[0], "reset"))
    too_many = await act(client, people["ada"], session, keys[0], "reset")
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "estimation-too-many-rounds"


async def test_ending_early_leaves_the_rest_unestimated(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 2)
    session = await start(client, ada, keys)
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    ended = ok(await client.post(url(session, act="finish"), headers=ada.headers))
    assert ended["state"] == "finished"
    assert [i["state"] for i in ended["items"]] == ["voting", "pending"]
    again = await client.post(url(session, act="finish"), headers=ada.headers)
    assert again.status_code == 409
    item = ok(await client.get(f"/api/v1/items/{keys[0]}", headers=ada.headers))
    assert item["estimate"] is None


async def test_an_item_in_the_trash_gets_no_estimate(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 1)
    session = await start(client, ada, keys)
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    ok(await act(client, ada, session, keys[0], "reveal"))
    assert (await client.delete(f"/api/v1/items/{keys[0]}", headers=ada.headers)).status_code == 204
    trashed = await act(client, ada, session, keys[0], "finalize", estimate=3)
    assert trashed.status_code == 409
    assert trashed.json()["code"] == "estimation-item-in-trash"


async def test_the_answer_says_whether_you_may_run_the_session(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada, bob, cal, vic = (people[n] for n in ("ada", "bob", "cal", "vic"))
    root = await make_user(app, db, "root", admin=True)
    keys = await items(client, ada, 2)
    created = await start(client, bob, keys)
    assert created["can_facilitate"] is True  # its facilitator
    _, ada_reads = await make_pat(app, db, ada, ["read"])
    _, ada_writes = await make_pat(app, db, ada, ["read", "write"])
    _, bob_writes = await make_pat(app, db, bob, ["read", "write"])
    callers = {
        "bob (facilitator)": (bob.headers, True),
        "bob, a write token": (bearer(bob_writes), True),
        "ada (project admin)": (ada.headers, True),
        "ada, a token without the admin scope": (bearer(ada_writes), False),
        "ada, a read-only token": (bearer(ada_reads), False),
        "root (instance admin)": (root.headers, True),
        "cal (member)": (cal.headers, False),
        "vic (viewer)": (vic.headers, False),
    }
    seen = {
        who: ok(await client.get(url(created), headers=headers))["can_facilitate"]
        for who, (headers, _) in callers.items()
    }
    assert seen == {who: expected for who, (_, expected) in callers.items()}
    # It says what the server then does: a reveal by each who may not is refused.
    ok(await vote(client, cal, created, keys[0], "3"))
    for who, (headers, expected) in callers.items():
        if not expected:
            refused = await client.post(url(created, keys[0], "reveal"), headers=headers)
            assert refused.status_code == 403, who
    ok(await act(client, ada, created, keys[0], "reveal"))
    # Every session answer carries it: a finalize's, an end's (by the instance admin).
    after = ok(await act(client, root, created, keys[0], "finalize", estimate=3))
    assert after["can_facilitate"] is True
    ended = ok(await client.post(url(created, act="finish"), headers=root.headers))
    assert (ended["state"], ended["can_facilitate"]) == ("finished", True)
    listed = ok(await client.get(url(created), headers=cal.headers))
    assert listed["can_facilitate"] is False
