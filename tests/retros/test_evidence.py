"""Evidence cards: a retro on a sprint opens with the sprint's carry-over rate, scope change and
oldest blockers, numbers worked by hand, each saying where it comes from."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.retros.kit import finished_sprint, new_retro, started_sprint
from tests.support import Account, new_item, team

BLOCKERS = "/api/v1/projects/API/blockers"


def _evidence(retro: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for card in retro["cards"]:
        if card["kind"] == "evidence":
            found.setdefault(card["evidence"]["metric"], []).append(card)
    return found


async def _block(client: AsyncClient, who: Account, key: str, reason: str) -> dict[str, Any]:
    body = {"item_key": key, "reason": reason, "waiting_on": {"kind": "team", "name": "Ops"}}
    raised = await client.post(BLOCKERS, json=body, headers=who.headers)
    assert raised.status_code == 201, raised.text
    blocker: dict[str, Any] = raised.json()
    return blocker


async def test_a_completed_sprint_gives_its_frozen_rates_and_oldest_blockers(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    # Committed 5 + 3 + 2 = 10 points; 3 more added after the start; 5 and 3 done.
    sprint = await started_sprint(client, ada, [(5, True), (3, True), (2, False)])
    late = await new_item(client, ada, title="Late addition", estimate=3)
    added = await client.post(
        f"/api/v1/sprints/{sprint['id']}/items",
        json={"item_keys": [late["key"]]},
        headers=ada.headers,
    )
    assert added.status_code == 200
    keys = [*sprint["item_keys"], late["key"]]
    outside = await new_item(client, ada, title="Not in the sprint")
    blockers = [
        await _block(client, bob, keys[2], "Waiting for the schema review"),
        await _block(client, bob, outside["key"], "Not the sprint's"),
        await _block(client, bob, keys[3], "Staging is down"),
        await _block(client, bob, keys[0], "Needs a decision"),
        await _block(client, bob, keys[1], "The fourth, left out"),
    ]
    resolved = await client.post(
        f"/api/v1/blockers/{blockers[3]['id']}/resolve", json={}, headers=bob.headers
    )
    assert resolved.status_code == 200
    done = await client.post(
        f"/api/v1/sprints/{sprint['id']}/complete", json={}, headers=ada.headers
    )
    assert done.status_code == 200
    report = done.json()["report"]
    assert (report["carry_over_rate"], report["scope_change"]) == (0.5, 0.3)

    retro = await new_retro(client, ada, sprint_id=sprint["id"])
    assert retro["title"] == "Retro: S1"
    assert retro["sprint_id"] == sprint["id"]
    found = _evidence(retro)
    (carry,) = found["carry_over_rate"]
    (scope,) = found["scope_change"]
    assert carry["evidence"]["value"] == 0.5
    assert "50 %" in carry["text"]
    assert "5 of 10 points" in carry["text"]
    assert scope["evidence"]["value"] == 0.3
    assert "+30 %" in scope["text"]
    assert "3 points added, 0 removed" in scope["text"]
    for card in (carry, scope):
        assert f"GET /api/v1/sprints/{sprint['id']}/report" in card["evidence"]["source"]
        assert "docs/metrics.md" in card["evidence"]["source"]
        assert (card["mine"], card["author"], card["prompt_id"]) == (False, None, None)
    shown = [b["text"].split(" blocked")[0] for b in found["blocker"]]
    assert shown == [keys[2], keys[3], keys[0]]
    assert "(resolved)" in found["blocker"][2]["text"]
    assert "(still open)" in found["blocker"][0]["text"]
    for card, blocker in zip(
        found["blocker"], (blockers[0], blockers[2], blockers[3]), strict=True
    ):
        assert f"GET /api/v1/blockers/{blocker['id']}" in card["evidence"]["source"]
        assert card["evidence"]["value"] >= 0
    # Evidence is there from the start, for everyone, even while cards are hidden.
    assert retro["hidden_cards"] == 0
    evidence_card = carry["id"]
    edit = await client.patch(
        f"/api/v1/retros/{retro['id']}/cards/{evidence_card}",
        json={"text": "x"},
        headers=ada.headers,
    )
    assert edit.status_code == 403


async def test_an_active_sprint_gives_its_figures_so_far(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint = await started_sprint(client, ada, [(8, True), (2, False)])
    retro = await new_retro(client, ada, sprint_id=sprint["id"])
    found = _evidence(retro)
    assert found["carry_over_rate"][0]["evidence"]["value"] == 0.2
    assert found["scope_change"][0]["evidence"]["value"] == 0.0
    assert "still active" in found["carry_over_rate"][0]["evidence"]["source"]
    assert "blocker" not in found


async def test_a_sprint_without_a_commitment_says_why_there_is_no_number(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    planned = await client.post(
        "/api/v1/projects/API/sprints", json={"name": "Later"}, headers=ada.headers
    )
    retro = await new_retro(client, ada, sprint_id=planned.json()["id"])
    found = _evidence(retro)
    assert [c["evidence"]["value"] for c in found["carry_over_rate"] + found["scope_change"]] == [
        None,
        None,
    ]
    assert "has not started" in found["carry_over_rate"][0]["evidence"]["source"]
    empty = await finished_sprint(client, ada, [], name="Empty")
    found = _evidence(await new_retro(client, ada, sprint_id=empty["id"]))
    assert found["carry_over_rate"][0]["evidence"]["value"] is None
    assert "nothing was committed" in found["carry_over_rate"][0]["text"]


async def test_a_retro_without_a_sprint_has_no_evidence(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    assert (await new_retro(client, ada))["cards"] == []
