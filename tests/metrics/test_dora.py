"""DORA metrics over a scripted delivery history, every number worked out by hand (METRICS.md,
Delivery): a deployment fixed through an incident, a hotfix, a rollback, a deployment of commits
Takt never saw, a failed one and one still running; the weekly series; `as_of` giving the answer
given on that day."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from takt.metrics import repository as metrics_repository
from tests.deployments.kit import link_repository, push, sha
from tests.support import Account, team

DORA = "/api/v1/projects/API/metrics/dora"
NOW = datetime(2026, 11, 16, 9, tzinfo=UTC)
PERIOD: dict[str, str] = {"from": "2026-11-02", "to": "2026-11-15"}
_pipelines = itertools.count(1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


class Script:
    def __init__(self, client: AsyncClient, who: Account) -> None:
        self.client, self.who = client, who

    async def call(self, when: datetime, method: str, url: str, **kwargs: Any) -> Any:
        with clock_at(when):
            response = await self.client.request(method, url, headers=self.who.headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def deploy(self, when: datetime, commit: str, **fields: Any) -> str:
        """Report a deployment as a CI job does, at `when` (started and finished then, unless
        its state says otherwise)."""
        body = {
            "environment": "production",
            "state": "success",
            "ref": "main",
            "sha": commit,
            "pipeline_id": f"run-{next(_pipelines)}",
            "sequence": 1,
            **fields,
        }
        made = await self.call(when, "POST", "/api/v1/projects/API/deployments", json=body)
        return str(made["id"])

    async def succeed(self, when: datetime, deployment_id: str) -> None:
        await self.call(
            when, "PATCH", f"/api/v1/deployments/{deployment_id}", json={"state": "success"}
        )

    async def dora(self, when: datetime = NOW, /, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.call(when, "GET", DORA, params=params)
        return body


async def history(
    app: FastAPI, db: Database, client: AsyncClient, ada: Account
) -> tuple[Script, dict[str, str], dict[str, Any]]:
    """Production deployments from 1 to 14 November 2026 (UTC). Commits c1…c11 pushed to main,
    c4b to another branch (committed after the deployment that lists it: clock skew), c7 to
    the hotfix branch; cX never seen. Returns the script, the deployments' ids and the answer
    given on 6 November at 16:15."""
    s = Script(client, ada)
    repository = await link_repository(app, db, ada)
    c: dict[int | str, str] = {n: sha(n) for n in range(1, 12)}
    c["4b"], c["5b"], c["x"] = sha(104), sha(105), sha(999)
    main: list[tuple[int | str, datetime]] = [
        (1, at(1, 10)), (2, at(2, 8)), (3, at(2, 10)), (4, at(3, 9)), (5, at(4, 12)),
        ("5b", at(4, 17)), (6, at(6, 9)), (8, at(9, 8)), (9, at(10, 10)), (10, at(13, 11)),
        (11, at(14, 8)),
    ]  # fmt: skip
    await push(db, ada, repository, [(c[n], when, f"commit {n}") for n, when in main])
    await push(db, ada, repository, [(c["4b"], at(3, 13), "skewed")], branch="skew")
    await push(db, ada, repository, [(c[7], at(6, 15), "hotfix")], branch="hotfix")

    d: dict[str, str] = {}
    d["D0"] = await s.deploy(at(1, 12), c[1])  # before the period
    d["D1"] = await s.deploy(at(2, 12), c[3])  # ships c2 (4 h) and c3 (2 h)
    d["D2"] = await s.deploy(at(3, 12), c[4], commits=[c[4], c["4b"]])  # c4 3 h; c4b -1 h
    d["D3"] = await s.deploy(at(4, 14), c[5])  # c5 2 h
    incident = await s.call(
        at(4, 15),
        "POST",
        "/api/v1/projects/API/incidents",
        json={"title": "Checkout down", "severity": "sev2", "caused_by_deployment_id": d["D3"]},
    )
    d["F2"] = await s.deploy(at(4, 17, 30), c["5b"])  # c5b 0.5 h; the incident's fix
    await s.call(
        at(4, 18),
        "PATCH",
        f"/api/v1/incidents/{incident['id']}",
        json={"state": "resolved", "fixed_by_deployment_id": d["F2"]},
    )
    d["D4"] = await s.deploy(at(6, 12), c[6])  # c6 3 h
    d["H1"] = await s.deploy(
        at(6, 16),
        c[7],
        state="in_progress",
        ref="hotfix",
        is_hotfix=True,
        fixes_deployment_id=d["D4"],
    )
    given = await s.dora(at(6, 16, 15), **{"from": "2026-11-02"})
    await s.succeed(at(6, 16, 30), d["H1"])  # c7 1.5 h; D4 failed 16:00, restored 16:30
    await s.deploy(at(7, 12), c[6], environment="staging")  # another environment
    d["D5"] = await s.deploy(at(9, 12), c[8])  # c8, rolled back below: not counted
    d["R1"] = await s.deploy(
        at(9, 14), c[6], state="in_progress", is_rollback=True, fixes_deployment_id=d["D5"]
    )
    await s.succeed(at(9, 14, 15), d["R1"])  # ships nothing new; D5 failed 14:00, back 14:15
    d["D6"] = await s.deploy(at(10, 12), c[9])  # c8 again (28 h) and c9 (2 h)
    await s.deploy(at(11, 12), c[9], state="failure")  # never went live: counts nowhere
    d["D7"] = await s.deploy(at(12, 12), c["x"])  # a commit Takt never saw: no time
    d["D8"] = await s.deploy(at(13, 12), c[10])  # after an unknown one: c10 alone, 1 h
    d["D9"] = await s.deploy(at(14, 9), c[11])  # c11 1 h
    await s.call(
        at(14, 10),
        "POST",
        "/api/v1/projects/API/incidents",
        json={"title": "Slow", "severity": "sev3", "caused_by_deployment_id": d["D9"]},
    )  # never resolved
    await s.deploy(at(14, 12), c[11], state="in_progress")  # still running: not counted
    return s, d, given


async def test_dora_of_a_scripted_history_matches_the_hand_computed_numbers(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, _, _ = await history(app, db, client, ada)
    dora = await s.dora(**PERIOD)
    assert dora["band_set"] == "DORA 2024"
    assert dora["environment"]["name"] == "production"
    assert (dora["from"], dora["to"], dora["as_of"]) == (
        "2026-11-02",
        "2026-11-15",
        "2026-11-16T09:00:00Z",
    )

    # Succeeded in the period: D1, D2, D3, F2, D4, H1, D5 (rolled back since), R1, D6, D7, D8,
    # D9: 12 in 14 days. Gaps (h): 24, 26, 3.5, 42.5, 4.5, 67.5, 2.25, 21.75, 48, 24, 21; the
    # 6th of the 11 in order is 24.
    assert dora["deployment_frequency"] == {
        "successful": 12,
        "days": 14,
        "per_day": 0.8571,
        "per_week": 6.0,
        "intervals": 11,
        "median_hours_between": 24.0,
        "band": "high",
    }
    # Commits of those (D5's left out: rolled back, D6 ships c8 again): c2 4, c3 2, c4 3, c4b
    # (-1: excluded), c5 2, c5b 0.5, c6 3, c7 1.5, c8 28, c9 2, cX (no time), c10 1, c11 1.
    assert dora["change_lead_time"] == {
        "commits": 13,
        "commits_with_time": 12,
        "counted": 11,
        "excluded_non_positive": 1,
        "deployments_with_unknown_commits": 2,  # D7 (its commit) and D8 (the previous one)
        "median_hours": 2.0,
        "band": "elite",
    }
    # Needed remediation: D3 (incident), D4 (hotfix), D5 (rollback), D9 (incident): 4 of 12.
    assert dora["change_failure_rate"] == {
        "deployments": 12,
        "failed": 4,
        "rate": 0.3333,
        "band": "low",
    }
    # Restored: D3 15:00 -> 18:00 (3 h), D4 16:00 -> 16:30, D5 14:00 -> 14:15; D9 still open.
    assert dora["failed_deployment_recovery_time"] == {
        "failed": 4,
        "restored": 3,
        "unrestored": 1,
        "median_hours": 0.5,
        "band": "elite",
    }
    # Rework: H1 (a hotfix fixing D4), R1 (a rollback of D5), F2 (the incident's fix).
    assert dora["deployment_rework_rate"] == {
        "deployments": 12,
        "rework": 3,
        "hotfixes": 1,
        "rollbacks": 1,
        "fixing": 3,
        "rate": 0.25,
        "band": None,
    }
    assert dora["series"] is None


async def test_a_weekly_series_splits_the_same_numbers(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, _, _ = await history(app, db, client, ada)
    dora = await s.dora(granularity="week", **PERIOD)
    first, second = dora["series"]
    assert (first["from"], first["to"], second["from"], second["to"]) == (
        "2026-11-02", "2026-11-08", "2026-11-09", "2026-11-15",
    )  # fmt: skip
    # Week 1: D1, D2, D3, F2, D4, H1; gaps 24, 26, 3.5, 42.5, 4.5 (3rd of 5: 24).
    assert first["deployment_frequency"]["successful"] == 6
    assert first["deployment_frequency"]["median_hours_between"] == 24.0
    assert first["change_failure_rate"] == {
        "deployments": 6,
        "failed": 2,
        "rate": 0.3333,
        "band": "low",
    }
    assert first["failed_deployment_recovery_time"]["median_hours"] == 0.5  # of 3 and 0.5
    assert first["change_lead_time"]["median_hours"] == 2.0  # 0.5 1.5 2 2 3 3 4
    # Week 2: D5, R1, D6, D7, D8, D9; gaps 67.5 (from H1), 2.25, 21.75, 48, 24, 21.
    assert second["deployment_frequency"]["successful"] == 6
    assert second["deployment_frequency"]["median_hours_between"] == 21.75
    assert second["change_failure_rate"]["failed"] == 2
    assert second["failed_deployment_recovery_time"] == {
        "failed": 2, "restored": 1, "unrestored": 1, "median_hours": 0.25, "band": "elite",
    }  # fmt: skip
    assert second["change_lead_time"]["median_hours"] == 1.0  # 1 1 2 28
    assert second["deployment_rework_rate"]["rework"] == 1  # R1
    month = await s.dora(granularity="month", **PERIOD)
    assert len(month["series"]) == 1
    only = {k: v for k, v in month["series"][0].items() if k not in ("from", "to")}
    assert only == {k: v for k, v in dora.items() if k in only}


async def test_as_of_gives_the_answer_given_on_that_day(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, _, given = await history(app, db, client, ada)
    # On 6 November at 16:15: D1, D2, D3, F2, D4 had gone live; D3 had failed and was back; D4
    # had failed (the hotfix started at 16:00) and was not back yet; H1 had not succeeded.
    assert given["deployment_frequency"]["successful"] == 5
    assert given["deployment_frequency"]["per_day"] == 1.0
    assert given["change_failure_rate"] == {
        "deployments": 5,
        "failed": 2,
        "rate": 0.4,
        "band": "low",
    }
    assert given["failed_deployment_recovery_time"] == {
        "failed": 2, "restored": 1, "unrestored": 1, "median_hours": 3.0, "band": "high",
    }  # fmt: skip
    assert given["deployment_rework_rate"]["rework"] == 1  # F2, the incident's fix
    assert given["change_lead_time"]["median_hours"] == 2.0  # 0.5 2 2 3 3 4
    again = await s.dora(as_of="2026-11-06T16:15:00Z", **PERIOD)
    assert again == given
    by_day = await s.dora(as_of="2026-11-06", **{"from": "2026-11-02"})
    assert by_day["as_of"] == "2026-11-06T23:59:59.999999Z"
    assert by_day["deployment_frequency"]["successful"] == 6  # H1 too


async def test_environments_defaults_bounds_and_visibility(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    vic = people["vic"].headers
    with clock_at(NOW):
        empty = await client.get(DORA, headers=vic)
        assert empty.status_code == 200, empty.text
        body = empty.json()
        assert (body["from"], body["to"]) == ("2026-08-19", "2026-11-16")  # 90 days to today
        assert body["deployment_frequency"]["band"] == "low"
        assert body["change_failure_rate"] == {
            "deployments": 0,
            "failed": 0,
            "rate": None,
            "band": None,
        }
        assert body["change_lead_time"]["band"] is None
        staging = await client.get(DORA, params={"environment": "Staging"}, headers=vic)
        assert staging.json()["environment"]["name"] == "staging"
        for params in (
            {"environment": "moon"},
            {"environment": "prod\x00"},
            {"from": "2026-11-10", "to": "2026-11-09"},
            {"from": "2024-01-01"},
            {"as_of": "2026-11-01T10:00:00"},  # no offset
            {"as_of": "2026-13-01"},
            {"granularity": "day"},
        ):
            bad = await client.get(DORA, params=params, headers=vic)
            assert bad.status_code == 422, (params, bad.text)
        hidden = await client.get(DORA, headers=people["sam"].headers)
        assert hidden.status_code == 404


async def test_the_median_found_by_walking_the_index_is_the_sorted_one(
    app: FastAPI, db: Database, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over many commits (20,000 and more) the period's median lead time is read from the
    environment's lead-time index instead of sorted: the same commits, the same nearest rank,
    rolled back deployments left out alike (here from 1 commit on; PostgreSQL walks, SQLite
    always ranks the values)."""
    ada = (await team(app, db))["ada"]
    s, _, _ = await history(app, db, client, ada)
    asked = [
        dict(PERIOD),
        {**PERIOD, "granularity": "week"},
        {"from": "2026-11-09", "to": "2026-11-15"},
        {**PERIOD, "as_of": "2026-11-06T16:15:00Z"},
        {**PERIOD, "as_of": "2026-11-10T12:00:00Z", "granularity": "week"},
    ]
    sorted_answers = [await s.dora(**params) for params in asked]
    monkeypatch.setattr(metrics_repository, "WALK_FROM", 1)
    walked = [await s.dora(**params) for params in asked]
    assert walked == sorted_answers
    assert sorted_answers[0]["change_lead_time"]["median_hours"] is not None


async def test_a_deployment_live_at_the_same_instant_as_a_rolled_back_one_still_counts(
    app: FastAPI, db: Database, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rolled-back deployments' commits are first matched by their go-live time, then by their
    deployment: a deployment that went live at the very same instant as one rolled back keeps
    its commits, in the period's figures, the weekly series and the walked median alike."""
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    repository = await link_repository(app, db, ada)
    first, second = sha(1), sha(2)
    await push(db, ada, repository, [(first, at(2, 8), "one"), (second, at(2, 9), "two")])
    await s.deploy(at(2, 12), second, commits=[second])  # c2: 3 h
    undone = await s.deploy(at(2, 12), first, commits=[first])  # c1: 4 h, rolled back below
    await s.call(at(2, 13), "PATCH", f"/api/v1/deployments/{undone}", json={"state": "rolled_back"})
    before = await s.dora(at(2, 12, 30), **PERIOD)
    assert before["change_lead_time"]["commits"] == 2
    assert before["change_lead_time"]["median_hours"] == 3.0
    for walk_from in (metrics_repository.WALK_FROM, 1):
        monkeypatch.setattr(metrics_repository, "WALK_FROM", walk_from)
        for params in (PERIOD, {**PERIOD, "granularity": "week"}):
            lead = (await s.dora(**params))["change_lead_time"]
            assert (lead["commits"], lead["counted"], lead["median_hours"]) == (1, 1, 3.0)
    weekly = await s.dora(**PERIOD, granularity="week")
    assert [p["change_lead_time"]["commits"] for p in weekly["series"]] == [1, 0]


async def test_as_of_before_a_later_rollback_still_counts_the_rolled_back_commits(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    """A deployment rolled back days after an incident it caused counts as rolled back from
    the rollback, not from the incident: the answer given before the rollback stays."""
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    repository = await link_repository(app, db, ada)
    await push(db, ada, repository, [(sha(2), at(2, 8), "two")])
    d1 = await s.deploy(at(2, 12), sha(2), commits=[sha(2)])  # c2: 4 h
    incident = await s.call(
        at(3, 10),
        "POST",
        "/api/v1/projects/API/incidents",
        json={"title": "Errors", "severity": "sev2", "caused_by_deployment_id": d1},
    )
    await s.call(
        at(3, 11), "PATCH", f"/api/v1/incidents/{incident['id']}", json={"state": "resolved"}
    )
    given = await s.dora(at(4, 12), **PERIOD)
    lead = given["change_lead_time"]
    assert (lead["commits"], lead["median_hours"]) == (1, 4.0)
    await s.call(at(6, 9), "PATCH", f"/api/v1/deployments/{d1}", json={"state": "rolled_back"})
    assert await s.dora(as_of="2026-11-04T12:00:00Z", **PERIOD) == given
    assert (await s.dora(**PERIOD))["change_lead_time"]["commits"] == 0


@pytest.mark.parametrize("hours", [0, 2.5, 3, 3.5, 1000])
async def test_the_median_walked_from_any_pivot_is_the_nearest_rank(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    hours: float,
) -> None:
    """The weekly answer walks to the period's median from a guessed lead time: from below
    every value, between two, on one, above every value, it lands on the nearest rank
    (PostgreSQL; SQLite always ranks the values). Lead times 1 to 5 h: the median is 3 h."""
    ada = (await team(app, db))["ada"]
    s = Script(client, ada)
    repository = await link_repository(app, db, ada)
    commits = [(sha(n), at(2, 6 + n), f"commit {n}") for n in range(1, 6)]
    await push(db, ada, repository, commits)
    await s.deploy(at(2, 12), sha(5), commits=[c for c, _, _ in commits])

    async def guessed(*_: Any) -> float:
        return hours * 3600

    monkeypatch.setattr(metrics_repository, "WALK_FROM", 1)
    monkeypatch.setattr(metrics_repository, "_likely_median", guessed)
    lead = (await s.dora(**PERIOD, granularity="week"))["change_lead_time"]
    assert (lead["counted"], lead["median_hours"]) == (5, 3.0)
