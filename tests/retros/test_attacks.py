"""Attacks on retrospectives: learning an anonymous author (from timing, order, ids, events, the
audit log, an action item's history), peeking at hidden cards or private votes, reaching a retro
from outside its project or beyond a token's reach, mixing up the objects of two retros, changing
the board after votes, and input built to crash the server. Each must fail with a 4xx."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

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
    new_group,
    new_retro,
    retros_of,
    vote,
)
from tests.support import Account, bearer, make_pat, make_project, make_user, team


def _is_problem(answer: Any, *codes: int) -> None:
    assert answer.status_code in codes, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"] == "application/problem+json", answer.text[:300]


async def _events(client: AsyncClient, who: Account, prefix: str = "retro.") -> list[Any]:
    found: list[Any] = []
    cursor = None
    while True:
        params: dict[str, str] = {"after": cursor} if cursor else {}
        page = (
            await client.get("/api/v1/projects/API/events", params=params, headers=who.headers)
        ).json()
        if not page["data"]:
            return [e for e in found if e["type"].startswith(prefix)]
        found += page["data"]
        cursor = page["next_cursor"]


# Anonymity: timing, order, ids ----------------------------------------------------------------


async def test_hidden_cards_leave_no_trail_from_their_time_to_their_text(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Whoever knows *when* someone wrote (they watched them press enter) must not find *which*
    card it was: while collect hides cards, the events of a card carry no card id; afterwards an
    anonymous retro shows nobody else's card with its time, and lists cards in an order that
    says nothing of when they were written."""
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    cyd = await join(client, app, db, ada, "cyd")
    rid = (await new_retro(client, ada))["id"]
    written = []
    for n in range(12):
        who = bob if n % 2 else cyd
        written.append(await add_card(client, who, rid, f"Card {n}", ("start", "stop")[n % 2]))
    edit = await client.patch(
        f"/api/v1/retros/{rid}/cards/{written[0]['id']}",
        json={"text": "Card 0!"},
        headers=cyd.headers,
    )
    assert edit.status_code == 200
    gone = await add_card(client, bob, rid, "Gone soon")
    removed = await client.delete(f"/api/v1/retros/{rid}/cards/{gone['id']}", headers=bob.headers)
    assert removed.status_code == 204
    # The author still sees their own card's times, and the events still say a card came.
    assert written[1]["created_at"] is not None
    card_events = [e for e in await _events(client, ada) if e["type"].startswith("retro.card_")]
    assert len(card_events) == 15
    ids = {c["id"] for c in written} | {gone["id"]}
    for event in card_events:
        # Not the card, not its prompt (one card under a prompt would be found by it), not
        # what changed.
        assert not ids & set(json.dumps(event).split('"')), event
        assert event["actor"] is None
        assert event["data"].get("prompt_id") is None, event
        assert not event["changes"], event
    # Ids are random (UUID 4): they encode neither a time nor a person.
    assert {uuid.UUID(i).version for i in ids} == {4}
    await advance(client, ada, rid, "group")
    for who in (ada, bob, cyd):
        cards = (await get_retro(client, who, rid))["cards"]
        for card in cards:
            if not card["mine"]:
                # Nor when, nor how often (an edit seen at a moment) it was written.
                assert (card["created_at"], card["updated_at"], card["version"]) == (
                    None,
                    None,
                    None,
                ), card
        # Under each prompt, cards come in the order of their ids (random), not of their writing.
        prompts = ["start", "stop"]
        order = [c["id"] for c in cards]
        assert order == [
            c["id"] for c in sorted(cards, key=lambda c: (prompts.index(c["prompt_id"]), c["id"]))
        ]
    # Groups made at the start of `vote` from loose cards come in that order too.
    voting = await advance_to_vote(client, ada, rid)
    by_card = {c["id"]: c for c in voting["cards"]}
    firsts = [by_card[g["card_ids"][0]] for g in voting["groups"]]
    assert [c["id"] for c in firsts] == [
        c["id"] for c in sorted(firsts, key=lambda c: (prompts.index(c["prompt_id"]), c["id"]))
    ]


async def advance_to_vote(client: AsyncClient, ada: Account, rid: str) -> dict[str, Any]:
    return await advance(client, ada, rid, "vote")


def _without_request(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k not in ("instance", "request_id")}


async def test_a_hidden_card_answers_as_a_missing_one_and_replays_are_the_callers_own(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    base = f"/api/v1/retros/{rid}/cards"
    body = {"prompt_id": "start", "text": "Same words"}
    key = {"Idempotency-Key": "retro-card-1"}
    first = await client.post(base, json=body, headers={**bob.headers, **key})
    again = await client.post(base, json=body, headers={**bob.headers, **key})
    assert (first.status_code, again.json()["id"]) == (201, first.json()["id"])
    # Another participant's same key and words make their own card: never bob's answer back.
    other = await client.post(base, json=body, headers={**ada.headers, **key})
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    assert other.json()["mine"] is True
    card = first.json()["id"]
    for method in ("PATCH", "DELETE"):
        answers = [
            await client.request(
                method,
                f"{base}/{target}",
                json={"text": "x"} if method == "PATCH" else None,
                headers=ada.headers,
            )
            for target in (card, "00000000-0000-4000-8000-000000000000")
        ]
        for answer in answers:
            _is_problem(answer, 404)
        assert _without_request(answers[0].json()) == _without_request(answers[1].json())
        assert answers[0].headers.keys() == answers[1].headers.keys()


async def test_an_edit_once_cards_show_leaves_no_dated_trail_to_the_card_in_the_log(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Once everyone reads the cards, whoever sees a colleague fix a typo at 10:42 must not find
    in the log (nor its stream, nor webhooks) which card changed at 10:42, nor its words: in an
    anonymous retro an edit's event says only that a card changed, as the board shows no
    card's `updated_at`. A signed retro's edits still name the card and what changed."""
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    found = {}
    for anonymous in (True, False):
        rid = (await new_retro(client, ada, anonymous=anonymous))["id"]
        card = await add_card(client, bob, rid, "Reviews wait", "stop")
        await add_card(client, ada, rid, "Deploys are slow", "stop")
        await advance(client, ada, rid, "group")
        for text, prompt in (("Reviews wait two days", "stop"), ("Reviews wait", "start")):
            edited = await client.patch(
                f"/api/v1/retros/{rid}/cards/{card['id']}",
                json={"text": text, "prompt_id": prompt},
                headers=bob.headers,
            )
            assert edited.status_code == 200, edited.text
        board = (await get_retro(client, ada, rid))["cards"]
        assert ("Reviews wait", "start") in {(c["text"], c["prompt_id"]) for c in board}
        found[anonymous] = [
            e
            for e in await _events(client, ada)
            if e["type"] == "retro.card_updated" and e["data"]["retro_id"] == rid
        ]
        assert len(found[anonymous]) == 2
    for event in found[True]:
        assert event["data"]["card_id"] is None, event
        assert not event["changes"], event
        assert event["actor"] is None
    assert [e["data"]["card_id"] for e in found[False]] == [found[False][0]["data"]["card_id"]] * 2
    assert found[False][0]["changes"] == {"text": ["Reviews wait", "Reviews wait two days"]}
    assert found[False][1]["changes"]["prompt_id"] == ["stop", "start"]


async def test_a_signed_retro_keeps_cards_in_the_order_they_were_written(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada, anonymous=False))["id"]
    written = [await add_card(client, bob, rid, f"Card {n}", "stop") for n in range(6)]
    await advance(client, ada, rid, "group")
    cards = (await get_retro(client, ada, rid))["cards"]
    assert [c["id"] for c in cards] == [c["id"] for c in written]
    assert all(c["created_at"] for c in cards)


async def test_the_audit_log_and_an_action_items_history_name_no_author(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    root = await make_user(app, db, "root", admin=True)
    rid = (await new_retro(client, ada))["id"]
    card = await add_card(client, bob, rid, "Reviews wait")
    await advance_to(client, ada, rid, "vote")
    group = (await get_retro(client, ada, rid))["groups"][0]["id"]
    assert (await vote(client, bob, rid, group)).status_code == 201
    await advance(client, ada, rid, "discuss")
    action = await client.post(
        f"/api/v1/retros/{rid}/actions",
        json={"title": card["text"], "owner": "ada", "group_id": group},
        headers=ada.headers,
    )
    assert action.status_code == 201, action.text
    texts = []
    for who, params in ((root, {}), (ada, {"project": "API"})):
        audit = await client.get("/api/v1/audit-log", params=params, headers=who.headers)
        assert audit.status_code == 200, audit.text
        texts.append(audit.text)
    history = await client.get(
        f"/api/v1/items/{action.json()['item_key']}/history", headers=ada.headers
    )
    assert history.status_code == 200
    texts.append(history.text)
    item = await client.get(f"/api/v1/items/{action.json()['item_key']}", headers=ada.headers)
    texts.append(item.text)
    for text in texts:
        assert bob.id not in text, text[:500]
        assert '"bob"' not in text, text[:500]


# Reach ----------------------------------------------------------------------------------------


async def _retro_in_each_phase(client: AsyncClient, ada: Account, bob: Account) -> dict[str, Any]:
    """A retro in `vote` with bob's card, its group and bob's vote; ids of each."""
    rid = (await new_retro(client, ada))["id"]
    card = await add_card(client, bob, rid, "Something")
    await advance_to(client, ada, rid, "vote")
    group = (await get_retro(client, bob, rid))["groups"][0]["id"]
    cast = await vote(client, bob, rid, group)
    assert cast.status_code == 201
    return {"rid": rid, "card": card["id"], "group": group, "vote": cast.json()["id"]}


def _every_operation(r: dict[str, Any]) -> list[tuple[str, str, Any]]:
    base = f"/api/v1/retros/{r['rid']}"
    return [
        ("GET", base, None),
        ("POST", f"{base}/advance", {}),
        ("POST", f"{base}/cards", {"prompt_id": "start", "text": "x"}),
        ("PATCH", f"{base}/cards/{r['card']}", {"text": "x"}),
        ("DELETE", f"{base}/cards/{r['card']}", None),
        ("POST", f"{base}/groups", {"title": "x", "card_ids": [r["card"]]}),
        ("PATCH", f"{base}/groups/{r['group']}", {"title": "x"}),
        ("DELETE", f"{base}/groups/{r['group']}", None),
        ("POST", f"{base}/votes", {"group_id": r["group"]}),
        ("DELETE", f"{base}/votes/{r['vote']}", None),
        ("POST", f"{base}/actions", {"title": "x", "owner": "ada"}),
    ]


async def test_outsiders_get_404_and_tokens_stay_within_their_reach(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob, vic, sam = people["ada"], people["bob"], people["vic"], people["sam"]
    await make_project(db, bob, "OTH")
    r = await _retro_in_each_phase(client, ada, bob)
    _, elsewhere = await make_pat(app, db, bob, ["read", "write"], projects=["OTH"])
    _, reader = await make_pat(app, db, bob, ["read"])
    operations = _every_operation(r)
    for method, path, body in operations:
        for headers in (sam.headers, bearer(elsewhere)):
            answer = await client.request(method, path, json=body, headers=headers)
            _is_problem(answer, 404)
        for headers in (vic.headers, bearer(reader)):
            answer = await client.request(method, path, json=body, headers=headers)
            if method == "GET":
                assert answer.status_code == 200
            else:
                _is_problem(answer, 403)
    for headers in (sam.headers, bearer(elsewhere)):
        _is_problem(await client.get(retros_of(), headers=headers), 404)
        _is_problem(await client.post(retros_of(), json={}, headers=headers), 404)
    for headers in (vic.headers, bearer(reader)):
        _is_problem(await client.post(retros_of(), json={}, headers=headers), 403)
    # Nothing changed: bob's vote and card are still there.
    seen = await get_retro(client, bob, r["rid"])
    assert [v["id"] for v in seen["my_votes"]] == [r["vote"]]
    assert [c["id"] for c in seen["cards"]] == [r["card"]]


async def test_an_instance_admin_outside_the_project_sees_no_author(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    root = await make_user(app, db, "root", admin=True)
    rid = (await new_retro(client, ada))["id"]
    card = await add_card(client, bob, rid, "Secret")
    during = await get_retro(client, root, rid)
    assert (during["cards"], during["hidden_cards"]) == ([], 1)
    hidden = await client.patch(
        f"/api/v1/retros/{rid}/cards/{card['id']}", json={"text": "x"}, headers=root.headers
    )
    _is_problem(hidden, 404)
    await advance(client, root, rid, "group")  # an admin may facilitate
    seen = await get_retro(client, root, rid)
    assert [(c["mine"], c["author"]) for c in seen["cards"]] == [(False, None)]
    assert bob.id not in json.dumps(seen)


# Two retros' objects ---------------------------------------------------------------------------


async def test_the_objects_of_one_retro_are_not_found_through_another(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    other = await _retro_in_each_phase(client, ada, bob)
    rid = (await new_retro(client, ada))["id"]
    mine = await add_card(client, bob, rid, "Here")
    base = f"/api/v1/retros/{rid}"
    _is_problem(
        await client.patch(
            f"{base}/cards/{other['card']}", json={"text": "x"}, headers=bob.headers
        ),
        404,
    )
    _is_problem(await client.delete(f"{base}/cards/{other['card']}", headers=bob.headers), 404)
    await advance(client, ada, rid, "group")
    crossing = await client.post(
        f"{base}/groups",
        json={"title": "Across", "card_ids": [mine["id"], other["card"]]},
        headers=bob.headers,
    )
    _is_problem(crossing, 422)
    assert [e["pointer"] for e in crossing.json()["errors"]] == ["/card_ids/1"]
    _is_problem(
        await client.patch(
            f"{base}/groups/{other['group']}", json={"title": "x"}, headers=bob.headers
        ),
        404,
    )
    _is_problem(await client.delete(f"{base}/groups/{other['group']}", headers=bob.headers), 404)
    own = await new_group(client, bob, rid, "Own", [mine["id"]])
    pulled = await client.patch(
        f"{base}/groups/{own['id']}", json={"card_ids": [other["card"]]}, headers=bob.headers
    )
    _is_problem(pulled, 422)
    await advance(client, ada, rid, "vote")
    _is_problem(await vote(client, bob, rid, other["group"]), 422)
    _is_problem(await client.delete(f"{base}/votes/{other['vote']}", headers=bob.headers), 404)
    await advance(client, ada, rid, "discuss")
    action = await client.post(
        f"{base}/actions",
        json={"title": "x", "owner": "ada", "group_id": other["group"]},
        headers=ada.headers,
    )
    _is_problem(action, 422)
    # The other retro is as it was.
    seen = await get_retro(client, bob, other["rid"])
    assert [v["id"] for v in seen["my_votes"]] == [other["vote"]]
    assert seen["groups"][0]["card_ids"] == [other["card"]]


# After votes -----------------------------------------------------------------------------------


async def test_the_board_is_fixed_once_voting_starts(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    r = await _retro_in_each_phase(client, ada, bob)
    rid, base = r["rid"], f"/api/v1/retros/{r['rid']}"
    second = await client.post(
        f"{base}/cards", json={"prompt_id": "stop", "text": "Late"}, headers=bob.headers
    )
    for phase in ("vote", "discuss", "closed"):
        if phase != "vote":
            await advance(client, ada, rid, phase)
        tries = [
            await client.post(
                f"{base}/cards", json={"prompt_id": "stop", "text": "Late"}, headers=bob.headers
            ),
            await client.patch(
                f"{base}/cards/{r['card']}", json={"text": "x"}, headers=bob.headers
            ),
            await client.delete(f"{base}/cards/{r['card']}", headers=bob.headers),
            await client.post(
                f"{base}/groups", json={"title": "x", "card_ids": [r["card"]]}, headers=bob.headers
            ),
            await client.patch(
                f"{base}/groups/{r['group']}", json={"card_ids": [r["card"]]}, headers=bob.headers
            ),
            await client.delete(f"{base}/groups/{r['group']}", headers=ada.headers),
        ]
        if phase != "vote":
            tries.append(await vote(client, bob, rid, r["group"]))
            tries.append(await client.delete(f"{base}/votes/{r['vote']}", headers=bob.headers))
        if phase != "discuss":
            tries.append(
                await client.post(
                    f"{base}/actions", json={"title": "x", "owner": "ada"}, headers=ada.headers
                )
            )
        for answer in tries:
            _is_problem(answer, 409)
            assert answer.json()["code"] == "retro-wrong-phase"
    _is_problem(second, 409)
    closed = await get_retro(client, bob, rid)
    assert [(g["id"], g["votes"], g["card_ids"]) for g in closed["groups"]] == [
        (r["group"], 1, [r["card"]])
    ]
    _is_problem(await client.post(f"{base}/advance", headers=ada.headers), 409)


async def test_two_facilitators_advancing_at_once_move_one_phase(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    root = await make_user(app, db, "root", admin=True)
    rid = (await new_retro(client, ada))["id"]
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/retros/{rid}/advance", json={"to": "group"}, headers=who.headers)
            for who in (ada, root, ada, root)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert (await get_retro(client, ada, rid))["phase"] == "group"


async def test_taking_one_vote_back_twice_at_once_takes_it_back_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    r = await _retro_in_each_phase(client, ada, bob)
    path = f"/api/v1/retros/{r['rid']}/votes/{r['vote']}"
    answers = await asyncio.gather(*(client.delete(path, headers=bob.headers) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [204] + [404] * 5
    async with db.transaction() as session:
        left = await session.scalar(
            select(func.count()).select_from(RetroVote).where(RetroVote.retro_id == r["rid"])
        )
        removed = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.type == "retro.vote_removed", Event.subject_id == r["rid"])
        )
    assert (left, removed) == (0, 1)


# Bad input -------------------------------------------------------------------------------------


async def test_malformed_requests_are_4xx_problems(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    collect = (await new_retro(client, ada))["id"]
    card = await add_card(client, bob, collect, "Mine")
    r = await _retro_in_each_phase(client, ada, bob)
    huge = "x" * 100_001
    cases: list[tuple[str, str, Any, tuple[int, ...]]] = [
        ("POST", retros_of(), {"template": "custom", "prompts": ["q"] * 9}, (422,)),
        ("POST", retros_of(), {"template": "custom", "prompts": ["q" * 101]}, (422,)),
        ("POST", retros_of(), {"template": "custom", "prompts": [" "]}, (422,)),
        ("POST", retros_of(), {"template": "custom", "prompts": [7]}, (422,)),
        ("POST", retros_of(), {"template": "custom", "prompts": "q"}, (422,)),
        ("POST", retros_of(), {"template": "nope"}, (422,)),
        ("POST", retros_of(), {"title": huge}, (413, 422)),
        ("POST", retros_of(), {"title": "x" * 256}, (422,)),
        ("POST", retros_of(), {"title": None}, (422,)),
        ("POST", retros_of(), {"anonymous": "false"}, (422,)),
        ("POST", retros_of(), {"anonymous": 0}, (422,)),
        ("POST", retros_of(), {"vote_budget": "5"}, (422,)),
        ("POST", retros_of(), {"vote_budget": 5.5}, (422,)),
        ("POST", retros_of(), {"vote_budget": 10**30}, (422,)),
        ("POST", retros_of(), {"vote_budget": True}, (422,)),
        ("POST", retros_of(), {"sprint_id": "x" * 37}, (422,)),
        ("POST", retros_of(), {"sprint_id": 12}, (422,)),
        ("POST", retros_of(), {"facilitator_id": bob.id}, (422,)),
        ("POST", retros_of(), {"phase": "discuss"}, (422,)),
        ("POST", retros_of(), [], (422,)),
        ("POST", retros_of(), "text", (422,)),
        ("GET", f"{retros_of()}?phase=bogus", None, (422,)),
        ("GET", f"{retros_of()}?sprint_id={'x' * 37}", None, (422,)),
        ("GET", f"{retros_of()}?cursor=garbage", None, (400, 422)),
        ("GET", f"{retros_of()}?limit=100000", None, (400, 422)),
        ("GET", "/api/v1/retros/" + "x" * 37, None, (404, 422)),
        ("GET", "/api/v1/retros/%00", None, (400, 404, 422)),
        ("GET", "/api/v1/retros/nope", None, (404,)),
        ("POST", f"/api/v1/retros/{collect}/cards", {"prompt_id": "glad", "text": "x"}, (422,)),
        ("POST", f"/api/v1/retros/{collect}/cards", {"prompt_id": "start"}, (422,)),
        ("POST", f"/api/v1/retros/{collect}/cards", {"prompt_id": "start", "text": ""}, (422,)),
        ("POST", f"/api/v1/retros/{collect}/cards", {"prompt_id": "start", "text": "\n "}, (422,)),
        ("POST", f"/api/v1/retros/{collect}/cards", {"prompt_id": "start", "text": 3}, (422,)),
        ("POST", f"/api/v1/retros/{collect}/cards", {"prompt_id": "x" * 33, "text": "x"}, (422,)),
        (
            "POST",
            f"/api/v1/retros/{collect}/cards",
            {"prompt_id": "start", "text": "a\x00"},
            (422,),
        ),
        (
            "POST",
            f"/api/v1/retros/{collect}/cards",
            {"prompt_id": "start", "text": "x" * 2001},
            (422,),
        ),
        (
            "POST",
            f"/api/v1/retros/{collect}/cards",
            {"prompt_id": "start", "text": "x", "author_id": ada.id},
            (422,),
        ),
        (
            "POST",
            f"/api/v1/retros/{collect}/cards",
            {"prompt_id": "start", "text": "x", "kind": "evidence"},
            (422,),
        ),
        ("PATCH", f"/api/v1/retros/{collect}/cards/{card['id']}", {"text": None}, (422,)),
        ("PATCH", f"/api/v1/retros/{collect}/cards/{card['id']}", {"group_id": "x"}, (422,)),
        ("PATCH", f"/api/v1/retros/{collect}/cards/{card['id']}", {"prompt_id": "no"}, (422,)),
        ("PATCH", f"/api/v1/retros/{collect}/cards/{card['id']}", [], (422,)),
        ("PATCH", f"/api/v1/retros/{collect}/cards/{'x' * 37}", {"text": "x"}, (404, 422)),
        ("PATCH", f"/api/v1/retros/{collect}/cards/nope", {"text": "x"}, (404,)),
        ("DELETE", f"/api/v1/retros/{collect}/cards/nope", None, (404,)),
        ("POST", f"/api/v1/retros/{r['rid']}/votes", {"group_id": None}, (422,)),
        ("POST", f"/api/v1/retros/{r['rid']}/votes", {"group_id": ["x"]}, (422,)),
        ("POST", f"/api/v1/retros/{r['rid']}/votes", {"group_id": "x" * 37}, (422,)),
        ("POST", f"/api/v1/retros/{r['rid']}/votes", {"group_id": "nope"}, (422,)),
        ("POST", f"/api/v1/retros/{r['rid']}/votes", {}, (422,)),
        ("POST", f"/api/v1/retros/{r['rid']}/votes", {"group_id": r["group"], "n": 5}, (422,)),
        ("DELETE", f"/api/v1/retros/{r['rid']}/votes/nope", None, (404,)),
        ("DELETE", f"/api/v1/retros/{r['rid']}/votes/{'x' * 37}", None, (404, 422)),
    ]
    for method, path, body, codes in cases:
        answer = await client.request(method, path, json=body, headers=bob.headers)
        _is_problem(answer, *codes)
    advancing = f"/api/v1/retros/{collect}/advance"
    for body, code in (({"to": "bogus"}, 422), ({"to": "collect"}, 409), ({"to": 1}, 422)):
        _is_problem(await client.post(advancing, json=body, headers=ada.headers), code)
    _is_problem(await client.post(advancing, json=[], headers=ada.headers), 422)
    _is_problem(await client.post(advancing, json={"to": "group"}, headers=bob.headers), 403)
    group_retro = (await new_retro(client, ada))["id"]
    gcard = await add_card(client, bob, group_retro, "G")
    await advance(client, ada, group_retro, "group")
    group = await new_group(client, bob, group_retro, "G", [gcard["id"]])
    base = f"/api/v1/retros/{group_retro}/groups"
    group_cases: list[tuple[str, str, Any]] = [
        ("POST", base, {"title": "x", "card_ids": []}),
        ("POST", base, {"title": "x", "card_ids": [gcard["id"]] * 2}),
        ("POST", base, {"title": "x", "card_ids": ["y"] * 101}),
        ("POST", base, {"title": "x", "card_ids": [5]}),
        ("POST", base, {"title": "x", "card_ids": "abc"}),
        ("POST", base, {"title": "x" * 256, "card_ids": [gcard["id"]]}),
        ("POST", base, {"title": " ", "card_ids": [gcard["id"]]}),
        ("POST", base, {"card_ids": [gcard["id"]]}),
        ("PATCH", f"{base}/{group['id']}", {"card_ids": []}),
        ("PATCH", f"{base}/{group['id']}", {"card_ids": None}),
        ("PATCH", f"{base}/{group['id']}", {"title": None}),
        ("PATCH", f"{base}/{group['id']}", {"card_ids": ["nope"]}),
        ("PATCH", f"{base}/{group['id']}", {"votes": 10}),
        ("PATCH", f"{base}/nope", {"title": "x"}),
        ("DELETE", f"{base}/nope", None),
    ]
    for method, path, body in group_cases:
        answer = await client.request(method, path, json=body, headers=bob.headers)
        _is_problem(answer, 404, 422)
    await advance_to(client, ada, group_retro, "discuss")
    actions = f"/api/v1/retros/{group_retro}/actions"
    action_cases: list[Any] = [
        {"title": "x"},
        {"title": "x", "owner": "nobody"},
        {"title": "x", "owner": "vic"},
        {"title": "x", "owner": "sam"},
        {"title": "x", "owner": 5},
        {"title": "", "owner": "ada"},
        {"title": "x", "owner": "ada", "due_date": "tomorrow"},
        {"title": "x", "owner": "ada", "due_date": 1700000000},
        {"title": "x", "owner": "ada", "due_date": "99999-01-01"},
        {"title": "x", "owner": "ada", "group_id": "nope"},
        {"title": "x", "owner": "ada", "description": "d" * 60001},
        {"title": "x", "owner": "ada", "type": "bug"},
    ]
    for body in action_cases:
        _is_problem(await client.post(actions, json=body, headers=ada.headers), 422)
