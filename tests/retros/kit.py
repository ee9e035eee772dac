"""Helpers of the retros' tests: retros, cards, groups and votes through the API, a sprint to
look back on, and the seed the authorization matrix and the contract test use."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from takt.core.db import Database
from tests.support import Account, add_member, make_user

PHASES = ("collect", "group", "vote", "discuss", "closed")


async def join(
    client: AsyncClient,
    app: FastAPI,
    db: Database,
    admin: Account,
    username: str,
    role: str = "member",
    key: str = "API",
) -> Account:
    """A new account, added to project `key` with `role`."""
    account = await make_user(app, db, username)
    project = await client.get(f"/api/v1/projects/{key}", headers=admin.headers)
    assert project.status_code == 200, project.text
    await add_member(db, project.json()["id"], account, role)
    return account


def retros_of(key: str = "API") -> str:
    return f"/api/v1/projects/{key}/retros"


async def new_retro(
    client: AsyncClient, who: Account, key: str = "API", **body: Any
) -> dict[str, Any]:
    response = await client.post(retros_of(key), json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    retro: dict[str, Any] = response.json()
    return retro


async def get_retro(client: AsyncClient, who: Account, retro_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/retros/{retro_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    retro: dict[str, Any] = response.json()
    return retro


async def advance(
    client: AsyncClient, who: Account, retro_id: str, to: str | None = None
) -> dict[str, Any]:
    body = {"to": to} if to else None
    response = await client.post(
        f"/api/v1/retros/{retro_id}/advance", json=body, headers=who.headers
    )
    assert response.status_code == 200, response.text
    retro: dict[str, Any] = response.json()
    return retro


async def advance_to(client: AsyncClient, who: Account, retro_id: str, phase: str) -> None:
    current = (await get_retro(client, who, retro_id))["phase"]
    for step in PHASES[PHASES.index(current) + 1 : PHASES.index(phase) + 1]:
        await advance(client, who, retro_id, step)


async def add_card(
    client: AsyncClient, who: Account, retro_id: str, text: str, prompt_id: str = "start"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/retros/{retro_id}/cards",
        json={"prompt_id": prompt_id, "text": text},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    card: dict[str, Any] = response.json()
    return card


async def new_group(
    client: AsyncClient, who: Account, retro_id: str, title: str, card_ids: list[str]
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/retros/{retro_id}/groups",
        json={"title": title, "card_ids": card_ids},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def vote(client: AsyncClient, who: Account, retro_id: str, group_id: str) -> Any:
    return await client.post(
        f"/api/v1/retros/{retro_id}/votes", json={"group_id": group_id}, headers=who.headers
    )


async def finished_sprint(
    client: AsyncClient, admin: Account, items: list[tuple[float, bool]], *, name: str = "S1"
) -> dict[str, Any]:
    """A completed sprint of project API with items of these (estimate, done) pairs; its
    report."""
    sprint = await started_sprint(client, admin, items, name=name)
    done = await client.post(
        f"/api/v1/sprints/{sprint['id']}/complete", json={}, headers=admin.headers
    )
    assert done.status_code == 200, done.text
    completed: dict[str, Any] = done.json()
    return completed


async def started_sprint(
    client: AsyncClient, admin: Account, items: list[tuple[float, bool]], *, name: str = "S1"
) -> dict[str, Any]:
    """An active sprint of project API, started with items of these estimates, those marked
    done finished."""
    keys: list[str] = []
    for estimate, _ in items:
        created = await client.post(
            "/api/v1/projects/API/items",
            json={"title": f"Work {len(keys)}", "estimate": estimate},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        keys.append(created.json()["key"])
    made = await client.post(
        "/api/v1/projects/API/sprints", json={"name": name}, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    sprint: dict[str, Any] = made.json()
    if keys:
        added = await client.post(
            f"/api/v1/sprints/{sprint['id']}/items", json={"item_keys": keys}, headers=admin.headers
        )
        assert added.status_code == 200, added.text
    started = await client.post(f"/api/v1/sprints/{sprint['id']}/start", headers=admin.headers)
    assert started.status_code == 200, started.text
    for key, (_, done) in zip(keys, items, strict=True):
        if done:
            moved = await client.patch(
                f"/api/v1/items/{key}", json={"status": "Done"}, headers=admin.headers
            )
            assert moved.status_code == 200, moved.text
    sprint["item_keys"] = keys
    return sprint


async def seed_retros(app: FastAPI, admin: Account, member: Account, key: str) -> dict[str, str]:
    """Retros of project `key` in each phase, made through the API, for the placeholders of the
    authorization matrix and the contract test, each facilitated by the admin:

    - `retro_id`: in `collect`, with the member's card `card_id`;
    - `group_retro_id`: in `group`, with the member's card `group_card_id` in group `group_id`;
    - `vote_retro_id`: in `vote`, with group `vote_group_id` and the member's vote `vote_id`;
    - `discuss_retro_id`: in `discuss`.
    """
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://seed") as client:
        retros = {}
        for name in ("retro", "group_retro", "vote_retro", "discuss_retro"):
            retros[name] = (await new_retro(client, admin, key, title=name))["id"]
        cards = {
            name: (await add_card(client, member, retros[name], "Seeded card"))["id"]
            for name in ("retro", "group_retro", "vote_retro")
        }
        for name, phase in (("group_retro", "group"), ("vote_retro", "vote")):
            await advance_to(client, admin, retros[name], phase)
        await advance_to(client, admin, retros["discuss_retro"], "discuss")
        group = await new_group(
            client, member, retros["group_retro"], "Seeded", [cards["group_retro"]]
        )
        # Entering `vote` made the member's card a group of its own.
        vote_group = (await get_retro(client, member, retros["vote_retro"]))["groups"][0]["id"]
        cast = await vote(client, member, retros["vote_retro"], vote_group)
        assert cast.status_code == 201, cast.text
    return {
        "retro_id": retros["retro"],
        "card_id": cards["retro"],
        "group_retro_id": retros["group_retro"],
        "group_card_id": cards["group_retro"],
        "group_id": group["id"],
        "vote_retro_id": retros["vote_retro"],
        "vote_group_id": vote_group,
        "vote_id": cast.json()["id"],
        "discuss_retro_id": retros["discuss_retro"],
    }
