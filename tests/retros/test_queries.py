"""The statements a retro costs do not grow with its cards, groups, votes or action items: a
retro reads in six, a page of retros in two, a vote is cast in two on PostgreSQL (four on
SQLite)."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.retros.kit import add_card, advance, advance_to, get_retro, join, new_retro, vote
from tests.support import Account, QueryCounter, team


def _fresh_caller(app: FastAPI) -> None:
    """Forget resolved tokens, so the next request resolves its caller and the one after it
    finds the caller in the cache (kept 2 s): counts then never include the caller's lookup."""
    app.state.security.principals.clear()


async def _statements(
    client: AsyncClient, app: FastAPI, db: Database, who: Account, url: str
) -> int:
    _fresh_caller(app)
    assert (await client.get(url, headers=who.headers)).status_code == 200  # warms the caller
    with QueryCounter(db) as counter:
        response = await client.get(url, headers=who.headers)
    assert response.status_code == 200
    return counter.count


async def _discussed(client: AsyncClient, ada: Account, bob: Account, cards: int) -> str:
    rid = (await new_retro(client, ada))["id"]
    for n in range(cards):
        await add_card(client, bob, rid, f"Card {n}")
    await advance_to(client, ada, rid, "vote")
    for group in (await get_retro(client, bob, rid))["groups"][:5]:
        assert (await vote(client, bob, rid, group["id"])).status_code == 201
    await advance(client, ada, rid, "discuss")
    for n in range(cards // 2):
        made = await client.post(
            f"/api/v1/retros/{rid}/actions",
            json={"title": f"Do {n}", "owner": "bob"},
            headers=ada.headers,
        )
        assert made.status_code == 201
    return str(rid)


async def test_a_retro_reads_in_the_same_statements_for_two_cards_or_twenty(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    small = await _discussed(client, ada, bob, 2)
    few = await _statements(client, app, db, bob, f"/api/v1/retros/{small}")
    big = await _discussed(client, ada, bob, 20)  # opens with the small one's actions
    assert await _statements(client, app, db, bob, f"/api/v1/retros/{big}") == few
    assert few <= 6  # the retro in its path; cards, groups, my votes, tallies, actions


async def test_a_page_of_retros_is_two_statements(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for _ in range(3):
        await new_retro(client, ada)
    assert await _statements(client, app, db, ada, "/api/v1/projects/API/retros") <= 2


async def test_a_vote_costs_the_same_however_many_were_cast(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    voters = [bob] + [await join(client, app, db, ada, f"voter{n}") for n in range(6)]
    rid = (await new_retro(client, ada, vote_budget=20, max_votes_per_group=20))["id"]
    await add_card(client, bob, rid, "One")
    await advance_to(client, ada, rid, "vote")
    group = (await get_retro(client, bob, rid))["groups"][0]["id"]

    async def counted(who: Account) -> int:
        _fresh_caller(app)
        await get_retro(client, who, rid)  # warms the caller
        with QueryCounter(db) as counter:
            assert (await vote(client, who, rid, group)).status_code == 201
        return counter.count

    first = await counted(bob)
    for who in voters:
        for _ in range(5):
            await vote(client, who, rid, group)
    assert await counted(bob) == first
    # The path's retro with the voter's lock; then its phase (held shared), the counts, the
    # vote and its event in one statement. SQLite: the retro; the state; the vote; the event.
    assert first == (2 if db.dialect == "postgresql" else 4)
