"""Incidents through the API: open, read, list (filters, newest first, pages), change, resolve,
reopen; ETags; the events each write records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from takt.core.time import utcnow
from tests.incidents.kit import INCIDENTS, deploy, environments, open_incident
from tests.support import team


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _events(db: Database, incident_id: str) -> list[tuple[str, dict[str, Any], Any]]:
    async with db.transaction(write=False) as session:
        rows = await session.execute(
            select(Event.type, Event.data, Event.changes)
            .where(Event.subject_id == incident_id)
            .order_by(Event.seq)
        )
    return [(t, d, c) for t, d, c in rows]


async def test_member_opens_an_incident_numbered_in_the_project(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await environments(db, people["ada"])
    response = await client.post(
        INCIDENTS.format(key="API"),
        json={"title": "  Login is slow ", "severity": "sev3", "environment": "Production"},
        headers=bob.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert response.headers["ETag"].startswith(f'"v{body["version"]}-')  # version, then body
    assert body["number"] == 1
    assert body["title"] == "Login is slow"
    assert body["state"] == "open"
    assert body["resolved_at"] is None
    assert body["environment"] == "production"
    assert body["opened_by"]["username"] == "bob"
    assert body["caused_by_deployment_id"] is None
    assert body["description"] == ""
    opened = datetime.fromisoformat(body["opened_at"])
    assert abs((utcnow() - opened).total_seconds()) < 3600
    second = await open_incident(client, bob)
    assert second["number"] == 2
    (event,) = await _events(db, body["id"])
    assert event[0] == "incident.opened"
    assert event[1]["number"] == 1
    assert event[1]["environment"] == "production"
    assert event[1]["opened_at"] == body["opened_at"]


async def test_environment_is_taken_by_id_too(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    envs = await environments(db, people["ada"])
    body = await open_incident(client, people["bob"], environment=envs["staging"])
    assert body["environment"] == "staging"
    assert body["environment_id"] == envs["staging"]


async def test_environment_defaults_to_the_causing_deployments(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    deployment_id = await deploy(db, people["ada"], environment="staging")
    body = await open_incident(client, people["bob"], caused_by_deployment_id=deployment_id)
    assert body["environment"] == "staging"
    assert body["caused_by_deployment_id"] == deployment_id


async def test_get_answers_the_incident_with_etag_and_304(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    made = await open_incident(client, people["bob"], description="**Card** payments fail")
    got = await client.get(f"/api/v1/incidents/{made['id']}", headers=people["vic"].headers)
    assert got.status_code == 200
    assert got.json() == made
    etag = got.headers["ETag"]
    again = await client.get(
        f"/api/v1/incidents/{made['id']}", headers={**people["vic"].headers, "If-None-Match": etag}
    )
    assert again.status_code == 304


async def test_list_is_newest_first_filtered_and_paged(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await environments(db, people["ada"])
    now = utcnow()
    made = []
    for hours, severity, env in (
        (5, "sev1", "production"),
        (4, "sev2", "staging"),
        (3, "sev1", "production"),
        (2, "sev3", "production"),
    ):
        made.append(
            await open_incident(
                client,
                bob,
                severity=severity,
                environment=env,
                opened_at=_iso(now - timedelta(hours=hours)),
            )
        )
    await client.patch(
        f"/api/v1/incidents/{made[0]['id']}", json={"state": "resolved"}, headers=bob.headers
    )
    url = INCIDENTS.format(key="API")
    listed = (await client.get(url, headers=people["vic"].headers)).json()
    assert [i["number"] for i in listed["data"]] == [4, 3, 2, 1]
    assert listed["next_cursor"] is None

    async def numbers(**params: str) -> list[int]:
        answer = await client.get(url, params=params, headers=bob.headers)
        assert answer.status_code == 200, answer.text
        return [i["number"] for i in answer.json()["data"]]

    assert await numbers(severity="sev1") == [3, 1]
    assert await numbers(state="open") == [4, 3, 2]
    assert await numbers(state="resolved") == [1]
    assert await numbers(environment="Staging") == [2]
    assert await numbers(environment="production", state="open", severity="sev1") == [3]

    first = (await client.get(url, params={"limit": 3}, headers=bob.headers)).json()
    assert [i["number"] for i in first["data"]] == [4, 3, 2]
    rest = (
        await client.get(
            url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=bob.headers
        )
    ).json()
    assert [i["number"] for i in rest["data"]] == [1]
    assert rest["next_cursor"] is None


async def test_list_by_deployment_finds_what_it_caused_or_fixed(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bad = await deploy(db, people["ada"])
    fix = await deploy(db, people["ada"])
    caused = await open_incident(client, people["bob"], caused_by_deployment_id=bad)
    fixed = await open_incident(
        client, people["bob"], environment="production", fixed_by_deployment_id=fix
    )
    await open_incident(client, people["bob"])
    url = INCIDENTS.format(key="API")
    for deployment_id, expected in ((bad, caused), (fix, fixed)):
        answer = await client.get(
            url, params={"deployment_id": deployment_id}, headers=people["bob"].headers
        )
        assert [i["id"] for i in answer.json()["data"]] == [expected["id"]]


async def test_patch_changes_fields_and_records_the_changes(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await environments(db, people["ada"])
    made = await open_incident(client, bob)
    response = await client.patch(
        f"/api/v1/incidents/{made['id']}",
        json={"title": "Checkout down", "severity": "sev1", "environment": "staging"},
        headers=bob.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["severity"], body["environment"]) == (
        "Checkout down",
        "sev1",
        "staging",
    )
    assert body["version"] == made["version"] + 1
    assert response.headers["ETag"].startswith(f'"v{body["version"]}-')  # version, then body
    _, (kind, data, changes) = await _events(db, made["id"])
    assert kind == "incident.updated"
    assert data["severity"] == "sev1"
    assert changes == {
        "title": ["Checkout returns 500", "Checkout down"],
        "severity": ["sev2", "sev1"],
        "environment": ["production", "staging"],
    }


async def test_patch_with_nothing_new_changes_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    made = await open_incident(client, people["bob"])
    response = await client.patch(
        f"/api/v1/incidents/{made['id']}", json={"severity": "sev2"}, headers=people["bob"].headers
    )
    assert response.status_code == 200
    assert response.json()["version"] == made["version"]
    assert len(await _events(db, made["id"])) == 1


async def test_stale_if_match_is_refused_with_412(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await environments(db, people["ada"])
    made = await open_incident(client, bob)
    url = f"/api/v1/incidents/{made['id']}"
    etag = f'"v{made["version"]}"'
    ok = await client.patch(
        url, json={"severity": "sev1"}, headers={**bob.headers, "If-Match": etag}
    )
    assert ok.status_code == 200
    stale = await client.patch(
        url, json={"severity": "sev4"}, headers={**bob.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"


async def test_resolve_and_reopen(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await environments(db, people["ada"])
    made = await open_incident(client, bob, opened_at=_iso(utcnow() - timedelta(hours=2)))
    url = f"/api/v1/incidents/{made['id']}"
    resolved = (await client.patch(url, json={"state": "resolved"}, headers=bob.headers)).json()
    assert resolved["state"] == "resolved"
    assert resolved["resolved_at"] is not None
    reopened = (await client.patch(url, json={"state": "open"}, headers=bob.headers)).json()
    assert reopened["state"] == "open"
    assert reopened["resolved_at"] is None
    at = utcnow() - timedelta(minutes=30)
    again = (await client.patch(url, json={"resolved_at": _iso(at)}, headers=bob.headers)).json()
    assert again["state"] == "resolved"
    assert datetime.fromisoformat(again["resolved_at"]) == at.replace(microsecond=at.microsecond)
    kinds = [kind for kind, _, _ in await _events(db, made["id"])]
    assert kinds == [
        "incident.opened",
        "incident.resolved",
        "incident.reopened",
        "incident.resolved",
    ]
    _, data, changes = (await _events(db, made["id"]))[-1]
    assert data["resolved_at"] == again["resolved_at"]
    assert changes["state"] == ["open", "resolved"]


async def test_an_incident_that_is_over_is_recorded_resolved(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    await environments(db, people["ada"])
    opened, resolved = utcnow() - timedelta(days=3), utcnow() - timedelta(days=2)
    body = await open_incident(
        client, people["bob"], opened_at=_iso(opened), resolved_at=_iso(resolved)
    )
    assert body["state"] == "resolved"
    assert datetime.fromisoformat(body["opened_at"]) == opened
    assert datetime.fromisoformat(body["resolved_at"]) == resolved
    kinds = [kind for kind, _, _ in await _events(db, body["id"])]
    assert kinds == ["incident.opened", "incident.resolved"]


async def test_times_sent_with_an_offset_are_answered_in_utc(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await environments(db, people["ada"])
    opened = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
    resolved = opened + timedelta(hours=1)
    plus_two, minus_five = timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))
    made = await open_incident(
        client,
        bob,
        opened_at=opened.astimezone(plus_two).isoformat(),
        resolved_at=resolved.astimezone(minus_five).isoformat(),
    )
    assert (made["opened_at"], made["resolved_at"]) == (_iso(opened), _iso(resolved))
    url = f"/api/v1/incidents/{made['id']}"
    reopened = await client.patch(url, json={"state": "open"}, headers=bob.headers)
    assert reopened.status_code == 200, reopened.text
    later = resolved + timedelta(minutes=30)
    changed = await client.patch(
        url,
        json={
            "opened_at": (opened + timedelta(minutes=5)).astimezone(minus_five).isoformat(),
            "resolved_at": later.astimezone(plus_two).isoformat(),
        },
        headers=bob.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["opened_at"], body["resolved_at"]) == (
        _iso(opened + timedelta(minutes=5)),
        _iso(later),
    )
    shown = (await client.get(url, headers=bob.headers)).json()
    assert (shown["opened_at"], shown["resolved_at"]) == (body["opened_at"], body["resolved_at"])


async def test_viewer_reads_but_cannot_open_or_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    vic = people["vic"]
    await environments(db, people["ada"])
    made = await open_incident(client, people["bob"])
    body = {"title": "x", "severity": "sev1", "environment": "production"}
    refused = await client.post(INCIDENTS.format(key="API"), json=body, headers=vic.headers)
    assert refused.status_code == 403
    patched = await client.patch(
        f"/api/v1/incidents/{made['id']}", json={"severity": "sev1"}, headers=vic.headers
    )
    assert patched.status_code == 403
    assert (await client.get(INCIDENTS.format(key="API"), headers=vic.headers)).status_code == 200


async def test_strangers_get_404(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    sam = people["sam"]
    await environments(db, people["ada"])
    made = await open_incident(client, people["bob"])
    for answer in (
        await client.get(f"/api/v1/incidents/{made['id']}", headers=sam.headers),
        await client.patch(
            f"/api/v1/incidents/{made['id']}", json={"severity": "sev1"}, headers=sam.headers
        ),
        await client.get(INCIDENTS.format(key="API"), headers=sam.headers),
        await client.get("/api/v1/incidents/no-such-incident", headers=people["bob"].headers),
    ):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
