"""Properties of the DORA metrics over random delivery histories driven through the API
(deployments that succeed or fail, hotfixes, rollbacks, incidents opened and resolved): the
rates stay between 0 and 1 with counts that fit inside each other, and recomputing with `as_of`
gives exactly the answer given at that moment. Also: the local days SQL works out match
Python's zone rules, across daylight-saving changes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import literal, select

from takt.core.db import Database
from takt.core.models import UTCDateTime
from takt.core.time import clock_at, local_date
from takt.metrics.periods import LocalDays, as_date, bucket_start
from tests.support import Account, make_project, make_user

START = datetime(2026, 3, 2, 6, tzinfo=UTC)  # spans Europe's change to summer time
PROPERTY = hypothesis_settings(
    max_examples=12,
    deadline=None,
    database=None,
    # The client and the owner are made once per test; every example makes a project of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_projects = itertools.count(1)

steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "deploy",
                "deploy",
                "deploy",
                "fail",
                "hotfix",
                "rollback",
                "slow_fix",
                "incident",
                "resolve",
                "reopen",
            ]
        ),
        st.integers(0, 1000),  # which earlier deployment or incident
        st.floats(0.05, 40),  # hours since the step before
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture
async def owner(app: FastAPI, db: Database) -> Account:
    return await make_user(app, db, "owner")


class History:
    """A delivery history made step by step through the API. `once`: each deployment needs
    remediation at most once (one incident or one fix) and incidents are never reopened, so
    its failure and restoration times never move once set (see `as_of` in docs/metrics.md)."""

    def __init__(self, client: AsyncClient, owner: Account, key: str, *, once: bool) -> None:
        self.client, self.owner, self.key, self.once = client, owner, key, once
        self.live: list[str] = []  # deployments that succeeded
        self.remediated: set[str] = set()
        self.fixers: list[str] = []  # hotfixes and rollbacks still running
        self.incidents: list[tuple[str, bool]] = []  # (id, open)
        self.pipelines = itertools.count(1)

    def target(self, pick: int) -> str | None:
        """An earlier deployment that went live (in `once` histories, one not remediated yet)."""
        choices = [d for d in self.live if not (self.once and d in self.remediated)]
        if not choices:
            return None
        chosen = choices[pick % len(choices)]
        self.remediated.add(chosen)
        return chosen

    async def call(self, when: datetime, method: str, url: str, **kwargs: Any) -> Any:
        with clock_at(when):
            response = await self.client.request(method, url, headers=self.owner.headers, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def deploy(self, when: datetime, **fields: Any) -> dict[str, Any]:
        body = {
            "environment": "production",
            "state": "success",
            "pipeline_id": f"p{next(self.pipelines)}",
            **fields,
        }
        made: dict[str, Any] = await self.call(
            when, "POST", f"/api/v1/projects/{self.key}/deployments", json=body
        )
        return made

    async def dora(self, when: datetime, **params: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call(
            when, "GET", f"/api/v1/projects/{self.key}/metrics/dora", params=params
        )
        return answer

    async def step(self, when: datetime, action: str, pick: int) -> None:
        if action == "deploy":
            self.live.append((await self.deploy(when, sha=f"{pick:040x}"))["id"])
        elif action == "fail":
            await self.deploy(when, state="failure")
        elif action in ("hotfix", "rollback", "slow_fix"):
            target = self.target(pick)
            if target is None:
                return
            flag = "is_rollback" if action == "rollback" else "is_hotfix"
            state = "in_progress" if action == "slow_fix" else "success"
            made = await self.deploy(when, state=state, fixes_deployment_id=target, **{flag: True})
            (self.fixers if state == "in_progress" else self.live).append(made["id"])
        elif action == "incident":
            target = self.target(pick)
            if target is None:
                return
            body = {"title": "Broken", "severity": "sev2", "caused_by_deployment_id": target}
            made = await self.call(
                when, "POST", f"/api/v1/projects/{self.key}/incidents", json=body
            )
            self.incidents.append((made["id"], True))
        elif action in ("resolve", "reopen") and self.incidents:
            if self.once and action == "reopen":
                return
            index = pick % len(self.incidents)
            incident_id, is_open = self.incidents[index]
            if is_open == (action == "resolve"):
                state = "resolved" if is_open else "open"
                await self.call(
                    when, "PATCH", f"/api/v1/incidents/{incident_id}", json={"state": state}
                )
                self.incidents[index] = (incident_id, not is_open)
        if self.fixers and pick % 3 == 0:  # a running fix finishes
            fixer = self.fixers.pop(0)
            await self.call(
                when, "PATCH", f"/api/v1/deployments/{fixer}", json={"state": "success"}
            )
            self.live.append(fixer)


def check_bounds(answer: dict[str, Any]) -> None:
    for figures in [answer, *(answer.get("series") or [])]:
        failure = figures["change_failure_rate"]
        assert 0 <= failure["failed"] <= failure["deployments"]
        assert failure["rate"] is None or 0 <= failure["rate"] <= 1
        rework = figures["deployment_rework_rate"]
        assert 0 <= rework["rework"] <= rework["deployments"]
        assert rework["rate"] is None or 0 <= rework["rate"] <= 1
        recovery = figures["failed_deployment_recovery_time"]
        assert recovery["restored"] + recovery["unrestored"] == failure["failed"]
        lead = figures["change_lead_time"]
        assert lead["counted"] <= lead["commits_with_time"] <= lead["commits"]


async def play(
    client: AsyncClient, db: Database, owner: Account, plan: list[Any], zone: str, *, once: bool
) -> tuple[History, list[tuple[datetime, dict[str, Any]]], datetime]:
    """The plan played on a project of its own; the answer given just after each step."""
    key = f"P{next(_projects)}"
    await make_project(db, owner, key)
    history = History(client, owner, key, once=once)
    await history.call(
        START, "PATCH", f"/api/v1/projects/{key}", json={"settings": {"time_zone": zone}}
    )
    given_then: list[tuple[datetime, dict[str, Any]]] = []
    when = START
    for action, pick, hours in plan:
        when += timedelta(hours=hours)
        await history.step(when, action, pick)
        asked = when + timedelta(minutes=1)
        given_then.append((asked, await history.dora(asked, **PARAMS)))
    return history, given_then, when


PARAMS = {"from": "2026-03-01", "granularity": "week"}
ZONES_OF_TEAMS = st.sampled_from(["UTC", "Europe/Berlin", "America/Sao_Paulo"])


@PROPERTY
@given(plan=steps, zone=ZONES_OF_TEAMS)
async def test_failure_and_rework_rates_stay_in_0_1_whatever_happens(
    app: FastAPI, db: Database, client: AsyncClient, owner: Account, plan: list[Any], zone: str
) -> None:
    _, given_then, _ = await play(client, db, owner, plan, zone, once=False)
    for _, answer in given_then:
        check_bounds(answer)


@PROPERTY
@given(plan=steps, zone=ZONES_OF_TEAMS)
async def test_as_of_gives_the_answer_given_at_that_moment(
    app: FastAPI, db: Database, client: AsyncClient, owner: Account, plan: list[Any], zone: str
) -> None:
    history, given_then, end = await play(client, db, owner, plan, zone, once=True)
    later = end + timedelta(days=3)
    for moment, answer in given_then:
        check_bounds(answer)
        again = await history.dora(later, as_of=moment.isoformat(), **PARAMS, to="2026-12-31")
        assert again == answer


TIMES = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2028, 1, 31), timezones=st.just(UTC)
)
ZONES = ["Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]


@hypothesis_settings(max_examples=30, deadline=None, database=None)
@given(moments=st.lists(TIMES, min_size=1, max_size=20), zone=st.sampled_from(ZONES))
async def test_local_days_in_sql_match_the_zone_rules(
    db: Database, moments: list[datetime], zone: str
) -> None:
    lo, hi = datetime(2025, 12, 1, tzinfo=UTC), datetime(2028, 2, 1, tzinfo=UTC)
    async with db.transaction(write=False) as session:
        days = LocalDays(zone, session.get_bind().dialect.name, lo, hi)
        for moment in moments:
            stamp = literal(moment, UTCDateTime())
            row = (
                await session.execute(
                    select(days.day(stamp), days.bucket(stamp, "week"), days.bucket(stamp, "month"))
                )
            ).one()
            local = local_date(moment, zone)
            assert [as_date(v) for v in row] == [
                local,
                bucket_start(local, "week"),
                bucket_start(local, "month"),
            ], (moment, zone)
