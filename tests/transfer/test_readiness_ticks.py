"""Export and import carry each item's Definition of Ready ticks (`dor_checked`): a copy is as
ready as its original; a tick of an entry the document's checklist lacks is refused with its
pointer; a document without ticks (exported before they were carried) imports with none."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.items.test_readiness import set_dor, tick
from tests.support import Account, new_item, team
from tests.transfer.test_transfer import IMPORT, assert_same_except_key

DOR = [
    {"id": "acceptance-criteria", "text": "Acceptance criteria written"},
    {"id": "designs", "text": "Designs attached"},
    {"id": "sized", "text": "Sized by the team"},
]


async def export(client: AsyncClient, who: Account, key: str = "API") -> dict[str, Any]:
    response = await client.get(f"/api/v1/projects/{key}/export", headers=who.headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def readiness_of(client: AsyncClient, who: Account, key: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/projects/{key}/items", params={"limit": 100}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    return {
        row["key"].split("-")[1]: (row["dor_checked"], row["ready"], row["missing"])
        for row in response.json()["data"]
    }


async def test_ticks_round_trip(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    ready = await new_item(client, ada, estimate=3, description="Why")
    half = await new_item(client, ada, estimate=2, description="Why")
    await new_item(client, ada)
    assert (
        await tick(client, ada, ready["key"], ["sized", "designs", "acceptance-criteria"])
    ).status_code == 200
    assert (await tick(client, ada, half["key"], ["designs", "sized"])).status_code == 200
    # `sized` leaves the checklist: its ticks stop counting and are not exported.
    await set_dor(client, ada, DOR[:2])
    document = await export(client, ada)
    assert [i["dor_checked"] for i in document["items"]] == [
        ["acceptance-criteria", "designs"],
        ["designs"],
        [],
    ]
    imported = await client.post(
        IMPORT, json={"key": "NEW", "document": document}, headers=ada.headers
    )
    assert imported.status_code == 201, imported.text
    copy = await readiness_of(client, ada, "NEW")
    assert copy == await readiness_of(client, ada, "API")
    assert copy["1"] == (["acceptance-criteria", "designs"], True, [])
    assert copy["2"] == (["designs"], False, ["dor:acceptance-criteria"])
    again = await export(client, ada, "NEW")
    again["members"] = document["members"]  # ada alone is a member of her copy
    assert_same_except_key(again, "NEW", document)


async def test_a_document_without_ticks_imports_with_none(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    item = await new_item(client, ada, estimate=3, description="Why")
    assert (await tick(client, ada, item["key"], ["designs"])).status_code == 200
    document = await export(client, ada)
    for doc_item in document["items"]:
        del doc_item["dor_checked"]
    imported = await client.post(
        IMPORT, json={"key": "OLD", "document": document}, headers=ada.headers
    )
    assert imported.status_code == 201, imported.text
    assert (await readiness_of(client, ada, "OLD"))["1"][0] == []


async def test_ticks_of_entries_not_in_the_checklist_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    await set_dor(client, ada, DOR)
    await new_item(client, ada)
    await new_item(client, ada)
    document = await export(client, ada)
    cases = [
        (["designs", "not-an-entry"], "/document/items/1/dor_checked/1"),
        (["designs", "designs"], "/document/items/1/dor_checked/1"),
        (["Not An Id"], "/document/items/1/dor_checked/0"),
    ]
    for ticks, pointer in cases:
        broken = json.loads(json.dumps(document))
        broken["items"][1]["dor_checked"] = ticks
        response = await client.post(
            IMPORT, json={"key": "NEW", "document": broken}, headers=ada.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == pointer, response.json()
    # With no checklist at all, any tick is refused.
    bare = json.loads(json.dumps(document))
    bare["project"]["settings"]["definition_of_ready"] = []
    bare["items"][0]["dor_checked"] = ["designs"]
    response = await client.post(IMPORT, json={"key": "NEW", "document": bare}, headers=ada.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/document/items/0/dor_checked/0"
    assert (await client.get("/api/v1/projects/NEW", headers=ada.headers)).status_code == 404
