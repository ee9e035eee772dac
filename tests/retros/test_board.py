"""Cards and groups: cards hidden during collect (configurable), `mine`, only authors edit,
groups that take cards from each other, and every card voteable once voting starts."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.retros.kit import add_card, advance, get_retro, join, new_group, new_retro
from tests.support import team


async def test_during_collect_each_sees_only_their_own_cards_then_all(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob, vic = people["ada"], people["bob"], people["vic"]
    rid = (await new_retro(client, ada))["id"]
    mine = await add_card(client, bob, rid, "Standups run long")
    assert mine["mine"] is True
    assert mine["author"] is None
    await add_card(client, ada, rid, "Great pairing", "continue")
    for who, own in ((bob, ["Standups run long"]), (ada, ["Great pairing"]), (vic, [])):
        seen = await get_retro(client, who, rid)
        assert [c["text"] for c in seen["cards"]] == own
        assert all(c["mine"] for c in seen["cards"])
        assert seen["hidden_cards"] == 2 - len(own)
    # Someone else's hidden card is not there for you, not even to the facilitator.
    hidden = await client.patch(
        f"/api/v1/retros/{rid}/cards/{mine['id']}", json={"text": "x"}, headers=ada.headers
    )
    assert hidden.status_code == 404
    await advance(client, ada, rid, "group")
    for who in (bob, ada, vic):
        seen = await get_retro(client, who, rid)
        assert sorted(c["text"] for c in seen["cards"]) == ["Great pairing", "Standups run long"]
        assert seen["hidden_cards"] == 0
        assert [c["mine"] for c in seen["cards"]] == [who is bob, who is ada]


async def test_cards_can_be_shown_during_collect(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada, hide_cards_during_collect=False))["id"]
    await add_card(client, bob, rid, "Visible at once")
    seen = await get_retro(client, ada, rid)
    assert [(c["text"], c["mine"], c["author"]) for c in seen["cards"]] == [
        ("Visible at once", False, None)
    ]


async def test_a_retro_that_is_not_anonymous_names_authors(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada, anonymous=False, hide_cards_during_collect=False))["id"]
    card = await add_card(client, bob, rid, "Signed")
    assert card["author"]["username"] == "bob"
    seen = await get_retro(client, ada, rid)
    assert seen["cards"][0]["author"]["username"] == "bob"


async def test_only_the_author_edits_or_removes_a_card(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    card = await add_card(client, bob, rid, "Typo hree")
    path = f"/api/v1/retros/{rid}/cards/{card['id']}"
    edited = await client.patch(
        path, json={"text": "Typo here", "prompt_id": "stop"}, headers=bob.headers
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["text"], edited.json()["prompt_id"]) == ("Typo here", "stop")
    assert edited.headers["ETag"] == f'"v{edited.json()["version"]}"'
    stale = await client.patch(
        path, json={"text": "x"}, headers={**bob.headers, "If-Match": '"v1"'}
    )
    assert stale.status_code == 412
    wrong_prompt = await client.patch(path, json={"prompt_id": "glad"}, headers=bob.headers)
    assert wrong_prompt.status_code == 422
    await advance(client, ada, rid, "group")
    # Visible now, but still not theirs: 403, and the answer names nobody.
    for who in (ada,):
        refused = await client.patch(path, json={"text": "Mine now"}, headers=who.headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "not-card-author"
        assert "bob" not in refused.text
        assert (await client.delete(path, headers=who.headers)).status_code == 403
    assert (await client.patch(path, json={"text": "Still mine"}, headers=bob.headers)).is_success
    await advance(client, ada, rid, "vote")
    late = await client.patch(path, json={"text": "Too late"}, headers=bob.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "retro-wrong-phase"


async def test_removing_a_card_removes_the_group_it_leaves_empty(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    alone = await add_card(client, bob, rid, "Alone")
    pair = [await add_card(client, bob, rid, f"Pair {n}") for n in (1, 2)]
    await advance(client, ada, rid, "group")
    single = await new_group(client, ada, rid, "Single", [alone["id"]])
    double = await new_group(client, ada, rid, "Double", [c["id"] for c in pair])
    for card in (alone, pair[0]):
        removed = await client.delete(
            f"/api/v1/retros/{rid}/cards/{card['id']}", headers=bob.headers
        )
        assert removed.status_code == 204
    groups = (await get_retro(client, ada, rid))["groups"]
    assert [(g["id"], g["card_ids"]) for g in groups] == [(double["id"], [pair[1]["id"]])]
    assert single["id"] not in {g["id"] for g in groups}


async def test_groups_take_cards_from_each_other_and_empty_ones_go(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    cyd = await join(client, app, db, ada, "cyd")
    rid = (await new_retro(client, ada))["id"]
    cards = [await add_card(client, who, rid, f"Card {n}") for n, who in enumerate((bob, cyd, bob))]
    ids = [c["id"] for c in cards]
    # An anonymous retro lists cards of one prompt by id, never in the order of their writing.
    in_order = sorted(ids)
    await advance(client, ada, rid, "group")
    first = await new_group(client, bob, rid, "Reviews", ids[:2])
    second = await new_group(client, cyd, rid, "Deploys", [ids[2]])
    # Moving the second's only card into the first removes the second.
    moved = await client.patch(
        f"/api/v1/retros/{rid}/groups/{first['id']}",
        json={"title": "Reviews and deploys", "card_ids": ids},
        headers=cyd.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["card_ids"] == in_order
    groups = (await get_retro(client, ada, rid))["groups"]
    assert [(g["title"], g["card_ids"]) for g in groups] == [("Reviews and deploys", in_order)]
    # A new group takes a card out of the first; the first keeps the rest.
    third = await new_group(client, bob, rid, "Split", [ids[0]])
    groups = {g["id"]: g["card_ids"] for g in (await get_retro(client, ada, rid))["groups"]}
    assert groups == {first["id"]: sorted(ids[1:]), third["id"]: [ids[0]]}
    assert second["id"] not in groups
    # Bad references are 422 at the card's place in the list.
    bad = await client.post(
        f"/api/v1/retros/{rid}/groups",
        json={"title": "Bad", "card_ids": [ids[0], "nope", ids[0]]},
        headers=bob.headers,
    )
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/card_ids/2"]
    unknown = await client.post(
        f"/api/v1/retros/{rid}/groups",
        json={"title": "Bad", "card_ids": ["nope"]},
        headers=bob.headers,
    )
    assert [e["pointer"] for e in unknown.json()["errors"]] == ["/card_ids/0"]
    # Removing a group leaves its cards outside any group.
    gone = await client.delete(f"/api/v1/retros/{rid}/groups/{third['id']}", headers=bob.headers)
    assert gone.status_code == 204
    seen = await get_retro(client, ada, rid)
    assert {c["id"]: c["group_id"] for c in seen["cards"]} == {
        ids[0]: None,
        ids[1]: first["id"],
        ids[2]: first["id"],
    }
    missing = await client.delete(f"/api/v1/retros/{rid}/groups/{third['id']}", headers=bob.headers)
    assert missing.status_code == 404


async def test_entering_vote_makes_each_loose_card_a_group_of_its_own(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    rid = (await new_retro(client, ada))["id"]
    cards = [await add_card(client, bob, rid, text) for text in ("A\nmore", "B", "C")]
    await advance(client, ada, rid, "group")
    await new_group(client, bob, rid, "B and C", [cards[1]["id"], cards[2]["id"]])
    voting = await advance(client, ada, rid, "vote")
    assert [(g["title"], g["card_ids"]) for g in voting["groups"]] == [
        ("B and C", sorted([cards[1]["id"], cards[2]["id"]])),
        ("A", [cards[0]["id"]]),
    ]
    assert all(c["group_id"] for c in voting["cards"])
