"""Creating retros from templates, and the phases: in order only, advanced by the facilitator,
each allowing only its own acts."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.retros.kit import (
    add_card,
    advance,
    advance_to,
    get_retro,
    join,
    new_retro,
    retros_of,
    vote,
)
from tests.support import team


async def test_templates_give_their_prompts(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    expected = {
        "start_stop_continue": ["Start", "Stop", "Continue"],
        "mad_sad_glad": ["Mad", "Sad", "Glad"],
        "4ls": ["Liked", "Learned", "Lacked", "Longed for"],
        "went_well": ["Went well", "To improve", "Ideas"],
    }
    for template, texts in expected.items():
        retro = await new_retro(client, ada, template=template)
        assert [p["text"] for p in retro["prompts"]] == texts
        assert retro["template"] == template
    default = await new_retro(client, ada)
    assert [p["id"] for p in default["prompts"]] == ["start", "stop", "continue"]
    assert default["phase"] == "collect"
    assert default["anonymous"] is True
    assert default["hide_cards_during_collect"] is True
    assert (default["vote_budget"], default["max_votes_per_group"]) == (5, 3)
    assert default["facilitator"]["username"] == "ada"
    assert default["can_facilitate"] is True
    assert default["title"].startswith("Retro ")


async def test_custom_prompts_up_to_eight(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    prompts = [f"Question {n}" for n in range(1, 9)]
    retro = await new_retro(client, ada, template="custom", prompts=prompts)
    assert [p["text"] for p in retro["prompts"]] == prompts
    assert [p["id"] for p in retro["prompts"]] == [f"p{n}" for n in range(1, 9)]
    refused = [
        {"template": "custom", "prompts": [*prompts, "Nine"]},
        {"template": "custom"},
        {"template": "mad_sad_glad", "prompts": ["Extra"]},
        {"vote_budget": 2, "max_votes_per_group": 3},
        {"sprint_id": "not-a-sprint"},
        {"vote_budget": 0},
    ]
    for body in refused:
        answer = await client.post(retros_of(), json=body, headers=ada.headers)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"


async def test_phases_advance_in_order_by_the_facilitator_only(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob, vic = people["ada"], people["bob"], people["vic"]
    retro = await new_retro(client, bob)  # bob, a member, facilitates his own retro
    rid = retro["id"]
    path = f"/api/v1/retros/{rid}/advance"
    assert (await client.post(path, headers=vic.headers)).status_code == 403
    skipped = await client.post(path, json={"to": "vote"}, headers=bob.headers)
    assert skipped.status_code == 409
    assert skipped.json()["code"] == "retro-phase-order"
    seen = [retro["phase"]]
    for expected in ("group", "vote"):
        seen.append((await advance(client, bob, rid, expected))["phase"])
    # A project admin may facilitate anyone's retro.
    seen.append((await advance(client, ada, rid))["phase"])
    seen.append((await advance(client, bob, rid, "closed"))["phase"])
    assert seen == ["collect", "group", "vote", "discuss", "closed"]
    closed = await get_retro(client, bob, rid)
    assert closed["closed_at"] is not None
    again = await client.post(path, headers=bob.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "retro-phase-order"

    cyd = await join(client, app, db, ada, "cyd")
    other = await new_retro(client, bob)
    refused = await client.post(f"/api/v1/retros/{other['id']}/advance", headers=cyd.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not-retro-facilitator"
    assert (await get_retro(client, cyd, other["id"]))["can_facilitate"] is False


async def test_each_phase_refuses_the_acts_of_the_others_with_409(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    card = await add_card(client, bob, rid, "Deploys are slow")
    group_body = {"title": "G", "card_ids": [card["id"]]}
    action_body = {"title": "Fix it", "owner": "bob"}

    async def codes() -> dict[str, int]:
        answers = {
            "card": await client.post(
                f"/api/v1/retros/{rid}/cards",
                json={"prompt_id": "stop", "text": "x"},
                headers=bob.headers,
            ),
            "group": await client.post(
                f"/api/v1/retros/{rid}/groups", json=group_body, headers=bob.headers
            ),
            "action": await client.post(
                f"/api/v1/retros/{rid}/actions", json=action_body, headers=bob.headers
            ),
        }
        for answer in answers.values():
            if answer.status_code == 409:
                assert answer.json()["code"] == "retro-wrong-phase"
        return {name: answer.status_code for name, answer in answers.items()}

    assert await codes() == {"card": 201, "group": 409, "action": 409}
    await advance(client, ada, rid, "group")
    assert await codes() == {"card": 409, "group": 201, "action": 409}
    await advance(client, ada, rid, "vote")
    group_id = (await get_retro(client, bob, rid))["groups"][0]["id"]
    in_vote = await codes()
    assert in_vote == {"card": 409, "group": 409, "action": 409}
    detail = (
        await client.post(
            f"/api/v1/retros/{rid}/cards",
            json={"prompt_id": "stop", "text": "late"},
            headers=bob.headers,
        )
    ).json()["detail"]
    assert "collect" in detail
    assert "vote" in detail
    assert (await vote(client, bob, rid, group_id)).status_code == 201
    await advance_to(client, ada, rid, "discuss")
    assert (await vote(client, bob, rid, group_id)).json()["code"] == "retro-wrong-phase"
    assert await codes() == {"card": 409, "group": 409, "action": 201}
    await advance(client, ada, rid, "closed")
    assert await codes() == {"card": 409, "group": 409, "action": 409}


async def test_viewers_read_but_do_not_take_part(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, vic, sam = people["ada"], people["vic"], people["sam"]
    rid = (await new_retro(client, ada))["id"]
    assert (await get_retro(client, vic, rid))["can_facilitate"] is False
    card = await client.post(
        f"/api/v1/retros/{rid}/cards", json={"prompt_id": "start", "text": "x"}, headers=vic.headers
    )
    assert card.status_code == 403
    assert (await client.get(f"/api/v1/retros/{rid}", headers=sam.headers)).status_code == 404
    assert (await client.post(retros_of(), json={}, headers=vic.headers)).status_code == 403


async def test_the_list_is_newest_first_and_filters(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    first = await new_retro(client, ada, title="First")
    second = await new_retro(client, ada, title="Second")
    await advance(client, ada, second["id"])
    listed = (await client.get(retros_of(), headers=ada.headers)).json()
    assert [r["title"] for r in listed["data"]] == ["Second", "First"]
    grouping = await client.get(retros_of(), params={"phase": "group"}, headers=ada.headers)
    assert [r["id"] for r in grouping.json()["data"]] == [second["id"]]
    paged = await client.get(retros_of(), params={"limit": 1}, headers=ada.headers)
    assert paged.json()["next_cursor"] is not None
    rest = await client.get(
        retros_of(), params={"limit": 1, "cursor": paged.json()["next_cursor"]}, headers=ada.headers
    )
    assert [r["id"] for r in rest.json()["data"]] == [first["id"]]
