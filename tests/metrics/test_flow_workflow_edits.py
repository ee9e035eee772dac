"""Items that a workflow edit moves into or out of a category start and finish as if they had
been moved one by one (METRICS.md, Flow: started = first entry into an `in_progress` status,
finished = entry into `done`): a status deleted with `move_to`, a status given another category.
WIP, work item age and cycle time read the items' stored marks, so they agree with the
cumulative flow, which reads the events of the same edit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.estimation import repository as estimation_repo
from takt.projects.models import Project
from tests.metrics.test_flow import Script, at
from tests.support import team

STATUSES = "/api/v1/projects/API/statuses"
EDIT = at(11, 10, 9)  # Tuesday 10 November, 09:00 UTC: the workflow edit
DAY_AFTER = EDIT + timedelta(days=1)
STAMP = "2026-11-10T09:00:00Z"


async def status_id(s: Script, name: str) -> str:
    statuses = await s.call(EDIT, "GET", STATUSES)
    return str(next(x["id"] for x in statuses["data"] if x["name"] == name))


async def recategorise(s: Script, when: datetime, name: str, category: str) -> None:
    sid = await status_id(s, name)
    await s.call(when, "PATCH", f"{STATUSES}/{sid}", json={"category": category})


async def delete_status(s: Script, when: datetime, name: str, move_to: str) -> None:
    sid = await status_id(s, name)
    await s.call(when, "DELETE", f"{STATUSES}/{sid}", params={"move_to": move_to})


async def marks(s: Script, key: str) -> tuple[str | None, str | None]:
    item = await s.call(DAY_AFTER, "GET", f"/api/v1/items/{key}")
    return item["started_at"], item["finished_at"]


async def flow_at(s: Script, when: datetime) -> dict[str, Any]:
    params = {"from": "2026-11-09", "to": when.date().isoformat()}
    body: dict[str, Any] = await s.call(
        when, "GET", "/api/v1/projects/API/metrics/flow", params=params
    )
    return body


def ages(flow: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    return [
        (i["key"], i["status"], i["category"], i["age_days"])
        for i in flow["work_item_age"]["items"]
    ]


async def test_items_moved_into_progress_by_a_status_deletion_start_then(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    await s.call(at(11, 9, 9), "POST", STATUSES, json={"name": "Queued", "category": "todo"})
    y = await s.create(at(11, 9, 10), "Y", "Queued")
    await delete_status(s, EDIT, "Queued", move_to="In Progress")
    assert await marks(s, y) == (STAMP, None)

    in_progress = await flow_at(s, DAY_AFTER)
    assert in_progress["wip"] == 1
    assert ages(in_progress) == [(y, "In Progress", "in_progress", 1.0)]

    await s.move(DAY_AFTER, y, "Done")
    done = await flow_at(s, DAY_AFTER + timedelta(hours=1))
    assert done["wip"] == 0
    cycle = done["cycle_time"]
    assert (cycle["count"], cycle["not_started"], cycle["p50"]) == (1, 0, 1.0)
    assert [(p["key"], p["cycle_time"]) for p in cycle["points"]] == [(y, 1.0)]


async def test_items_in_a_status_recategorised_to_in_progress_start_then(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    x = await s.create(at(11, 9, 10), "X", "To Do")
    await s.move(at(11, 9, 11), x, "In Review")  # never in progress
    await recategorise(s, EDIT, "In Review", "in_progress")
    assert await marks(s, x) == (STAMP, None)

    flow = await flow_at(s, DAY_AFTER)
    assert flow["wip"] == 1
    assert ages(flow) == [(x, "In Review", "in_progress", 1.0)]


async def test_items_that_had_started_keep_their_start_through_workflow_edits(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    await s.call(at(11, 9, 8), "POST", STATUSES, json={"name": "Queued", "category": "todo"})
    moved = await s.create(at(11, 9, 9), "Moved", "In Progress")
    await s.move(at(11, 9, 10), moved, "Queued")
    kept = await s.create(at(11, 9, 9), "Kept", "In Progress")
    await s.move(at(11, 9, 10), kept, "In Review")
    await delete_status(s, EDIT, "Queued", move_to="In Progress")
    await recategorise(s, EDIT, "In Review", "in_progress")
    assert await marks(s, moved) == ("2026-11-09T09:00:00Z", None)
    assert await marks(s, kept) == ("2026-11-09T09:00:00Z", None)
    # Both started on the 9th at 09:00, two days before.
    assert sorted((key, age) for key, _, _, age in ages(await flow_at(s, DAY_AFTER))) == [
        (moved, 2.0),
        (kept, 2.0),
    ]


async def cycle_times_by_estimate(db: Database) -> list[tuple[float, int, float, float]]:
    async with db.transaction() as session:
        project_id = await session.scalar(select(Project.id).where(Project.key == "API"))
        assert project_id is not None
        return await estimation_repo.cycle_times_by_estimate(session, project_id, [3.0])


async def test_items_moved_into_done_by_a_workflow_edit_finish_then(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    """Finished is the same rule: entry into `done` sets `finished_at` (which the estimates'
    calibration reads), and leaving `done` through an edit clears it, as a move does."""
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    await s.call(at(11, 9, 8), "POST", STATUSES, json={"name": "Verify", "category": "in_review"})
    reviewed = await s.create(at(11, 9, 9), "Reviewed", "In Progress", estimate=3)
    await s.move(at(11, 9, 10), reviewed, "In Review")
    verified = await s.create(at(11, 9, 9), "Verified", "In Progress", estimate=3)
    await s.move(at(11, 9, 10), verified, "Verify")

    await recategorise(s, EDIT, "In Review", "done")
    await delete_status(s, EDIT, "Verify", move_to="Done")
    assert await marks(s, reviewed) == ("2026-11-09T09:00:00Z", STAMP)
    assert await marks(s, verified) == ("2026-11-09T09:00:00Z", STAMP)
    # Both finished a day after they started: calibration counts them with that cycle time.
    assert await cycle_times_by_estimate(db) == [(3.0, 2, 86400.0, 86400.0)]
    assert (await flow_at(s, DAY_AFTER))["cycle_time"]["count"] == 2

    await recategorise(s, DAY_AFTER, "In Review", "in_review")
    assert await marks(s, reviewed) == ("2026-11-09T09:00:00Z", None)
    assert await marks(s, verified) == ("2026-11-09T09:00:00Z", STAMP)
