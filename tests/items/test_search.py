"""The `q=` filter language against real data, full-text search, sorting and facets."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import Account, new_item, team

ITEMS = "/api/v1/projects/API/items"


async def _backlog(client: AsyncClient, people: dict[str, Account]) -> None:
    ada = people["ada"]
    for name in ("api", "web", "legacy"):
        await client.post("/api/v1/projects/API/labels", json={"name": name}, headers=ada.headers)
    epic = await new_item(client, ada, type="epic", title="Payments overhaul")
    await new_item(
        client,
        ada,
        type="bug",
        title="Login crashes on empty password",
        description="Stack trace in the auth service",
        priority="urgent",
        assignee="ada",
        labels=["api"],
        status="In Progress",
    )
    await new_item(
        client,
        ada,
        type="story",
        title="Checkout page redesign",
        priority="high",
        assignee="bob",
        labels=["web"],
        parent_key=epic["key"],
    )
    await new_item(
        client,
        ada,
        type="task",
        title="Remove legacy SOAP adapter",
        priority="low",
        labels=["legacy", "api"],
        status="Done",
    )
    await new_item(
        client,
        ada,
        type="task",
        title="Rate limiting for the public API",
        priority="medium",
        blocked=True,
        status="In Review",
        description="Token bucket per client",
    )


async def _keys(client: AsyncClient, who: Account, q: str, **params: str) -> list[str]:
    response = await client.get(
        ITEMS, params={"q": q, "sort": "key", **params}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return [item["key"] for item in response.json()["data"]]


async def test_filters_select_the_right_items(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    ada = people["ada"]
    cases = {
        "type:bug": ["API-2"],
        "type:task type:bug": ["API-2", "API-4", "API-5"],
        'status:"In Progress"': ["API-2"],
        "category:done": ["API-4"],
        "assignee:@me": ["API-2"],
        "assignee:bob": ["API-3"],
        "assignee:none": ["API-1", "API-4", "API-5"],
        "-assignee:ada": ["API-1", "API-3", "API-4", "API-5"],
        "label:api": ["API-2", "API-4"],
        "label:api -label:legacy": ["API-2"],
        "priority:>=high": ["API-2", "API-3"],
        "priority:<medium": ["API-1", "API-4"],
        "parent:API-1": ["API-3"],
        "blocked:true": ["API-5"],
        "sprint:none": ["API-1", "API-2", "API-3", "API-4", "API-5"],
        "sprint:current": [],
        "created:>2000-01-01": ["API-1", "API-2", "API-3", "API-4", "API-5"],
        "created:<2000-01-01": [],
        "key:API-4": ["API-4"],
        "login": ["API-2"],
        "legac": ["API-4"],
        '"token bucket"': ["API-5"],
        '"bucket token"': [],
        "auth label:api": ["API-2"],
        '-"legacy"': ["API-1", "API-2", "API-3", "API-5"],
    }
    for q, expected in cases.items():
        assert await _keys(client, ada, q) == expected, q


async def test_syntax_error_is_400_pointing_at_the_position(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    response = await client.get(ITEMS, params={"q": "status:done bogus:1"}, headers=ada.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid-query"
    assert body["position"] == 12
    assert "position 12" in body["detail"]
    for q in ('"unterminated', "priority:>=ultra", "type:>bug", "-"):
        bad = await client.get(ITEMS, params={"q": q}, headers=ada.headers)
        assert bad.status_code == 400, q


async def test_facets_count_the_whole_filtered_set(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await _backlog(client, people)
    response = await client.get(
        ITEMS,
        params={"q": "-type:epic", "facets": "status,assignee,label,type,priority", "limit": 1},
        headers=people["ada"].headers,
    )
    body = response.json()
    assert len(body["data"]) == 1
    assert body["facets"]["type"] == {"bug": 1, "story": 1, "task": 2}
    assert body["facets"]["assignee"] == {"ada": 1, "bob": 1, "none": 2}
    assert body["facets"]["label"] == {"api": 2, "web": 1, "legacy": 1}
    assert body["facets"]["status"] == {"In Progress": 1, "Backlog": 1, "Done": 1, "In Review": 1}
    assert body["facets"]["priority"] == {"urgent": 1, "high": 1, "low": 1, "medium": 1}
    unknown = await client.get(ITEMS, params={"facets": "color"}, headers=people["ada"].headers)
    assert unknown.status_code == 422


async def test_every_sort_pages_without_gaps_or_repeats(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    for i in range(7):
        await new_item(client, ada, title=f"item {i}", priority=["low", "high", "none"][i % 3])
    for sort in (
        "rank",
        "key",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "priority",
        "-priority",
    ):
        seen: list[str] = []
        cursor = None
        while True:
            params = {"sort": sort, "limit": "3", **({"cursor": cursor} if cursor else {})}
            page = (await client.get(ITEMS, params=params, headers=ada.headers)).json()
            seen += [item["key"] for item in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(f"API-{n}" for n in range(1, 8)), sort
        assert len(seen) == 7, sort
    priority = (await client.get(ITEMS, params={"sort": "-priority"}, headers=ada.headers)).json()
    assert [i["priority"] for i in priority["data"]][:3] == ["high", "high", "low"]
    wrong_sort = await client.get(
        ITEMS,
        params={
            "sort": "key",
            "cursor": (
                await client.get(ITEMS, params={"sort": "rank", "limit": 1}, headers=ada.headers)
            ).json()["next_cursor"],
        },
        headers=ada.headers,
    )
    assert wrong_sort.status_code == 400


async def test_list_is_a_summary_without_description(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await new_item(client, ada, description="long text")
    item = (await client.get(ITEMS, headers=ada.headers)).json()["data"][0]
    assert "description" not in item
    assert item["labels"] == []
