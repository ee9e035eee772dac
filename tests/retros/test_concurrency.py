"""What the database decides when retro writes race: one participant's 50 votes at once never
pass the budget or the per-group maximum, several participants voting at once each keep their
own budget, votes racing their voter's take-backs never overspend, and votes racing the end of
the vote phase either land before it or are refused."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.events import Event
from takt.retros.models import RetroVote
from tests.retros.kit import (
    add_card,
    advance,
    advance_to,
    get_retro,
    join,
    new_retro,
    vote,
)
from tests.support import team


async def _votes_by(db: Database, retro_id: str) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(RetroVote.group_id, func.count())
            .where(RetroVote.retro_id == retro_id)
            .group_by(RetroVote.group_id)
        )
        return {group: int(count) for group, count in rows}


async def test_fifty_concurrent_votes_on_one_group_stop_at_the_per_group_maximum(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    await add_card(client, bob, rid, "Only one")
    await advance_to(client, ada, rid, "vote")
    group = (await get_retro(client, bob, rid))["groups"][0]["id"]
    answers = await asyncio.gather(*(vote(client, bob, rid, group) for _ in range(50)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 3 + [409] * 47
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {
        "group-vote-limit-reached"
    }
    assert await _votes_by(db, rid) == {group: 3}


async def test_fifty_concurrent_votes_over_groups_stop_at_the_budget(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    for n in range(5):
        await add_card(client, bob, rid, f"Card {n}")
    await advance_to(client, ada, rid, "vote")
    groups = [g["id"] for g in (await get_retro(client, bob, rid))["groups"]]
    answers = await asyncio.gather(
        *(vote(client, bob, rid, groups[n % len(groups)]) for n in range(50))
    )
    assert sorted(a.status_code for a in answers) == [201] * 5 + [409] * 45
    counts = await _votes_by(db, rid)
    assert sum(counts.values()) == 5
    assert max(counts.values()) <= 3
    assert sorted(a.json()["votes_left"] for a in answers if a.status_code == 201) == [
        0,
        1,
        2,
        3,
        4,
    ]
    # Each cast vote wrote its event, and no refused one did.
    async with db.transaction() as session:
        cast = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "retro.vote_cast")
        )
    assert cast == 5


async def _votes_of_each(db: Database, retro_id: str) -> dict[tuple[str, str], int]:
    """{(voter id, group id): votes}."""
    async with db.transaction() as session:
        rows = await session.execute(
            select(RetroVote.voter_id, RetroVote.group_id, func.count())
            .where(RetroVote.retro_id == retro_id)
            .group_by(RetroVote.voter_id, RetroVote.group_id)
        )
        return {(voter, group): int(count) for voter, group, count in rows}


async def _vote_events(db: Database, retro_id: str, kind: str) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == kind, Event.subject_id == retro_id)
        )
    return int(count or 0)


async def test_participants_voting_at_once_each_keep_their_own_budget(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    voters = [bob] + [await join(client, app, db, ada, f"voter{n}") for n in range(3)]
    rid = (await new_retro(client, ada, vote_budget=5, max_votes_per_group=2))["id"]
    for n in range(4):
        await add_card(client, bob, rid, f"Card {n}")
    await advance_to(client, ada, rid, "vote")
    groups = [g["id"] for g in (await get_retro(client, bob, rid))["groups"]]
    # Each of the four sends 15 votes at once (60 in all), spread over the groups.
    plan = [(who, groups[n % len(groups)]) for n in range(15) for who in voters]
    answers = await asyncio.gather(*(vote(client, who, rid, g) for who, g in plan))
    assert {a.status_code for a in answers} == {201, 409}
    by_voter: dict[str, list[int]] = {}
    for (who, _), answer in zip(plan, answers, strict=True):
        if answer.status_code == 201:
            by_voter.setdefault(who.username, []).append(answer.json()["votes_left"])
    # Everyone spent exactly the whole budget, each vote seeing the ones before it.
    assert {name: sorted(left) for name, left in by_voter.items()} == {
        who.username: [0, 1, 2, 3, 4] for who in voters
    }
    stored = await _votes_of_each(db, rid)
    assert sum(stored.values()) == 20
    assert max(stored.values()) <= 2
    # One event for each vote cast, none for a refused one.
    assert await _vote_events(db, rid, "retro.vote_cast") == 20


async def test_votes_racing_their_voters_take_backs_never_overspend(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada, vote_budget=5, max_votes_per_group=5))["id"]
    for n in range(2):
        await add_card(client, bob, rid, f"Card {n}")
    await advance_to(client, ada, rid, "vote")
    one, two = [g["id"] for g in (await get_retro(client, bob, rid))["groups"]]
    cast = [(await vote(client, bob, rid, one)).json()["id"] for _ in range(5)]
    # The budget is spent: two take-backs and ten new votes race.
    takes = [
        client.delete(f"/api/v1/retros/{rid}/votes/{vote_id}", headers=bob.headers)
        for vote_id in cast[:2]
    ]
    votes = [vote(client, bob, rid, two) for _ in range(10)]
    answers = await asyncio.gather(*takes, *votes)
    assert [a.status_code for a in answers[:2]] == [204, 204]
    landed = sum(1 for a in answers[2:] if a.status_code == 201)
    assert {a.json()["code"] for a in answers[2:] if a.status_code == 409} <= {
        "vote-budget-exhausted"
    }
    assert landed <= 2
    assert sum((await _votes_by(db, rid)).values()) == 5 - 2 + landed
    assert await _vote_events(db, rid, "retro.vote_cast") == 5 + landed


async def test_votes_racing_the_end_of_voting_land_before_it_or_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    for _ in range(3):
        rid = (await new_retro(client, ada, vote_budget=20, max_votes_per_group=20))["id"]
        await add_card(client, bob, rid, "Card")
        await advance_to(client, ada, rid, "vote")
        group = (await get_retro(client, bob, rid))["groups"][0]["id"]
        votes = [vote(client, bob, rid, group) for _ in range(10)]
        ended, *answers = await asyncio.gather(advance(client, ada, rid, "discuss"), *votes)
        landed = sum(1 for a in answers if a.status_code == 201)
        assert all(a.status_code in (201, 409) for a in answers)
        # The tally announced when voting ended counts every vote that landed.
        assert ended["groups"][0]["votes"] == landed
        assert await _votes_by(db, rid) == ({group: landed} if landed else {})
