"""The risk register through the API: ratings and bands, owners, links, review dates, the
matrix, versions and who may do what."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.events import Event
from takt.core.models import new_id
from takt.core.time import clock_at
from takt.projects import service as project_service
from takt.projects.policies import ProjectAccess
from takt.risks import service as risks
from takt.risks.schemas import RiskCreate
from tests.support import Account, make_project, new_item, team

RISKS = "/api/v1/projects/API/risks"


async def _risk(client: AsyncClient, who: Account, **fields: Any) -> dict[str, Any]:
    body = {"title": "Processor sandbox late", "likelihood": 3, "impact": 3, **fields}
    response = await client.post(RISKS, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    risk: dict[str, Any] = response.json()
    return risk


async def test_score_and_severity_bands(client: AsyncClient, app: FastAPI, db: Database) -> None:
    bob = (await team(app, db))["bob"]
    expected = {
        (1, 1): "low",
        (2, 2): "low",
        (1, 5): "medium",
        (3, 3): "medium",
        (2, 5): "high",
        (4, 4): "high",
        (4, 5): "critical",
        (5, 5): "critical",
    }
    for (likelihood, impact), severity in expected.items():
        risk = await _risk(client, bob, likelihood=likelihood, impact=impact)
        assert risk["score"] == likelihood * impact
        assert risk["severity"] == severity, (likelihood, impact)


async def test_a_risk_is_created_owned_linked_and_recorded(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    key = (await new_item(client, bob))["key"]
    sprint = await client.post(
        "/api/v1/projects/API/sprints", json={"name": "S"}, headers=bob.headers
    )
    risk = await _risk(
        client,
        bob,
        owner="ada",
        mitigation="Mock the challenge flow",
        review_date="2026-12-04",
        item_keys=[key],
        sprint_ids=[sprint.json()["id"]],
    )
    assert risk["owner"]["username"] == "ada"
    assert risk["item_keys"] == [key]
    assert risk["sprint_ids"] == [sprint.json()["id"]]
    assert risk["blocker_id"] is None
    got = await client.get(f"/api/v1/risks/{risk['id']}", headers=people["vic"].headers)
    assert got.status_code == 200
    assert got.json() == risk
    assert got.headers["etag"].startswith('"v1-')  # the version, then a digest of the body
    cached = await client.get(
        f"/api/v1/risks/{risk['id']}",
        headers={**bob.headers, "If-None-Match": got.headers["etag"]},
    )
    assert cached.status_code == 304
    async with db.transaction() as session:
        event = await session.scalar(select(Event).where(Event.type == "risk.created"))
    assert event is not None
    assert event.data["owner"] == "ada"
    assert event.data["item_keys"] == [key]


async def test_references_outside_the_project_are_refused_and_create_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await make_project(db, ada, "WEB")
    foreign = (await new_item(client, ada, "WEB"))["key"]
    other_sprint = await client.post(
        "/api/v1/projects/WEB/sprints", json={"name": "S"}, headers=ada.headers
    )
    for extra, pointer in (
        ({"owner": "sam"}, "/owner"),
        ({"owner": "vic"}, "/owner"),
        ({"item_keys": [foreign]}, "/item_keys/0"),
        ({"sprint_ids": [other_sprint.json()["id"]]}, "/sprint_ids/0"),
    ):
        body = {"title": "t", "likelihood": 1, "impact": 1, **extra}
        refused = await client.post(RISKS, json=body, headers=ada.headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["pointer"] == pointer
    for body in (
        {"title": "t", "likelihood": 0, "impact": 1},
        {"title": "t", "likelihood": 1, "impact": 6},
        {"title": " ", "likelihood": 1, "impact": 1},
        {"title": "t", "likelihood": 1, "impact": 1, "score": 1},
        {"title": "t", "likelihood": 1, "impact": 1, "status": "forgotten"},
    ):
        assert (await client.post(RISKS, json=body, headers=ada.headers)).status_code == 422
    assert (await client.get(RISKS, headers=ada.headers)).json()["data"] == []


async def test_an_update_records_each_change_and_moves_the_version(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = (await new_item(client, bob))["key"]
    risk = await _risk(client, bob, owner="bob")
    url = f"/api/v1/risks/{risk['id']}"
    stale = await client.patch(url, json={"impact": 5}, headers={**bob.headers, "If-Match": '"v9"'})
    assert stale.status_code == 412
    changed = await client.patch(
        url,
        json={"impact": 5, "status": "mitigating", "owner": None, "item_keys": [key]},
        headers={**bob.headers, "If-Match": '"v1"'},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["score"], body["severity"], body["owner"]) == (15, "high", None)
    assert body["item_keys"] == [key]
    assert changed.headers["etag"].startswith('"v2-')
    links_only = await client.patch(url, json={"item_keys": []}, headers=bob.headers)
    assert links_only.headers["etag"].startswith('"v3-')
    same = await client.patch(url, json={"impact": 5}, headers=bob.headers)
    assert same.headers["etag"] == links_only.headers["etag"]
    async with db.transaction() as session:
        updates = list(
            await session.scalars(
                select(Event.changes).where(Event.type == "risk.updated").order_by(Event.seq)
            )
        )
    assert updates == [
        {
            "impact": [3, 5],
            "score": [9, 15],
            "severity": ["medium", "high"],
            "status": ["open", "mitigating"],
            "owner": ["bob", None],
            "item_keys": [[], [key]],
        },
        {"item_keys": [[key], []]},
    ]


async def test_overdue_is_a_past_review_date_of_a_risk_not_closed(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    await _risk(client, bob, title="due", review_date="2026-11-10")
    await _risk(client, bob, title="later", review_date="2026-11-20")
    await _risk(client, bob, title="closed", review_date="2026-11-01", status="closed")
    await _risk(client, bob, title="undated")

    async def listed(**params: str) -> dict[str, bool]:
        with clock_at(datetime(2026, 11, 12, 9, tzinfo=UTC)):
            page = await client.get(RISKS, params=params, headers=bob.headers)
        assert page.status_code == 200, page.text
        return {r["title"]: r["overdue"] for r in page.json()["data"]}

    assert await listed() == {"due": True, "later": False, "closed": False, "undated": False}
    assert await listed(overdue="true") == {"due": True}
    assert set(await listed(overdue="false")) == {"later", "closed", "undated"}


async def test_the_register_is_sorted_by_score_and_filters(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    key = (await new_item(client, bob))["key"]
    low = await _risk(client, bob, likelihood=1, impact=2, owner="bob")
    top = await _risk(client, bob, likelihood=5, impact=5, item_keys=[key])
    mid = await _risk(client, bob, likelihood=2, impact=3, status="occurred")

    async def ids(**params: str) -> list[str]:
        page = await client.get(RISKS, params=params, headers=bob.headers)
        assert page.status_code == 200, page.text
        return [r["id"] for r in page.json()["data"]]

    assert await ids() == [top["id"], mid["id"], low["id"]]
    assert await ids(severity="low") == [low["id"]]
    assert await ids(status="occurred") == [mid["id"]]
    assert await ids(owner="bob") == [low["id"]]
    assert await ids(item=key) == [top["id"]]
    first = (await client.get(RISKS, params={"limit": 2}, headers=bob.headers)).json()
    rest = await client.get(
        RISKS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=bob.headers
    )
    assert [r["id"] for r in rest.json()["data"]] == [low["id"]]


async def test_the_matrix_counts_open_and_mitigating_risks(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await _risk(client, bob, likelihood=4, impact=5)
    await _risk(client, bob, likelihood=4, impact=5, status="mitigating")
    await _risk(client, bob, likelihood=1, impact=2)
    await _risk(client, bob, likelihood=3, impact=3, status="closed")
    await _risk(client, bob, likelihood=5, impact=5, status="occurred")
    matrix = await client.get(f"{RISKS}/matrix", headers=people["vic"].headers)
    assert matrix.status_code == 200
    body = matrix.json()
    expected = [[0] * 5 for _ in range(5)]
    expected[3][4] = 2
    expected[0][1] = 1
    assert body["counts"] == expected
    assert body["by_severity"] == {"low": 1, "medium": 0, "high": 0, "critical": 2}
    assert body["total"] == 3


async def test_viewers_read_members_write_outsiders_see_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    risk = await _risk(client, people["bob"])
    url = f"/api/v1/risks/{risk['id']}"
    vic, sam = people["vic"], people["sam"]
    assert (await client.get(url, headers=vic.headers)).status_code == 200
    assert (await client.patch(url, json={"impact": 1}, headers=vic.headers)).status_code == 403
    assert (await client.delete(url, headers=vic.headers)).status_code == 403
    assert (await client.get(url, headers=sam.headers)).status_code == 404
    assert (await client.delete(url, headers=sam.headers)).status_code == 404
    assert (await client.get(RISKS, headers=sam.headers)).status_code == 404
    stale = await client.delete(url, headers={**people["bob"].headers, "If-Match": '"v7"'})
    assert stale.status_code == 412
    assert (await client.delete(url, headers=people["ada"].headers)).status_code == 204
    assert (await client.get(url, headers=vic.headers)).status_code == 404


async def _access_as(db: Database, who: Account, *, user_id: str | None = None) -> ProjectAccess:
    """The project API as `who` (with another user id, when given: a caller with no row)."""
    principal = Principal.of(who.user)
    if user_id is not None:
        principal = replace(principal, user=replace(principal.user, id=user_id))
    async with db.transaction() as session:
        found = await project_service.access(session, Principal.of(who.user), "API")
    return ProjectAccess(project=found.project, principal=principal, member_role="member")


async def test_a_failed_plain_create_is_not_called_an_already_promoted_blocker(
    app: FastAPI, db: Database
) -> None:
    """Only the promotion's unique blocker id is `blocker-already-promoted`: any other
    constraint a plain create breaks (here its creator has no row) falls through to the
    generic handling."""
    bob = (await team(app, db))["bob"]
    access = await _access_as(db, bob, user_id=new_id())
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await risks.create_risk(session, access, RiskCreate(title="T", likelihood=1, impact=1))


async def test_a_second_risk_from_one_blocker_is_already_promoted(
    app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    access = await _access_as(db, bob)
    data = RiskCreate(title="T", likelihood=1, impact=1)
    async with db.transaction() as session:
        await risks.create_risk(session, access, data, blocker_id="b-1")
    with pytest.raises(risks.RiskAlreadyRecorded):
        async with db.transaction() as session:
            await risks.create_risk(session, access, data, blocker_id="b-1")
