"""Votes: a budget per participant and a maximum per group, private while voting (each sees
only their own), then totals and the discussion order, most votes first."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.retros.kit import add_card, advance, advance_to, get_retro, join, new_retro, vote
from tests.support import Account, team


async def _voting(
    client: AsyncClient, facilitator: Account, writer: Account, texts: list[str], **body: Any
) -> tuple[str, list[str]]:
    """A retro in `vote` with one group per text (in that order)."""
    rid = (await new_retro(client, facilitator, **body))["id"]
    for text in texts:
        await add_card(client, writer, rid, text)
    await advance_to(client, facilitator, rid, "vote")
    groups = (await get_retro(client, facilitator, rid))["groups"]
    return rid, [g["id"] for g in groups]


async def test_a_participant_has_five_votes_and_three_per_group(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid, (one, two, three) = await _voting(client, ada, bob, ["One", "Two", "Three"])
    answers = [await vote(client, bob, rid, one) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 409]
    assert answers[3].json()["code"] == "group-vote-limit-reached"
    assert [a.json()["votes_left"] for a in answers[:3]] == [4, 3, 2]
    assert answers[2].json()["my_votes_on_group"] == 3
    assert (await vote(client, bob, rid, two)).status_code == 201
    last = await vote(client, bob, rid, three)
    assert (last.status_code, last.json()["votes_left"]) == (201, 0)
    over = await vote(client, bob, rid, three)
    assert over.status_code == 409
    assert over.json()["code"] == "vote-budget-exhausted"
    # Taking one back frees the budget again.
    taken = await client.delete(
        f"/api/v1/retros/{rid}/votes/{last.json()['id']}", headers=bob.headers
    )
    assert taken.status_code == 204
    assert (await vote(client, bob, rid, three)).status_code == 201
    unknown = await vote(client, bob, rid, "no-such-group")
    assert unknown.status_code == 422


async def test_budget_and_limit_are_the_retros(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid, (one, two) = await _voting(
        client, ada, bob, ["One", "Two"], vote_budget=2, max_votes_per_group=1
    )
    codes = [(await vote(client, bob, rid, g)).status_code for g in (one, one, two, two)]
    assert codes == [201, 409, 201, 409]


async def test_votes_are_private_while_voting(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    cyd = await join(client, app, db, ada, "cyd")
    rid, (one, two) = await _voting(client, ada, bob, ["One", "Two"])
    mine = (await vote(client, bob, rid, one)).json()
    await vote(client, cyd, rid, two)
    await vote(client, cyd, rid, two)
    for who, own in ((bob, {one: 1}), (cyd, {two: 2}), (ada, {})):
        seen = await get_retro(client, who, rid)
        assert [g["votes"] for g in seen["groups"]] == [None, None]
        assert [g["rank"] for g in seen["groups"]] == [None, None]
        assert {g["id"]: g["my_votes"] for g in seen["groups"] if g["my_votes"]} == own
        assert sorted(v["group_id"] for v in seen["my_votes"]) == sorted(
            g for g, n in own.items() for _ in range(n)
        )
        assert seen["votes_left"] == 5 - sum(own.values())
        assert seen["votes_cast"] == 3
    # Someone else's vote can't be taken back, nor even found.
    gone = await client.delete(f"/api/v1/retros/{rid}/votes/{mine['id']}", headers=cyd.headers)
    assert gone.status_code == 404


async def test_after_voting_groups_are_in_discussion_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    cyd = await join(client, app, db, ada, "cyd")
    rid, (one, two, three, four) = await _voting(client, ada, bob, ["One", "Two", "Three", "Four"])
    plan = [(bob, [three, three, one, four]), (cyd, [three, one, one, four, two])]
    for who, groups in plan:
        for group in groups:
            assert (await vote(client, who, rid, group)).status_code == 201
    discussing = await advance(client, ada, rid, "discuss")
    # one and three have 3 votes each: one, the older group, comes first.
    assert [(g["id"], g["votes"], g["rank"]) for g in discussing["groups"]] == [
        (one, 3, 1),
        (three, 3, 2),
        (four, 2, 3),
        (two, 1, 4),
    ]
    assert discussing["votes_cast"] == 9
    seen = await get_retro(client, bob, rid)
    assert {g["id"]: g["my_votes"] for g in seen["groups"]} == {one: 1, three: 2, four: 1, two: 0}
    events = await client.get(
        "/api/v1/projects/API/events", params={"types": "retro.advanced"}, headers=ada.headers
    )
    last = events.json()["data"][-1]["data"]
    assert [(g["group_id"], g["votes"]) for g in last["discussion_order"]] == [
        (one, 3),
        (three, 3),
        (four, 2),
        (two, 1),
    ]
