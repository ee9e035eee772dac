"""Defects found by an attacker's review of the items' query surface: the same request must give
the same answer on SQLite and on PostgreSQL."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import Account, new_item, team

ITEMS = "/api/v1/projects/API/items"


async def _keys(client: AsyncClient, who: Account, q: str) -> list[str]:
    response = await client.get(ITEMS, params={"q": q, "sort": "key"}, headers=who.headers)
    assert response.status_code == 200, response.text
    return [item["key"] for item in response.json()["data"]]


async def test_free_text_finds_words_as_written_with_dots_at_signs_and_slashes(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """PostgreSQL's text parser keeps `config.yaml`, `auth.service`, `1.2.3`, an e-mail address
    or a path as one word, where SQLite (and the query's own reading) split them: the text
    exactly as it is written in a title was found on SQLite and not on PostgreSQL."""
    people = await team(app, db)
    ada = people["ada"]
    await new_item(client, ada, title="Fix config.yaml parsing")  # API-1
    await new_item(client, ada, title="Crash in auth.service on start")  # API-2
    await new_item(client, ada, title="Bump the client to 1.2.3")  # API-3
    await new_item(client, ada, title="Mail ada@example.com about quotas")  # API-4
    await new_item(client, ada, title="Split src/takt/items/search.py")  # API-5
    await new_item(client, ada, title="Config yaml linting")  # API-6: the split words
    cases = {
        "config.yaml": ["API-1", "API-6"],
        "config.ya": ["API-1", "API-6"],  # typing: the last word is a prefix
        '"config.yaml parsing"': ["API-1"],
        "auth.service": ["API-2"],
        "1.2.3": ["API-3"],
        '"ada@example.com"': ["API-4"],
        "src/takt/items/search.py": ["API-5"],
        "config": ["API-1", "API-6"],
        "-config.yaml": ["API-2", "API-3", "API-4", "API-5"],
        "config.yaml OR auth.service": ["API-1", "API-2", "API-6"],
        # Quotes and backslashes in a word are the text's, never the search syntax's.
        '"it\'s" OR "a\\\\b" OR "x\'\':*|!"': [],
    }
    found = {q: await _keys(client, ada, q) for q in cases}
    assert found == cases


async def test_status_and_labels_by_their_non_ascii_names(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """SQLite's lower() folds only ASCII: a status or label named with a non-ASCII capital was
    refused on SQLite even spelled exactly as the project spells it (422), accepted on
    PostgreSQL. Names match in any case on both, as the filter language matches them."""
    people = await team(app, db)
    ada = people["ada"]
    label = await client.post(
        "/api/v1/projects/API/labels", json={"name": "Übersetzung"}, headers=ada.headers
    )
    assert label.status_code == 201, label.text
    status = await client.post(
        "/api/v1/projects/API/statuses",
        json={"name": "Überprüfung", "category": "in_review"},
        headers=ada.headers,
    )
    assert status.status_code == 201, status.text
    status_id = status.json()["id"]

    exact = await client.post(
        ITEMS,
        json={"title": "Exact", "status": "Überprüfung", "labels": ["Übersetzung"]},
        headers=ada.headers,
    )
    assert exact.status_code == 201, exact.text
    assert exact.json()["status"]["id"] == status_id
    assert exact.json()["labels"] == ["Übersetzung"]

    other_case = await client.post(
        ITEMS,
        json={"title": "Other case", "status": "ÜBERPRÜFUNG", "labels": ["übersetzung"]},
        headers=ada.headers,
    )
    assert other_case.status_code == 201, other_case.text
    assert other_case.json()["status"]["id"] == status_id
    assert other_case.json()["labels"] == ["Übersetzung"]

    plain = await new_item(client, ada, title="Plain")
    patched = await client.patch(
        f"/api/v1/items/{plain['key']}",
        json={"status": "überprüfung", "labels": ["ÜBERSETZUNG"]},
        headers=ada.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"]["id"] == status_id
    assert patched.json()["labels"] == ["Übersetzung"]

    bulk = await client.post(
        f"{ITEMS}/bulk",
        json={
            "updates": [
                {"key": plain["key"], "status": "Backlog", "labels": []},
                {"key": plain["key"], "status": "Überprüfung", "labels": ["Übersetzung"]},
            ],
            "atomic": True,
        },
        headers=ada.headers,
    )
    assert bulk.status_code == 200, bulk.text
    assert [r["status"] for r in bulk.json()["results"]] == [200, 200]
    assert bulk.json()["results"][1]["item"]["status"]["id"] == status_id

    # A name the project doesn't have is still refused at its pointer; a status by id works.
    unknown = await client.post(
        ITEMS, json={"title": "x", "labels": ["api", "Übersetzung"]}, headers=ada.headers
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"] == [
        {"pointer": "/labels/0", "message": "no label 'api' in this project"}
    ]
    by_id = await client.post(ITEMS, json={"title": "x", "status": status_id}, headers=ada.headers)
    assert by_id.status_code == 201, by_id.text
    assert by_id.json()["status"]["name"] == "Überprüfung"
    assert await _keys(client, ada, "status:überprüfung label:übersetzung") == [
        "API-1",
        "API-2",
        "API-3",
    ]


async def test_a_label_or_status_differing_only_in_non_ascii_case_is_taken(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Names are unique in any case on both databases: "ÜBERSETZUNG" next to "Übersetzung" was
    let through on SQLite (its lower() folds only ASCII), refused on PostgreSQL."""
    ada = (await team(app, db))["ada"]
    for path, body in (
        ("labels", {"name": "Übersetzung"}),
        ("statuses", {"name": "Überprüfung", "category": "in_review"}),
    ):
        made = await client.post(f"/api/v1/projects/API/{path}", json=body, headers=ada.headers)
        assert made.status_code == 201, made.text
        twin = {**body, "name": body["name"].upper()}
        clash = await client.post(f"/api/v1/projects/API/{path}", json=twin, headers=ada.headers)
        assert clash.status_code == 409, (path, clash.text)
