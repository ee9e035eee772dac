"""What the database decides when poker requests race: one vote per participant per round,
and a reveal that shows every vote committed before it (a vote after it is refused)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.estimation.models import EstimationVote
from tests.estimation.kit import act, items, ok, poker_team, start, url, vote

VOTERS = ("dan", "eve", "fay", "gus", "hal", "ivy")


async def _votes_stored(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(EstimationVote)) or 0)


async def test_concurrent_votes_of_one_participant_leave_one_vote(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    keys = await items(client, people["ada"], 1)
    session = await start(client, people["ada"], keys)
    cards = ["1", "2", "3", "5", "8", "13", "20", "40"]
    answers = await asyncio.gather(
        *(vote(client, people["bob"], session, keys[0], card) for card in cards)
    )
    assert [a.status_code for a in answers] == [200] * len(cards)
    assert await _votes_stored(db) == 1
    shown = ok(await client.get(url(session), headers=people["bob"].headers))["current"]
    assert shown["votes_cast"] == 1
    # The card kept is the one of the write that committed last, which every answer agrees on
    # only at the end: it is one of the cards played.
    assert shown["rounds"][0]["my_card"] in cards


async def test_a_reveal_racing_votes_shows_every_vote_committed_before_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db, VOTERS)
    ada = people["ada"]
    for attempt in range(3):
        keys = await items(client, ada, 1)
        session = await start(client, ada, keys)
        ok(await vote(client, people["bob"], session, keys[0], "3"))  # something to reveal
        racing = [vote(client, people[name], session, keys[0], "5") for name in VOTERS]
        # The reveal goes in the middle of the votes.
        racing.insert(attempt + 2, act(client, ada, session, keys[0], "reveal"))
        answers = await asyncio.gather(*racing)
        reveal = answers.pop(attempt + 2)
        assert reveal.status_code == 200, reveal.text
        accepted = {
            name for name, answer in zip(VOTERS, answers, strict=True) if answer.status_code == 200
        }
        refused = [a for a in answers if a.status_code != 200]
        assert all(a.json()["code"] == "estimation-round-revealed" for a in refused)
        shown = reveal.json()["rounds"][0]["votes"]
        assert {v["voter"]["username"] for v in shown} == accepted | {"bob"}
        stored = ok(await client.get(url(session, keys[0]), headers=ada.headers))["rounds"][0]
        assert [v["voter"]["username"] for v in stored["votes"]] == [
            v["voter"]["username"] for v in shown
        ]
        assert reveal.json()["rounds"][0]["spread"]["votes"] == len(accepted) + 1


async def test_concurrent_finalizes_write_one_estimate_and_move_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 3)
    session = await start(client, ada, keys)
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    ok(await act(client, ada, session, keys[0], "reveal"))
    answers = await asyncio.gather(
        *(act(client, ada, session, keys[0], "finalize", estimate=3) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    shown = ok(await client.get(url(session), headers=ada.headers))
    assert shown["current_item_key"] == keys[1]
    assert [i["state"] for i in shown["items"]] == ["estimated", "voting", "pending"]
    history = ok(await client.get(f"/api/v1/items/{keys[0]}/history", headers=ada.headers))
    assert len([e for e in history["data"] if e["type"] == "item.updated"]) == 1
