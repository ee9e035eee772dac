"""What an incident does to the deployment it names as its cause: failed from when the incident
began, restored when the last incident it caused is resolved (DORA's change failure rate and
failed deployment recovery time read these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from takt.core.time import utcnow
from tests.incidents.kit import deploy, deployment_row, environments, open_incident
from tests.support import Account, team


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _at(answer: dict[str, Any], field: str) -> datetime:
    return datetime.fromisoformat(answer[field])


async def _patch(
    client: AsyncClient, who: Account, incident: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = await client.patch(
        f"/api/v1/incidents/{incident['id']}", json=body, headers=who.headers
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _failed_events(db: Database, deployment_id: str) -> list[dict[str, Any]]:
    async with db.transaction(write=False) as session:
        rows = await session.scalars(
            select(Event.data).where(
                Event.subject_id == deployment_id, Event.type == "deployment.failed"
            )
        )
    return list(rows)


async def test_a_caused_incident_fails_the_deployment_and_resolving_restores_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"], at=utcnow() - timedelta(hours=3))
    opened = utcnow() - timedelta(hours=2)
    incident = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(opened)
    )
    row = await deployment_row(db, shipped)
    assert row.failed_at == opened
    assert row.restored_at is None
    (failed,) = await _failed_events(db, shipped)
    assert failed["reason"] == "incident"

    resolved = await _patch(client, bob, incident, state="resolved")
    row = await deployment_row(db, shipped)
    assert row.failed_at == opened
    assert row.restored_at == _at(resolved, "resolved_at")
    assert len(await _failed_events(db, shipped)) == 1


async def test_restored_when_the_last_of_its_incidents_is_resolved(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"], at=utcnow() - timedelta(hours=6))
    now = utcnow()
    first = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=5))
    )
    second = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=4))
    )
    await _patch(client, bob, first, resolved_at=_iso(now - timedelta(hours=1)))
    row = await deployment_row(db, shipped)
    assert row.failed_at == now - timedelta(hours=5)
    assert row.restored_at is None  # the second is still open
    # The second is resolved at an earlier moment than the first: restored at the later one.
    await _patch(client, bob, second, resolved_at=_iso(now - timedelta(hours=3)))
    assert (await deployment_row(db, shipped)).restored_at == now - timedelta(hours=1)


async def test_linking_later_fails_from_the_incident_start(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"])
    opened = utcnow() - timedelta(minutes=40)
    incident = await open_incident(client, bob, opened_at=_iso(opened))
    assert (await deployment_row(db, shipped)).failed_at is None
    linked = await _patch(client, bob, incident, caused_by_deployment_id=shipped)
    assert linked["caused_by_deployment_id"] == shipped
    assert (await deployment_row(db, shipped)).failed_at == opened
    # Back-dating the incident moves the failure's start with it.
    earlier = opened - timedelta(minutes=20)
    await _patch(client, bob, incident, opened_at=_iso(earlier))
    assert (await deployment_row(db, shipped)).failed_at == earlier


async def test_an_incident_recorded_as_over_fails_and_restores_at_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    shipped = await deploy(db, people["ada"], at=utcnow() - timedelta(days=2))
    opened, resolved = utcnow() - timedelta(days=1, hours=2), utcnow() - timedelta(days=1)
    await open_incident(
        client,
        people["bob"],
        caused_by_deployment_id=shipped,
        opened_at=_iso(opened),
        resolved_at=_iso(resolved),
    )
    row = await deployment_row(db, shipped)
    assert (row.failed_at, row.restored_at) == (opened, resolved)


async def test_unlinking_keeps_the_failure(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    bob = people["bob"]
    wrong, right = await deploy(db, people["ada"]), await deploy(db, people["ada"])
    opened = utcnow() - timedelta(minutes=30)
    incident = await open_incident(
        client, bob, caused_by_deployment_id=wrong, opened_at=_iso(opened)
    )
    await _patch(client, bob, incident, caused_by_deployment_id=right)
    wrong_row, right_row = await deployment_row(db, wrong), await deployment_row(db, right)
    assert wrong_row.failed_at == opened
    assert wrong_row.restored_at is None
    assert right_row.failed_at == opened


async def test_unlinking_the_last_open_incident_restores_at_the_last_resolution(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"])
    now = utcnow()
    over = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=2))
    )
    still_open = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=1))
    )
    resolved = await _patch(client, bob, over, state="resolved")
    assert (await deployment_row(db, shipped)).restored_at is None
    await _patch(client, bob, still_open, caused_by_deployment_id=None)
    assert (await deployment_row(db, shipped)).restored_at == _at(resolved, "resolved_at")


async def test_reopening_and_resolving_again_moves_the_restore_later(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"])
    now = utcnow()
    incident = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=3))
    )
    await _patch(client, bob, incident, resolved_at=_iso(now - timedelta(hours=2)))
    await _patch(client, bob, incident, state="open")
    await _patch(client, bob, incident, resolved_at=_iso(now - timedelta(hours=1)))
    row = await deployment_row(db, shipped)
    assert row.failed_at == now - timedelta(hours=3)
    assert row.restored_at == now - timedelta(hours=1)


async def test_a_fix_link_changes_nothing_on_the_fixing_deployment(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    fix = await deploy(db, people["ada"])
    await environments(db, people["ada"])
    await open_incident(client, people["bob"], fixed_by_deployment_id=fix)
    row = await deployment_row(db, fix)
    assert (row.failed_at, row.restored_at) == (None, None)


async def test_the_deployment_answer_shows_the_failure_and_the_restore(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The walk of docs/incidents.md: a deployment reported as a CI does, an incident it caused,
    a hotfix, the incident resolved; GET /deployments/{id} shows each step."""
    people = await team(app, db)
    leo = people["bob"]
    await environments(db, people["ada"])
    deployments = "/api/v1/projects/API/deployments"
    reported = await client.post(
        deployments,
        json={
            "environment": "production",
            "state": "success",
            "version": "v9.0.0",
            "pipeline_id": "guide-1",
            "sequence": 1,
        },
        headers=leo.headers,
    )
    assert reported.status_code in (200, 201), reported.text
    deploy_id = reported.json()["id"]
    incident = await open_incident(client, leo, caused_by_deployment_id=deploy_id)
    assert incident["environment"] == "production"
    shown = (await client.get(f"/api/v1/deployments/{deploy_id}", headers=leo.headers)).json()
    assert shown["failed"] is True
    assert shown["failed_at"] == incident["opened_at"]
    assert shown["restored_at"] is None

    fix = await client.post(
        deployments,
        json={
            "environment": "production",
            "state": "success",
            "version": "v9.0.1",
            "pipeline_id": "guide-1-fix",
            "sequence": 1,
            "is_hotfix": True,
            "fixes_deployment_id": deploy_id,
        },
        headers=leo.headers,
    )
    assert fix.status_code in (200, 201), fix.text
    resolved = await _patch(
        client, leo, incident, state="resolved", fixed_by_deployment_id=fix.json()["id"]
    )
    shown = (await client.get(f"/api/v1/deployments/{deploy_id}", headers=leo.headers)).json()
    assert shown["failed"] is True
    assert shown["failed_at"] == incident["opened_at"]
    # The hotfix restored it when it succeeded; the incident, resolved later, is the last word.
    assert shown["restored_at"] == resolved["resolved_at"]


async def test_reopening_withdraws_the_restore_until_resolved_again(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Recovery time runs to the final resolution: while the reopened incident is open the
    deployment is not restored, and `deployment.updated` says so."""
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"])
    now = utcnow()
    incident = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=3))
    )
    first = await _patch(client, bob, incident, resolved_at=_iso(now - timedelta(hours=2)))
    assert (await deployment_row(db, shipped)).restored_at == _at(first, "resolved_at")
    reopened = await _patch(client, bob, incident, state="open")
    assert reopened["resolved_at"] is None
    row = await deployment_row(db, shipped)
    assert (row.failed_at, row.restored_at) == (now - timedelta(hours=3), None)
    answer = (await client.get(f"/api/v1/deployments/{shipped}", headers=bob.headers)).json()
    assert (answer["failed"], answer["restored_at"]) == (True, None)
    async with db.transaction(write=False) as session:
        updates = (
            await session.execute(
                select(Event.data, Event.changes).where(
                    Event.subject_id == shipped, Event.type == "deployment.updated"
                )
            )
        ).all()
    assert [changes for _, changes in updates] == [
        {"restored_at": [_iso(now - timedelta(hours=2)), None]}
    ]
    # Resolved again: restored at the final resolution, not the first.
    await _patch(client, bob, incident, state="resolved")
    row = await deployment_row(db, shipped)
    assert row.restored_at is not None
    assert row.restored_at > now - timedelta(hours=2)  # the final resolution, not the first


async def test_a_new_open_incident_withdraws_a_restore(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    shipped = await deploy(db, people["ada"])
    now = utcnow()
    await open_incident(
        client,
        bob,
        caused_by_deployment_id=shipped,
        opened_at=_iso(now - timedelta(hours=3)),
        resolved_at=_iso(now - timedelta(hours=2)),
    )
    assert (await deployment_row(db, shipped)).restored_at == now - timedelta(hours=2)
    await open_incident(client, bob, caused_by_deployment_id=shipped)
    assert (await deployment_row(db, shipped)).restored_at is None


async def test_an_environment_with_incidents_cannot_be_deleted(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """No deployment went to it, but an incident was recorded there: deleting the environment
    would take the incident with it (deployments asks incidents through a hook)."""
    people = await team(app, db)
    envs = await environments(db, people["ada"])
    await open_incident(client, people["bob"], environment="development")
    response = await client.delete(
        f"/api/v1/environments/{envs['development']}", headers=people["ada"].headers
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "environment-in-use"
    assert "Incidents" in response.json()["detail"]
    assert (await environments(db, people["ada"])).keys() == {
        "development",
        "staging",
        "production",
    }
    # An environment without deployments or incidents still goes.
    gone = await client.delete(
        f"/api/v1/environments/{envs['staging']}", headers=people["ada"].headers
    )
    assert gone.status_code == 204, gone.text


async def _hotfix(
    client: AsyncClient, who: Account, target: str, started: datetime, finished: datetime
) -> None:
    """A successful hotfix of `target` to production, reported by a CI call."""
    made = await client.post(
        "/api/v1/projects/API/deployments",
        json={
            "environment": "production",
            "state": "success",
            "pipeline_id": f"hotfix-of-{target}",
            "is_hotfix": True,
            "fixes_deployment_id": target,
            "started_at": _iso(started),
            "finished_at": _iso(finished),
        },
        headers=who.headers,
    )
    assert made.status_code == 201, made.text


async def test_a_fix_that_succeeds_while_an_incident_is_open_restores_only_when_it_is_resolved(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The recovery ends when the service is back: with an incident the deployment caused
    still open, a successful hotfix doesn't end it; resolving the incident does. Either order
    of the two reports gives the same restore."""
    people = await team(app, db)
    bob = people["bob"]
    now = utcnow()
    shipped = await deploy(db, people["ada"], at=now - timedelta(hours=4))
    incident = await open_incident(
        client, bob, caused_by_deployment_id=shipped, opened_at=_iso(now - timedelta(hours=3))
    )
    await _hotfix(client, bob, shipped, now - timedelta(hours=2), now - timedelta(hours=1))
    row = await deployment_row(db, shipped)
    assert row.failed_at == now - timedelta(hours=3)
    assert row.restored_at is None

    resolved = await _patch(client, bob, incident, state="resolved")
    assert (await deployment_row(db, shipped)).restored_at == _at(resolved, "resolved_at")

    # The other order: the incident is resolved first, then the fix succeeds later.
    second = await deploy(db, people["ada"], at=now - timedelta(hours=4))
    await open_incident(
        client,
        bob,
        caused_by_deployment_id=second,
        opened_at=_iso(now - timedelta(hours=3)),
        resolved_at=_iso(now - timedelta(hours=2)),
    )
    await _hotfix(client, bob, second, now - timedelta(hours=1.5), now - timedelta(hours=1))
    assert (await deployment_row(db, second)).restored_at == now - timedelta(hours=1)


async def test_a_back_dated_resolution_gives_the_same_restore_in_either_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Incident from h1, a hotfix from h2 to h5, the incident resolved as of h3: restored at h5
    (the latest restore) whether the hotfix or the resolution is reported first."""
    people = await team(app, db)
    bob = people["bob"]
    now = utcnow()
    h = {n: now - timedelta(hours=10 - n) for n in range(1, 6)}
    restores = []
    for fix_first in (True, False):
        shipped = await deploy(db, people["ada"], at=now - timedelta(hours=10))
        incident = await open_incident(
            client, bob, caused_by_deployment_id=shipped, opened_at=_iso(h[1])
        )
        if fix_first:
            await _hotfix(client, bob, shipped, h[2], h[5])
            await _patch(client, bob, incident, state="resolved", resolved_at=_iso(h[3]))
        else:
            await _patch(client, bob, incident, state="resolved", resolved_at=_iso(h[3]))
            await _hotfix(client, bob, shipped, h[2], h[5])
        restores.append((await deployment_row(db, shipped)).restored_at)
    assert restores == [h[5], h[5]]
