"""Hidden votes: before the reveal nobody (not the facilitator, not an admin, not an event)
learns a card; everyone sees who has voted, the voter sees their own card. The reveal shows
every card to everyone; a round reset before its reveal keeps its cards secret for good."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from tests.estimation.kit import SESSIONS, act, items, ok, poker_team, start, url, vote
from tests.support import Account, make_user

# Cards no other text of these answers contains: where one shows up, it leaked.
SECRET = {"zebra": 40, "koala": 100}
DECK = [{"label": label, "points": points} for label, points in SECRET.items()]


def _without_deck(body: Any) -> Any:
    """The answer without the deck: `scale` and the calibration list every card, played or
    not."""
    if isinstance(body, dict):
        return {k: _without_deck(v) for k, v in body.items() if k not in ("scale", "calibration")}
    if isinstance(body, list):
        return [_without_deck(v) for v in body]
    return body


def _cards_in(body: Any) -> set[str]:
    text = json.dumps(_without_deck(body))
    return {label for label in SECRET if label in text}


async def _everything_seen_by(
    client: AsyncClient, who: Account, session: dict[str, Any], key: str
) -> list[Any]:
    """Every answer that could show a card: the session, the item, the list, the event log,
    the item's history."""
    paths = [
        url(session),
        url(session, key),
        SESSIONS,
        "/api/v1/projects/API/events",
        f"/api/v1/items/{key}/history",
    ]
    answers = []
    for path in paths:
        response = await client.get(path, headers=who.headers)
        assert response.status_code == 200, (path, response.text)
        answers.append(response.json())
    return answers


async def _stored_events(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Event.type, Event.data, Event.changes).order_by(Event.seq)
        )
        return [{"type": t, "data": d, "changes": c} for t, d, c in rows]


async def test_before_the_reveal_nobody_sees_a_card_but_their_own(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    root = await make_user(app, db, "root", admin=True)
    bob, cal = people["bob"], people["cal"]
    keys = await items(client, people["ada"], 1)
    # Bob facilitates and votes; Ada is a project admin, root an instance admin.
    session = await start(client, bob, keys, scale="custom", cards=DECK)
    voted = ok(await vote(client, bob, session, keys[0], "zebra"))
    assert voted["rounds"][0]["my_card"] == "zebra"
    assert voted["rounds"][0]["votes"] is None
    ok(await vote(client, cal, session, keys[0], "koala"))
    own = {"bob": {"zebra"}, "cal": {"koala"}}
    for who in (bob, cal, people["ada"], people["vic"], root):
        for answer in await _everything_seen_by(client, who, session, keys[0]):
            assert _cards_in(answer) <= own.get(who.username, set()), (who.username, answer)
        shown = ok(await client.get(url(session), headers=who.headers))["current"]["rounds"][0]
        assert [v["user"]["username"] for v in shown["voters"]] == ["bob", "cal"]
        assert shown["votes"] is None
        assert shown["spread"] is None
        assert shown["calibration"] is None
    for event in await _stored_events(db):
        assert _cards_in(event) == set(), event
    cast = [e["data"] for e in await _stored_events(db) if e["type"] == "estimation.vote_cast"]
    assert [(c["voter"], c["votes_cast"], c["participants"]) for c in cast] == [
        ("bob", 1, 3),
        ("cal", 2, 3),
    ]
    assert all(
        set(c) == {"id", "item_key", "round", "voter", "changed", "votes_cast", "participants"}
        for c in cast
    )


async def test_the_reveal_shows_every_card_to_everyone(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    bob, cal = people["bob"], people["cal"]
    keys = await items(client, bob, 1)
    session = await start(client, bob, keys, scale="custom", cards=DECK)
    ok(await vote(client, bob, session, keys[0], "zebra"))
    ok(await vote(client, cal, session, keys[0], "koala"))
    ok(await act(client, bob, session, keys[0], "reveal"))
    shown = ok(await client.get(url(session), headers=people["vic"].headers))
    votes = shown["current"]["rounds"][0]["votes"]
    assert [(v["voter"]["username"], v["card"], v["points"]) for v in votes] == [
        ("bob", "zebra", 40),
        ("cal", "koala", 100),
    ]
    revealed = [e["data"] for e in await _stored_events(db) if e["type"] == "estimation.revealed"]
    assert [(v["voter"], v["card"]) for v in revealed[0]["votes"]] == [
        ("bob", "zebra"),
        ("cal", "koala"),
    ]


async def test_a_round_reset_before_its_reveal_keeps_its_cards_secret_for_good(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    bob, cal = people["bob"], people["cal"]
    keys = await items(client, bob, 1)
    session = await start(client, bob, keys, scale="custom", cards=DECK)
    ok(await vote(client, cal, session, keys[0], "koala"))
    reset = ok(await act(client, bob, session, keys[0], "reset"))
    assert [r["number"] for r in reset["rounds"]] == [1, 2]
    assert reset["rounds"][0]["reset_at"] is not None
    ok(await vote(client, cal, session, keys[0], "zebra"))
    ok(await act(client, bob, session, keys[0], "reveal"))
    ok(await act(client, bob, session, keys[0], "finalize", estimate=40))
    item = ok(await client.get(url(session, keys[0]), headers=people["vic"].headers))
    first, second = item["rounds"]
    assert first["revealed"] is False
    assert first["votes"] is None
    assert [v["user"]["username"] for v in first["voters"]] == ["cal"]
    assert [v["card"] for v in second["votes"]] == ["zebra"]
    for who in (bob, people["vic"]):
        for answer in await _everything_seen_by(client, who, session, keys[0]):
            assert "koala" not in _cards_in(answer)
    # Cal still sees the card they played.
    mine = ok(await client.get(url(session, keys[0]), headers=cal.headers))
    assert mine["rounds"][0]["my_card"] == "koala"
    for event in await _stored_events(db):
        assert "koala" not in _cards_in(event)
