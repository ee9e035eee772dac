"""When a deployment counts as failed (it needed remediation: a rollback of it, or a hotfix
fixing it) and when it is restored; a deployment that merely finished in `failure` is not."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.deployments.kit import at, deployed, report, sha, z
from tests.support import Account, team


async def read(client: AsyncClient, who: Account, deployment: dict[str, Any]) -> Any:
    response = await client.get(f"/api/v1/deployments/{deployment['id']}", headers=who.headers)
    assert response.status_code == 200
    return response.json()


async def failed_events(client: AsyncClient, who: Account) -> list[tuple[str, str]]:
    events = (
        await client.get(
            "/api/v1/projects/API/events",
            params={"types": "deployment.failed"},
            headers=who.headers,
        )
    ).json()["data"]
    return [(e["data"]["id"], e["data"]["reason"]) for e in events]


async def test_a_rollback_deployment_rolls_back_fails_and_restores_its_target(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    good = await deployed(client, bob, sha=sha(1), started_at=z(at(0)), finished_at=z(at(0.1)))
    bad = await deployed(client, bob, sha=sha(2), started_at=z(at(1)), finished_at=z(at(1.1)))
    # The rollback starts (pending): the bad one needed remediation from then on.
    rollback = await deployed(
        client,
        bob,
        state="in_progress",
        pipeline_id="rb",
        sha=sha(1),
        is_rollback=True,
        fixes_deployment_id=bad["id"],
        started_at=z(at(2)),
    )
    now = await read(client, bob, bad)
    assert (now["state"], now["failed"], now["failed_at"], now["restored_at"]) == (
        "success",
        True,
        z(at(2)),
        None,
    )
    # It succeeds: the bad one is rolled back and restored when the rollback finished.
    done = await report(
        client,
        bob,
        state="success",
        pipeline_id="rb",
        sequence=1,
        finished_at=z(at(2.5)),
    )
    assert done.status_code == 200, done.text
    assert done.json()["id"] == rollback["id"]
    now = await read(client, bob, bad)
    assert (now["state"], now["failed_at"], now["restored_at"]) == (
        "rolled_back",
        z(at(2)),
        z(at(2.5)),
    )
    assert (await read(client, bob, good))["failed"] is False
    assert (await read(client, bob, rollback))["fixes_deployment_id"] == bad["id"]
    assert await failed_events(client, bob) == [(bad["id"], "rolled_back")]


async def test_a_hotfix_fails_its_target_and_its_success_restores_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    bad = await deployed(client, bob, started_at=z(at(0)), finished_at=z(at(0.1)))
    hotfix = await deployed(
        client,
        bob,
        is_hotfix=True,
        fixes_deployment_id=bad["id"],
        started_at=z(at(3)),
        finished_at=z(at(3.2)),
    )
    now = await read(client, bob, bad)
    assert (now["state"], now["failed_at"], now["restored_at"]) == ("success", z(at(3)), z(at(3.2)))
    assert hotfix["failed"] is False
    # A later, earlier-starting remediation moves failed_at back, never forward; the latest
    # restore wins.
    await deployed(
        client,
        bob,
        is_hotfix=True,
        fixes_deployment_id=bad["id"],
        started_at=z(at(2)),
        finished_at=z(at(4)),
    )
    now = await read(client, bob, bad)
    assert (now["failed_at"], now["restored_at"]) == (z(at(2)), z(at(4)))
    assert await failed_events(client, bob) == [(bad["id"], "hotfix")]


async def test_a_failed_hotfix_does_not_restore(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    bad = await deployed(client, bob)
    await deployed(client, bob, state="failure", is_hotfix=True, fixes_deployment_id=bad["id"])
    now = await read(client, bob, bad)
    assert now["failed"] is True
    assert now["restored_at"] is None


async def test_marking_a_deployment_as_fixing_another_by_patch(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    bad = await deployed(client, bob, started_at=z(at(0)), finished_at=z(at(0.1)))
    fix = await deployed(client, bob, started_at=z(at(1)), finished_at=z(at(1.5)))
    patched = await client.patch(
        f"/api/v1/deployments/{fix['id']}",
        json={"is_hotfix": True, "fixes_deployment_id": bad["id"]},
        headers=bob.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["is_hotfix"] is True
    now = await read(client, bob, bad)
    assert (now["failed_at"], now["restored_at"]) == (z(at(1)), z(at(1.5)))
    unknown = await client.patch(
        f"/api/v1/deployments/{fix['id']}",
        json={"fixes_deployment_id": "nope"},
        headers=bob.headers,
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/fixes_deployment_id"
    itself = await client.patch(
        f"/api/v1/deployments/{fix['id']}",
        json={"fixes_deployment_id": fix["id"]},
        headers=bob.headers,
    )
    assert itself.status_code == 422


async def test_a_deployment_that_finished_in_failure_is_not_a_change_failure(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    failed = await deployed(client, bob, state="failure")
    assert failed["failed"] is False
    assert failed["failed_at"] is None
    assert await failed_events(client, bob) == [(failed["id"], "failure")]


async def test_a_fix_names_an_earlier_deployment_to_its_own_environment_that_doesnt_fix_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    target = await deployed(client, bob, sha=sha(1), started_at=z(at(5)), finished_at=z(at(5.1)))
    on_staging = await deployed(
        client, bob, environment="staging", sha=sha(2), started_at=z(at(1)), finished_at=z(at(2))
    )
    refused = {
        "another environment": {
            "environment": "staging",
            "is_rollback": True,
            "fixes_deployment_id": target["id"],
        },
        "a fix started before its target": {
            "is_hotfix": True,
            "fixes_deployment_id": target["id"],
            "started_at": z(at(4)),
        },
        # Equal starts would let fixes go round a circle (A fixes B fixes C fixes A).
        "a fix started at the same moment as its target": {
            "is_rollback": True,
            "fixes_deployment_id": target["id"],
            "started_at": z(at(5)),
        },
    }
    for case, fields in refused.items():
        answer = await report(client, bob, sha=sha(3), **fields)
        assert answer.status_code == 422, (case, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["pointer"] == "/fixes_deployment_id", case
    # Two deployments can't fix each other: B is a rollback of A, then A is said to fix B.
    fix = await deployed(
        client,
        bob,
        sha=sha(4),
        is_rollback=True,
        fixes_deployment_id=target["id"],
        started_at=z(at(6)),
        finished_at=z(at(6.1)),
    )
    cycle = await client.patch(
        f"/api/v1/deployments/{target['id']}",
        json={"is_hotfix": True, "fixes_deployment_id": fix["id"]},
        headers=bob.headers,
    )
    assert cycle.status_code == 422, cycle.text
    # Nothing of the refused calls was written: the target was failed by its rollback only,
    # from when that started; the staging one never.
    shown = await read(client, bob, target)
    assert (shown["failed_at"], shown["fixes_deployment_id"], shown["is_hotfix"]) == (
        z(at(6)),
        None,
        False,
    )
    assert (await read(client, bob, on_staging))["failed"] is False
    listed = (await client.get("/api/v1/projects/API/deployments", headers=bob.headers)).json()
    assert len(listed["data"]) == 3


async def test_a_moved_start_keeps_fixes_after_what_they_fix(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A later report of a pending deployment may move its start, but not past a deployment
    fixing it, and a fix's start not back before its target: else the two could be linked to fix
    each other (T pending at 11:00, A fixing it at 12:00, T moved to 13:00, then T fixing A)."""
    bob = (await team(app, db))["bob"]
    target = await deployed(
        client, bob, sha=sha(1), state="pending", pipeline_id="t", started_at=z(at(11))
    )
    fix = await deployed(
        client,
        bob,
        sha=sha(2),
        state="pending",
        pipeline_id="a",
        is_hotfix=True,
        fixes_deployment_id=target["id"],
        started_at=z(at(12)),
    )
    past_its_fix = await report(
        client, bob, sha=sha(1), state="in_progress", pipeline_id="t", started_at=z(at(13))
    )
    assert past_its_fix.status_code == 422, past_its_fix.text
    assert past_its_fix.json()["errors"][0]["pointer"] == "/started_at"
    before_its_target = await report(
        client, bob, sha=sha(2), state="in_progress", pipeline_id="a", started_at=z(at(10))
    )
    assert before_its_target.status_code == 422, before_its_target.text
    assert before_its_target.json()["errors"][0]["pointer"] == "/started_at"
    cycle = await client.patch(
        f"/api/v1/deployments/{target['id']}",
        json={"is_hotfix": True, "fixes_deployment_id": fix["id"]},
        headers=bob.headers,
    )
    assert cycle.status_code == 422, cycle.text
    # Moves that keep the order are taken.
    kept = await report(
        client, bob, sha=sha(1), state="in_progress", pipeline_id="t", started_at=z(at(11.5))
    )
    assert kept.status_code == 200, kept.text
    shown_target, shown_fix = await read(client, bob, target), await read(client, bob, fix)
    assert (shown_target["started_at"], shown_target["fixes_deployment_id"]) == (
        z(at(11.5)),
        None,
    )
    assert (shown_fix["started_at"], shown_fix["fixes_deployment_id"]) == (z(at(12)), target["id"])


async def test_a_start_moved_while_a_fix_is_linked_keeps_the_order(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The same rule when the two reports arrive at once: moving the target's start past the fix
    and linking the fix can't both be taken (the target's row is locked by both)."""
    bob = (await team(app, db))["bob"]
    for round_ in range(4):
        target = await deployed(
            client, bob, sha=sha(10 + round_), state="pending", pipeline_id=f"t{round_}",
            started_at=z(at(11)),
        )  # fmt: skip
        moved, linked = await asyncio.gather(
            report(
                client, bob, sha=sha(10 + round_), state="in_progress",
                pipeline_id=f"t{round_}", started_at=z(at(13)),
            ),
            report(
                client, bob, sha=sha(20 + round_), state="pending", pipeline_id=f"a{round_}",
                is_hotfix=True, fixes_deployment_id=target["id"], started_at=z(at(12)),
            ),
        )  # fmt: skip
        assert sorted([moved.status_code, linked.status_code]) in ([200, 422], [201, 422]), (
            moved.text,
            linked.text,
        )
        shown = await read(client, bob, target)
        fixers = [
            d
            for d in (
                await client.get("/api/v1/projects/API/deployments", headers=bob.headers)
            ).json()["data"]
            if d["fixes_deployment_id"] == target["id"]
        ]
        assert all(f["started_at"] > shown["started_at"] for f in fixers)
