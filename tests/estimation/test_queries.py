"""The statements poker's reads cost do not grow with what they show, and the calibration is
one statement however many items finished."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.estimation import service as poker
from takt.estimation.calibration import deck_of
from takt.projects.models import Project
from tests.estimation.kit import (
    BASE_MOMENT,
    SESSIONS,
    act,
    finished_item,
    items,
    ok,
    poker_team,
    start,
    url,
    vote,
)
from tests.support import Account, QueryCounter


async def _statements(client: AsyncClient, db: Database, who: Account, path: str) -> int:
    assert (await client.get(path, headers=who.headers)).status_code == 200  # warms the caller
    with QueryCounter(db) as counter:
        response = await client.get(path, headers=who.headers)
    assert response.status_code == 200
    return counter.count


async def test_a_session_costs_the_same_with_one_vote_or_many_rounds(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db, ("dan", "eve"))
    ada = people["ada"]
    keys = await items(client, ada, 2)
    session = await start(client, ada, keys)
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    few = await _statements(client, db, ada, url(session))
    few_item = await _statements(client, db, ada, url(session, keys[0]))
    few_list = await _statements(client, db, ada, SESSIONS)
    for _ in range(3):
        for name in ("bob", "cal", "dan", "eve"):
            ok(await vote(client, people[name], session, keys[0], "5"))
        ok(await act(client, ada, session, keys[0], "reveal"))
        ok(await act(client, ada, session, keys[0], "reset"))
    await start(client, ada, keys)
    assert await _statements(client, db, ada, url(session)) == few
    assert await _statements(client, db, ada, url(session, keys[0])) == few_item
    assert await _statements(client, db, ada, SESSIONS) == few_list
    assert few <= 5  # the session with its project, participants, items, rounds, votes
    assert few_item <= 4
    assert few_list <= 2


async def test_the_calibration_is_one_statement(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await poker_team(app, db))["ada"]
    for n, estimate in enumerate((1, 2, 2, 3, 5, 5, 5, 8)):
        await finished_item(client, ada, estimate, timedelta(days=n + 1), at=BASE_MOMENT)
    async with db.transaction() as session:
        project = (await session.execute(Project.__table__.select())).first()
        assert project is not None
        with QueryCounter(db) as counter:
            found = await poker.calibration(session, project.id, deck_of("fibonacci", unsure=True))
    assert counter.count == 1
    assert sum(int(str(entry["finished_items"])) for entry in found) == 8
