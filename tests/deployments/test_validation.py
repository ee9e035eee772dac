"""Bad deployment reports and queries are 422 problems, never 500s."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import DEPLOYMENTS, at, deployed, sha, z
from tests.support import team

GOOD: dict[str, Any] = {"environment": "production", "state": "success"}


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"environment": "moon"}, "/environment"),
        ({"environment": ""}, "/environment"),
        ({"state": "done"}, "/state"),
        ({"state": None}, "/state"),
        ({"sha": "xyz"}, "/sha"),
        ({"sha": "a" * 65}, "/sha"),
        ({"ref": "has space"}, "/ref"),
        ({"version": "v" * 129}, "/version"),
        ({"sequence": 1}, ""),
        ({"pipeline_id": "1", "sequence": -1}, "/sequence"),
        ({"pipeline_id": "1", "sequence": "one"}, "/sequence"),
        ({"commits": ["a" * 40] * 1001}, "/commits"),
        ({"commits": ["nothex!"]}, "/commits/0"),
        ({"url": "javascript:alert(1)"}, "/url"),
        ({"is_hotfix": "yes"}, "/is_hotfix"),
        ({"is_hotfix": True, "is_rollback": True}, ""),
        ({"started_at": z(at(2)), "finished_at": z(at(1))}, ""),
        ({"started_at": 12345}, "/started_at"),
        # An instant needs its offset, and its year in 1970-9000 (as an incident's).
        ({"started_at": "2026-01-01T00:00:00"}, "/started_at"),
        ({"started_at": "2026-01-01T00:00:00", "finished_at": z(at(1))}, "/started_at"),
        ({"started_at": z(at(1)), "finished_at": "2026-01-01T00:00:00"}, "/finished_at"),
        ({"started_at": "9999-12-31T23:59:59-05:00"}, "/started_at"),
        ({"started_at": "0001-01-01T00:00:00+05:00"}, "/started_at"),
        ({"finished_at": "9999-12-31T23:59:59Z"}, "/finished_at"),
        ({"started_at": "1969-12-31T23:59:59Z"}, "/started_at"),
        ({"fixes_deployment_id": "missing"}, "/fixes_deployment_id"),
        ({"repository_id": "missing"}, "/repository_id"),
        ({"unknown": 1}, "/unknown"),
        ({"description": "a\u0000b"}, ""),
    ],
)
async def test_bad_reports_are_422(
    client: AsyncClient, app: FastAPI, db: Database, change: dict[str, Any], pointer: str
) -> None:
    people = await team(app, db)
    response = await client.post(
        DEPLOYMENTS.format(key="API"), json={**GOOD, **change}, headers=people["bob"].headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if pointer:
        assert pointer in [e["pointer"] for e in response.json()["errors"]], response.json()


async def test_bad_patches_and_queries_are_422(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deployed(client, bob, sha=sha(1))
    path = f"/api/v1/deployments/{shipped['id']}"
    for body in (
        {"state": "exploded"},
        {"version": None},
        {"is_rollback": True, "is_hotfix": True},
        {"url": "ftp://x"},
        {"sha": sha(2)},
    ):
        response = await client.patch(path, json=body, headers=bob.headers)
        assert response.status_code == 422, (body, response.text)
    for params in (
        {"state": "x"},
        {"sha": "zz"},
        {"from": "yesterday"},
        {"to": "0.5"},
        {"from": "2026-02-30"},
        {"to": "2026-11-01T10:00:00"},
        {"environment": "x" * 65},
        {"limit": 0},
    ):
        response = await client.get(
            DEPLOYMENTS.format(key="API"), params=params, headers=bob.headers
        )
        assert response.status_code in (400, 422), (params, response.text)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("from", "9999-12-31T23:59:59-05:00"),
        ("to", "0001-01-01T00:00:00+05:00"),
        ("from", "9001-01-01"),
        ("to", "1969-12-31T23:59:59Z"),
    ],
)
async def test_moments_out_of_range_are_422_at_the_parameter(
    client: AsyncClient, app: FastAPI, db: Database, name: str, value: str
) -> None:
    people = await team(app, db)
    response = await client.get(
        DEPLOYMENTS.format(key="API"), params={name: value}, headers=people["bob"].headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in response.json()["errors"]] == [f"/query/{name}"]


async def test_a_reported_time_with_an_offset_is_answered_in_utc(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    response = await client.post(
        DEPLOYMENTS.format(key="API"),
        json={
            **GOOD,
            "started_at": "2026-11-02T11:00:00+02:00",
            "finished_at": "2026-11-02T04:30:00-05:00",
        },
        headers=people["bob"].headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["started_at"] == "2026-11-02T09:00:00Z"
    assert response.json()["finished_at"] == "2026-11-02T09:30:00Z"
