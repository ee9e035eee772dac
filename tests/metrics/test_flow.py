"""Flow metrics over a scripted history of items, every number worked out by hand (METRICS.md,
Flow): throughput per working day, cycle and lead time percentiles, WIP, work item age and the
cumulative flow, overall and through `q`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from takt.metrics import flow as flow_metrics
from tests.support import Account, team

FLOW = "/api/v1/projects/API/metrics/flow"
NOW = datetime(2026, 11, 17, 12, tzinfo=UTC)
PERIOD = {"from": "2026-11-02", "to": "2026-11-13"}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Script:
    def __init__(self, client: AsyncClient, who: Account) -> None:
        self.client, self.who = client, who

    async def call(self, when: datetime, method: str, url: str, **kwargs: Any) -> Any:
        with clock_at(when):
            response = await self.client.request(method, url, headers=self.who.headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def create(self, when: datetime, title: str, status: str, **fields: Any) -> str:
        body = {"title": title, "status": status, **fields}
        created = await self.call(when, "POST", "/api/v1/projects/API/items", json=body)
        return str(created["key"])

    async def move(self, when: datetime, key: str, status: str) -> None:
        await self.call(when, "PATCH", f"/api/v1/items/{key}", json={"status": status})

    async def flow(self, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.call(NOW, "GET", FLOW, params=params)
        return body


async def history(client: AsyncClient, ada: Account) -> tuple[Script, dict[str, str]]:
    """Seven items (and one deleted) from Friday 30 October to Monday 16 November, UTC,
    Monday to Friday working days (the project's defaults)."""
    s = Script(client, ada)
    k: dict[str, str] = {}
    k["A"] = await s.create(at(10, 30, 10), "A", "To Do")
    k["B"] = await s.create(at(10, 30, 10), "B", "To Do")
    k["C"] = await s.create(at(10, 30, 10), "C", "Backlog")
    await s.move(at(10, 30, 13), k["A"], "In Progress")
    await s.move(at(11, 2, 9), k["B"], "In Progress")
    await s.move(at(11, 2, 15), k["A"], "Done")
    k["D"] = await s.create(at(11, 3, 10), "D", "To Do")
    await s.move(at(11, 3, 11), k["D"], "Done")  # never started
    k["H"] = await s.create(at(11, 4, 8), "H", "To Do")
    await s.move(at(11, 4, 8, 30), k["H"], "In Progress")
    await s.move(at(11, 4, 9), k["B"], "In Review")
    await s.move(at(11, 5, 9), k["B"], "Done")
    await s.move(at(11, 6, 10), k["B"], "In Progress")  # reopened
    await s.call(at(11, 6, 11), "DELETE", f"/api/v1/items/{k['H']}")  # gone from every figure
    await s.move(at(11, 7, 10), k["B"], "Done")  # a Saturday
    await s.move(at(11, 9, 10), k["C"], "In Progress")
    await s.move(at(11, 10, 10), k["C"], "Cancelled")
    k["E"] = await s.create(at(11, 10, 11), "E", "In Progress", type="bug")
    k["G"] = await s.create(at(11, 11, 9), "G", "To Do")
    await s.move(at(11, 11, 10), k["G"], "In Progress")
    k["F"] = await s.create(at(11, 12, 14), "F", "To Do")
    await s.move(at(11, 12, 9), k["G"], "To Do")  # moved back: still started, not finished
    await s.move(at(11, 12, 15, 30), k["F"], "In Progress")
    await s.move(at(11, 16, 10), k["E"], "Done")  # after the period
    return s, k


def bands(
    backlog: int, todo: int, in_progress: int, in_review: int, done: int, cancelled: int
) -> dict[str, int]:
    return {
        "backlog": backlog,
        "todo": todo,
        "in_progress": in_progress,
        "in_review": in_review,
        "done": done,
        "cancelled": cancelled,
    }


async def test_flow_of_a_scripted_history_matches_the_hand_computed_numbers(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, k = await history(client, ada)
    flow = await s.flow(**PERIOD)
    assert (flow["from"], flow["to"], flow["time_zone"]) == ("2026-11-02", "2026-11-13", "UTC")

    # Finishes in the period: A (Mon 2), D (Tue 3), B (Thu 5) and B again (Sat 7, not a
    # working day). 3 on the 10 working days.
    throughput = flow["throughput"]
    assert throughput["finished"] == 4
    assert throughput["finished_on_other_days"] == 1
    assert throughput["working_days"] == 10
    assert throughput["per_working_day"] == 0.3
    assert [(d["date"][-2:], d["finished"]) for d in throughput["days"]] == [
        ("02", 1), ("03", 1), ("04", 0), ("05", 1), ("06", 0),
        ("09", 0), ("10", 0), ("11", 0), ("12", 0), ("13", 0),
    ]  # fmt: skip

    # Cycle time (days): A 30 Oct 13:00 -> 2 Nov 15:00 = 3.0833; B 2 Nov 09:00 -> 5 Nov 09:00
    # = 3; B again -> 7 Nov 10:00 = 5.0417; D never started. Nearest rank of 3 values: P50 the
    # 2nd, P85 and P95 the 3rd.
    points = flow["cycle_time"].pop("points")
    assert flow["cycle_time"] == {
        "count": 3,
        "not_started": 1,
        "p50": 3.08,
        "p85": 5.04,
        "p95": 5.04,
        "points_cut": False,
    }
    # Each finish for the scatter chart, latest first (D never started: no cycle time).
    assert [(p["key"], p["finished_at"], p["cycle_time"]) for p in points] == [
        (k["B"], "2026-11-07T10:00:00Z", 5.04),
        (k["B"], "2026-11-05T09:00:00Z", 3.0),
        (k["D"], "2026-11-03T11:00:00Z", None),
        (k["A"], "2026-11-02T15:00:00Z", 3.08),
    ]
    # Lead time: A 30 Oct 10:00 -> 2 Nov 15:00 = 3.2083; D 1 h = 0.0417; B 5.9583 and 8.
    assert flow["lead_time"] == {"count": 4, "p50": 3.21, "p85": 8.0, "p95": 8.0}

    # WIP now (17 Nov 12:00): G (started 11 Nov 10:00, moved back to To Do) and F (started 12
    # Nov 15:30). C was cancelled, E finished on the 16th, H is in the trash.
    assert flow["wip"] == 2
    age = flow["work_item_age"]
    assert age["count"] == 2
    assert [(i["key"], i["status"], i["category"], i["age_days"]) for i in age["items"]] == [
        (k["G"], "To Do", "todo", 6.08),
        (k["F"], "In Progress", "in_progress", 4.85),
    ]

    # Items in each category or a later one at the end of each day (cancelled apart).
    cfd = {
        d["date"][-2:]: {n: v for n, v in d.items() if n != "date"} for d in flow["cumulative_flow"]
    }
    assert list(cfd) == [f"{n:02d}" for n in range(2, 14)]
    assert cfd["02"] == bands(3, 2, 2, 1, 1, 0)  # A done, B in progress, C backlog
    assert cfd["03"] == bands(4, 3, 3, 2, 2, 0)  # D created and done
    assert cfd["04"] == bands(4, 3, 3, 3, 2, 0)  # B in review
    assert cfd["05"] == bands(4, 3, 3, 3, 3, 0)  # B done
    assert cfd["06"] == bands(4, 3, 3, 2, 2, 0)  # B reopened
    assert cfd["07"] == cfd["08"] == bands(4, 3, 3, 3, 3, 0)  # B done again
    assert cfd["09"] == bands(4, 4, 4, 3, 3, 0)  # C in progress
    assert cfd["10"] == bands(4, 4, 4, 3, 3, 1)  # C cancelled, E created in progress
    assert cfd["11"] == bands(5, 5, 5, 3, 3, 1)  # G created, in progress
    assert cfd["12"] == cfd["13"] == bands(6, 6, 5, 3, 3, 1)  # F in progress, G back to do


async def test_q_narrows_every_figure_to_the_matching_items(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, _ = await history(client, ada)
    bugs = await s.flow(q="type:bug", **PERIOD)  # E only
    assert bugs["q"] == "type:bug"
    assert bugs["throughput"]["finished"] == 0
    assert bugs["throughput"]["per_working_day"] == 0.0
    assert bugs["cycle_time"] == {
        "count": 0,
        "not_started": 0,
        "p50": None,
        "p85": None,
        "p95": None,
        "points": [],
        "points_cut": False,
    }
    assert bugs["wip"] == 0
    assert bugs["work_item_age"] == {"count": 0, "items": []}
    cfd = {d["date"][-2:]: d for d in bugs["cumulative_flow"]}
    assert cfd["09"]["backlog"] == 0
    assert {n: cfd["10"][n] for n in ("backlog", "todo", "in_progress", "in_review", "done")} == {
        "backlog": 1, "todo": 1, "in_progress": 1, "in_review": 0, "done": 0,
    }  # fmt: skip

    for q in ("type:", "label:nope"):
        bad = await s.client.get(FLOW, params={"q": q}, headers=ada.headers)
        assert bad.status_code == 400, (q, bad.text)
        assert bad.json()["code"] == "invalid-query"


async def test_defaults_bounds_and_visibility(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    with clock_at(NOW):
        empty = await client.get(FLOW, headers=people["vic"].headers)
        assert empty.status_code == 200, empty.text
        body = empty.json()
        assert (body["from"], body["to"]) == ("2026-10-19", "2026-11-17")  # 30 days to today
        assert body["throughput"]["finished"] == 0
        assert body["cycle_time"]["p50"] is None
        assert len(body["cumulative_flow"]) == 30
        # A `to` after today is today: a day not yet begun has no flow.
        later = await client.get(FLOW, params={"to": "2026-12-31"}, headers=people["vic"].headers)
        assert later.json()["to"] == "2026-11-17"
        for params in (
            {"from": "2026-11-10", "to": "2026-11-09"},
            {"from": "2024-01-01", "to": "2026-11-09"},
            {"from": "yesterday"},
            {"from": "0001-01-01", "to": "0001-01-02"},
        ):
            bad = await client.get(FLOW, params=params, headers=people["vic"].headers)
            assert bad.status_code == 422, (params, bad.text)
        hidden = await client.get(FLOW, headers=people["sam"].headers)
        assert hidden.status_code == 404


async def test_the_points_are_the_latest_finishes_cut_to_the_limit(
    app: FastAPI, db: Database, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over more finishes than the scatter chart shows, the latest ones, each with its item's
    key, and `points_cut`; the figures still count every finish."""
    ada = (await team(app, db))["ada"]
    s, k = await history(client, ada)
    monkeypatch.setattr(flow_metrics, "POINTS_LIMIT", 2)
    flow = await s.flow(**PERIOD)
    cycle = flow["cycle_time"]
    assert [(p["key"], p["finished_at"]) for p in cycle["points"]] == [
        (k["B"], "2026-11-07T10:00:00Z"),
        (k["B"], "2026-11-05T09:00:00Z"),
    ]
    assert cycle["points_cut"] is True
    assert (cycle["count"], flow["lead_time"]["count"]) == (3, 4)
