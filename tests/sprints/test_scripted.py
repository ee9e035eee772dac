"""A sprint scripted over ten working days, with numbers computed by hand (METRICS.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from tests.support import Account, team


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


class Script:
    def __init__(self, client: AsyncClient, who: Account) -> None:
        self.client, self.who = client, who

    async def call(self, when: datetime, method: str, url: str, **kwargs: Any) -> Any:
        with clock_at(when):
            response = await self.client.request(method, url, headers=self.who.headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def item(self, when: datetime, title: str, estimate: float | None, sprint: str) -> str:
        body = {"title": title, "sprint_id": sprint, **({"estimate": estimate} if estimate else {})}
        created = await self.call(when, "POST", "/api/v1/projects/API/items", json=body)
        return str(created["key"])

    async def patch(self, when: datetime, key: str, **fields: Any) -> None:
        await self.call(when, "PATCH", f"/api/v1/items/{key}", json=fields)


async def _first_sprint(client: AsyncClient, ada: Account) -> tuple[Script, str, dict[str, str]]:
    s = Script(client, ada)
    sprint = await s.call(
        at(1),
        "POST",
        "/api/v1/projects/API/sprints",
        json={"name": "Sprint 1", "start_date": "2026-11-02", "end_date": "2026-11-13"},
    )
    sid = sprint["id"]
    keys = {
        name: await s.item(at(1), name, est, sid)
        for name, est in (("A", 3), ("B", 5), ("C", 8), ("D", 2), ("E", None))
    }
    await s.call(at(2, 9), "POST", f"/api/v1/sprints/{sid}/start")
    await s.patch(at(3, 10), keys["A"], status="Done")
    await s.patch(at(4, 11), keys["C"], estimate=13)
    keys["F"] = await s.item(at(5, 12), "F", 5, sid)
    await s.patch(at(6, 15), keys["B"], status="Done")
    await s.call(at(9), "DELETE", f"/api/v1/sprints/{sid}/items/{keys['D']}")
    await s.patch(at(10), keys["F"], status="Done")
    await s.patch(at(11), keys["E"], estimate=1)
    return s, sid, keys


async def test_burndown_report_and_velocity_match_the_hand_computed_numbers(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    s, sid, keys = await _first_sprint(client, ada)
    started = await s.call(at(12), "GET", f"/api/v1/sprints/{sid}")
    assert started["commitment"]["points"] == 18  # C's re-estimate does not change it
    assert started["commitment"]["items"] == 5

    burndown = await s.call(at(12, 18), "GET", f"/api/v1/sprints/{sid}/burndown")
    # The whole sprint, measured up to today; the day ahead has the ideal line and no actuals.
    assert [d["date"] for d in burndown["days"]][-1] == "2026-11-13"
    assert [d["date"] for d in burndown["days"] if d["remaining_points"] is not None][-1] == (
        "2026-11-12"
    )
    ahead = burndown["days"][-1]
    assert ahead["ideal_points"] == 1.8
    assert {k: v for k, v in ahead.items() if k not in ("date", "ideal_points")} == {
        "remaining_points": None,
        "remaining_items": None,
        "completed_points": None,
        "completed_items": None,
        "scope_points": None,
        "scope_items": None,
        "scope_changes": [],
    }
    completed = await s.call(
        at(13, 16), "POST", f"/api/v1/sprints/{sid}/complete", json={"carry_over_to": "backlog"}
    )
    report = completed["report"]
    assert report["committed"] == {"items": 5, "points": 18}
    assert report["completed"] == {"items": 3, "points": 13}
    assert report["added"] == {"items": 1, "points": 5}
    assert report["removed"] == {"items": 1, "points": 2}
    assert report["carried_over"] == {"items": 2, "points": 14}
    assert report["say_do_ratio"] == round(8 / 18, 4)
    assert report["scope_change"] == round(3 / 18, 4)
    assert report["carry_over_rate"] == round(14 / 18, 4)
    assert report["person_days"] == 20
    assert report["carried_over_to"] == "backlog"

    burndown = await s.call(at(20), "GET", f"/api/v1/sprints/{sid}/burndown")
    days = burndown["days"]
    assert [d["date"][-2:] for d in days] == [
        "02",
        "03",
        "04",
        "05",
        "06",
        "09",
        "10",
        "11",
        "12",
        "13",
    ]
    assert [d["remaining_points"] for d in days] == [18, 15, 20, 25, 20, 18, 13, 14, 14, 14]
    assert [d["scope_points"] for d in days] == [18, 18, 23, 28, 28, 26, 26, 27, 27, 27]
    assert [d["completed_points"] for d in days] == [0, 3, 3, 3, 8, 8, 13, 13, 13, 13]
    assert [d["remaining_items"] for d in days] == [5, 4, 4, 5, 4, 3, 2, 2, 2, 2]
    # I(k) = R(start) x (1 - k/K): the line starts at the committed 18 points.
    assert [d["ideal_points"] for d in days] == [18, 16.2, 14.4, 12.6, 10.8, 9, 7.2, 5.4, 3.6, 1.8]
    changes = {
        d["date"][-2:]: [(c["key"], c["change"], c["estimate"]) for c in d["scope_changes"]]
        for d in days
        if d["scope_changes"]
    }
    assert changes == {"05": [(keys["F"], "added", 5)], "09": [(keys["D"], "removed", 2)]}
    for day in days:
        assert day["remaining_points"] + day["completed_points"] == day["scope_points"]
        assert day["remaining_items"] + day["completed_items"] == day["scope_items"]

    # Re-estimating after the fact changes neither the past burndown nor the frozen report.
    await s.patch(at(23), keys["C"], estimate=1)
    assert (await s.call(at(23), "GET", f"/api/v1/sprints/{sid}/burndown"))["days"] == days
    assert (await s.call(at(23), "GET", f"/api/v1/sprints/{sid}/report")) == report
    # Carried-over items left for the backlog; the completed sprint is read-only.
    c_item = await s.call(at(23), "GET", f"/api/v1/items/{keys['C']}")
    assert c_item["sprint_id"] is None
    with clock_at(at(23)):
        frozen = await client.post(
            f"/api/v1/sprints/{sid}/items", json={"item_keys": [keys["A"]]}, headers=ada.headers
        )
    assert frozen.status_code == 409

    second = await s.call(
        at(16),
        "POST",
        "/api/v1/projects/API/sprints",
        json={"name": "Sprint 2", "start_date": "2026-11-16", "end_date": "2026-11-27"},
    )
    big = await s.item(at(16), "Big", 20, second["id"])
    await s.call(at(16, 9), "POST", f"/api/v1/sprints/{second['id']}/start")
    await s.patch(at(20), big, status="Done")
    await s.call(
        at(27, 17),
        "POST",
        f"/api/v1/sprints/{second['id']}/complete",
        json={"carry_over_to": "next"},
    )
    velocity = await s.call(at(28), "GET", "/api/v1/projects/API/velocity", params={"sprints": 5})
    assert [
        (v["name"], v["committed_points"], v["completed_points"]) for v in velocity["sprints"]
    ] == [("Sprint 2", 20, 20), ("Sprint 1", 18, 13)]
    assert velocity["mean"] == 16.5
    assert velocity["std_dev"] == round((24.5**0.5), 4)

    # "next" created the following sprint; plan it against capacity.
    planned = await s.call(
        at(28), "GET", "/api/v1/projects/API/sprints", params={"state": "planned"}
    )
    third = planned["data"][0]
    assert (third["start_date"], third["end_date"]) == ("2026-11-28", "2026-12-09")
    people = await s.call(at(28), "GET", f"/api/v1/sprints/{third['id']}/capacity")
    bob = next(m for m in people["members"] if m["user"]["username"] == "bob")
    capacity = await s.call(
        at(28),
        "PUT",
        f"/api/v1/sprints/{third['id']}/capacity/{bob['user']['id']}",
        json={"allocation": 0.5, "absent_days": ["2026-12-01", "2026-12-05"]},
    )
    # 8 working days; bob: (8 - 1 working day off) x 0.5 = 3.5; ada: 8
    assert capacity["person_days"] == 11.5
    assert capacity["points"]["mean_velocity"] == 16.5
    assert capacity["points"]["mean_person_days"] == 20
    assert capacity["points"]["points"] == round(16.5 * 11.5 / 20, 4)
    assert sorted(capacity["points"]["based_on"]) == sorted([sid, second["id"]])


async def test_only_one_sprint_is_active(client: AsyncClient, app: FastAPI, db: Database) -> None:
    import asyncio

    ada = (await team(app, db))["ada"]
    ids = []
    for name in ("One", "Two"):
        created = await client.post(
            "/api/v1/projects/API/sprints", json={"name": name}, headers=ada.headers
        )
        ids.append(created.json()["id"])
    first, second = await asyncio.gather(
        *(client.post(f"/api/v1/sprints/{i}/start", headers=ada.headers) for i in ids)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "sprint-already-active"
    listed = await client.get(
        "/api/v1/projects/API/sprints", params={"state": "active"}, headers=ada.headers
    )
    assert len(listed.json()["data"]) == 1


async def test_a_sprint_is_at_most_a_year(client: AsyncClient, app: FastAPI, db: Database) -> None:
    ada = (await team(app, db))["ada"]
    too_long = await client.post(
        "/api/v1/projects/API/sprints",
        json={"name": "Forever", "start_date": "2026-01-01", "end_date": "2027-01-02"},
        headers=ada.headers,
    )
    assert too_long.status_code == 422
    sprint = (
        await client.post("/api/v1/projects/API/sprints", json={"name": "Ok"}, headers=ada.headers)
    ).json()
    stretched = await client.patch(
        f"/api/v1/sprints/{sprint['id']}", json={"start_date": "0001-01-01"}, headers=ada.headers
    )
    assert stretched.status_code == 422
