"""Starting a planning-poker session: its deck from the project's scale (or T-shirt sizes, or
custom cards on the scale), its participants, its items in order; the list; what a caller
can't reach."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.estimation.kit import SESSIONS, items, ok, poker_team, start, url
from tests.support import make_user


async def test_a_session_starts_on_its_first_item_with_the_projects_deck(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    bob = people["bob"]
    keys = await items(client, bob, 3)
    created = await client.post(
        SESSIONS, json={"title": "Refinement", "item_keys": keys}, headers=bob.headers
    )
    session = ok(created, 201)
    assert created.headers["Location"] == f"/api/v1/estimations/{session['id']}"
    assert created.headers["ETag"] == f'"v{session["version"]}"'
    assert session["facilitator"]["username"] == "bob"
    assert session["state"] == "open"
    assert session["scale"]["kind"] == "fibonacci"
    labels = [card["label"] for card in session["scale"]["cards"]]
    assert labels == ["0", "0.5", "1", "2", "3", "5", "8", "13", "20", "40", "100", "?"]
    # By default every member and admin votes; the viewer only watches.
    assert [p["username"] for p in session["participants"]] == ["ada", "bob", "cal"]
    assert [(i["item_key"], i["position"], i["state"]) for i in session["items"]] == [
        (keys[0], 1, "voting"),
        (keys[1], 2, "pending"),
        (keys[2], 3, "pending"),
    ]
    assert session["current_item_key"] == keys[0]
    assert [r["number"] for r in session["current"]["rounds"]] == [1]


async def test_tshirt_sizes_stand_for_points(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await poker_team(app, db))["ada"]
    keys = await items(client, ada, 1)
    session = await start(client, ada, keys, scale="tshirt", unsure_card=False)
    cards = [(c["label"], c["points"]) for c in session["scale"]["cards"]]
    assert cards == [("XS", 1), ("S", 2), ("M", 3), ("L", 5), ("XL", 8), ("XXL", 13)]


async def test_a_tshirt_project_defaults_to_tshirt_and_refuses_the_fibonacci_deck(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await poker_team(app, db))["ada"]
    changed = await client.patch(
        "/api/v1/projects/API", json={"settings": {"estimate_scale": "tshirt"}}, headers=ada.headers
    )
    assert changed.status_code == 200, changed.text
    keys = await items(client, ada, 1)
    assert (await start(client, ada, keys))["scale"]["kind"] == "tshirt"
    refused = await client.post(
        SESSIONS, json={"item_keys": keys, "scale": "fibonacci"}, headers=ada.headers
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/scale"
    assert "0.5, 20, 40, 100 not on the project's tshirt scale" in refused.text


async def test_a_custom_deck_takes_labels_for_points_of_the_scale(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await poker_team(app, db))["ada"]
    keys = await items(client, ada, 1)
    deck = [{"label": "large", "points": 13}, {"label": "small", "points": 2}]
    session = await start(client, ada, keys, scale="custom", cards=deck)
    assert [(c["label"], c["points"]) for c in session["scale"]["cards"]] == [
        ("small", 2),
        ("large", 13),
        ("?", None),
    ]


async def test_custom_decks_are_checked(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await poker_team(app, db))["ada"]
    keys = await items(client, ada, 1)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"scale": "custom"}, "/cards"),
        ({"cards": [{"label": "a", "points": 1}, {"label": "b", "points": 2}]}, "/cards"),
        (
            {
                "scale": "custom",
                "cards": [{"label": "a", "points": 1}, {"label": "A", "points": 2}],
            },
            "/cards/1/label",
        ),
        (
            {
                "scale": "custom",
                "cards": [{"label": "a", "points": 1}, {"label": "b", "points": 1}],
            },
            "/cards/1/points",
        ),
        (
            {
                "scale": "custom",
                "cards": [{"label": "?", "points": 1}, {"label": "b", "points": 2}],
            },
            "/cards/0/label",
        ),
        ({"scale": "custom", "cards": [{"label": "a", "points": 1}]}, "/cards"),
        (
            {
                "scale": "custom",
                "cards": [{"label": "a", "points": 7}, {"label": "b", "points": 1}],
            },
            "/cards/0/points",
        ),
    ]
    for body, pointer in cases:
        answer = await client.post(SESSIONS, json={"item_keys": keys, **body}, headers=ada.headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["pointer"] == pointer, (body, answer.text)


async def test_items_must_be_the_projects_each_once_and_at_most_fifty(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 1)
    for body, pointer in [
        ({"item_keys": [keys[0], keys[0]]}, "/item_keys/1"),
        ({"item_keys": [keys[0], "API-999"]}, "/item_keys/1"),
        ({"item_keys": []}, "/item_keys"),
        ({"item_keys": [f"API-{n}" for n in range(1, 52)]}, "/item_keys"),
    ]:
        answer = await client.post(SESSIONS, json=body, headers=ada.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["pointer"] == pointer


async def test_an_item_of_another_project_is_unknown_here(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    from tests.support import make_project

    ada = (await poker_team(app, db))["ada"]
    await make_project(db, ada, "OTH")
    other = await client.post(
        "/api/v1/projects/OTH/items", json={"title": "Elsewhere"}, headers=ada.headers
    )
    answer = await client.post(
        SESSIONS, json={"item_keys": [other.json()["key"]]}, headers=ada.headers
    )
    assert answer.status_code == 422
    assert "No item OTH-1 in this project" in answer.text


async def test_participants_are_members_who_can_write(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 1)
    chosen = await start(client, ada, keys, participants=["bob", people["cal"].id, "BOB"])
    assert [p["username"] for p in chosen["participants"]] == ["bob", "cal"]
    for who, message in (
        ("vic", "viewers can't vote"),
        ("sam", "not a member"),
        ("nobody", "not a member"),
    ):
        answer = await client.post(
            SESSIONS, json={"item_keys": keys, "participants": [who]}, headers=ada.headers
        )
        assert answer.status_code == 422, answer.text
        assert message in answer.text
        assert answer.json()["errors"][0]["pointer"] == "/participants/0"
    empty = await client.post(
        SESSIONS, json={"item_keys": keys, "participants": []}, headers=ada.headers
    )
    assert empty.status_code == 422


async def test_viewers_watch_but_cant_start_and_strangers_see_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    keys = await items(client, people["ada"], 1)
    session = await start(client, people["bob"], keys)
    viewer = await client.post(SESSIONS, json={"item_keys": keys}, headers=people["vic"].headers)
    assert viewer.status_code == 403
    assert (await client.get(url(session), headers=people["vic"].headers)).status_code == 200
    for path in (url(session), url(session, keys[0]), SESSIONS):
        stranger = await client.get(path, headers=people["sam"].headers)
        assert stranger.status_code == 404, path
    missing = await client.get(url("no-such-session"), headers=people["ada"].headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    not_in_session = await client.get(url(session, "API-99"), headers=people["ada"].headers)
    assert not_in_session.status_code == 404


async def test_the_list_shows_the_newest_first_and_filters_by_state(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 2)
    first = await start(client, ada, keys, title="First")
    second = await start(client, people["bob"], keys[1:], title="Second")
    ok(await client.post(url(first, act="finish"), headers=ada.headers))
    listed = ok(await client.get(SESSIONS, headers=people["vic"].headers))["data"]
    assert [s["title"] for s in listed] == ["Second", "First"]
    assert listed[0]["items"] == 1
    assert listed[0]["current_item_key"] == keys[1]
    assert listed[1]["state"] == "finished"
    assert listed[1]["current_item_key"] is None
    open_ = ok(await client.get(SESSIONS, params={"state": "open"}, headers=ada.headers))["data"]
    assert [s["id"] for s in open_] == [second["id"]]
    paged = ok(await client.get(SESSIONS, params={"limit": 1}, headers=ada.headers))
    assert len(paged["data"]) == 1
    assert paged["next_cursor"]
    rest = ok(
        await client.get(
            SESSIONS, params={"limit": 1, "cursor": paged["next_cursor"]}, headers=ada.headers
        )
    )
    assert [s["id"] for s in rest["data"]] == [first["id"]]


async def test_a_get_honours_if_none_match(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await poker_team(app, db)
    keys = await items(client, people["ada"], 1)
    session = await start(client, people["ada"], keys)
    shown = await client.get(url(session), headers=people["bob"].headers)
    etag = shown.headers["ETag"]
    again = await client.get(url(session), headers={**people["bob"].headers, "If-None-Match": etag})
    assert again.status_code == 304
    ok(
        await client.put(
            url(session, keys[0], "vote"), json={"card": "3"}, headers=people["cal"].headers
        )
    )
    changed = await client.get(
        url(session), headers={**people["bob"].headers, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.json()["current"]["votes_cast"] == 1


async def test_a_disabled_account_is_not_a_default_participant(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """An instance admin disabled cal: still a member, but not among the voters a session
    takes by default."""
    people = await poker_team(app, db)
    root = await make_user(app, db, "root", admin=True)
    disabled = await client.patch(
        f"/api/v1/users/{people['cal'].id}", json={"is_active": False}, headers=root.headers
    )
    assert disabled.status_code == 200, disabled.text
    session = await start(client, people["bob"], await items(client, people["bob"], 1))
    assert [p["username"] for p in session["participants"]] == ["ada", "bob"]
