"""The queue as instance admins and Prometheus see it: `/api/v1/admin/jobs`, retrying a dead job,
and the queue's gauges in `/metrics`."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.config import Settings
from takt.core import jobs
from takt.core.audit import AuditEntry
from takt.core.db import Database
from takt.core.jobs import Job, JobContext
from takt.core.time import utcnow
from tests.support import make_pat, make_user
from tests.worker.helpers import add_jobs, all_jobs, eventually, kind, running, worker


async def _queue(db: Database) -> dict[str, str]:
    """Three ready `test.a` jobs (one due for a minute, one retrying, one scheduled later), one
    running `test.b` and one dead `test.b`; returns the dead one's and the retrying one's ids."""
    now = utcnow()
    await add_jobs(db, "test.b", 2, run_at=now - timedelta(seconds=5))
    async with db.transaction() as session:
        dead, _ = await jobs.claim(session, worker_id="w1", limit=2, lease=timedelta(1))
        await jobs.fail(session, dead, "w1", error="HTTP 503", retry_at=None)
    await add_jobs(db, "test.a")
    async with db.transaction() as session:
        [retrying] = await jobs.claim(
            session, worker_id="w1", limit=1, lease=timedelta(1), kinds=["test.a"]
        )
        await jobs.fail(
            session, retrying, "w1", error="timeout", retry_at=now + timedelta(minutes=30)
        )
    await add_jobs(db, "test.a", run_at=now - timedelta(minutes=1))
    await add_jobs(db, "test.a", run_at=now + timedelta(hours=1))
    return {"dead": dead.id, "retrying": retrying.id}


async def test_instance_admins_see_the_queue_and_its_figures(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ids = await _queue(db)
    admin = await make_user(app, db, "root", admin=True)
    response = await client.get("/api/v1/admin/jobs", headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    summary = body["summary"]
    assert {k: summary[k] for k in ("ready", "running", "dead", "retrying")} == {
        "ready": 3,
        "running": 1,
        "dead": 1,
        "retrying": 1,
    }
    assert summary["oldest_ready_age_seconds"] >= 60
    assert summary["by_kind"]["test.b"] == {
        "ready": 0,
        "running": 1,
        "dead": 1,
        "retrying": 0,
        "oldest_ready_age_seconds": 0,
    }
    assert len(body["data"]) == 5
    dead = next(j for j in body["data"] if j["id"] == ids["dead"])
    assert dead["state"] == "dead"
    assert dead["last_error"] == "HTTP 503"
    assert dead["payload"] in ({"n": 0}, {"n": 1})
    assert set(dead) == {
        "id",
        "kind",
        "state",
        "attempts",
        "max_attempts",
        "run_at",
        "locked_by",
        "locked_until",
        "last_error",
        "created_at",
        "updated_at",
        "payload",
    }


async def test_the_list_filters_by_state_and_kind_and_pages(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ids = await _queue(db)
    admin = await make_user(app, db, "root", admin=True)
    dead = await client.get("/api/v1/admin/jobs?state=dead", headers=admin.headers)
    assert [j["id"] for j in dead.json()["data"]] == [ids["dead"]]
    of_a = await client.get("/api/v1/admin/jobs?kind=test.a&state=ready", headers=admin.headers)
    assert [j["kind"] for j in of_a.json()["data"]] == ["test.a"] * 3
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/admin/jobs", params=params, headers=admin.headers)).json()
        seen += [j["id"] for j in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(j.id for j in await all_jobs(db))
    bad = await client.get("/api/v1/admin/jobs?state=lost", headers=admin.headers)
    assert bad.status_code == 422


async def test_retrying_a_dead_job_runs_it_again_and_is_audited(
    client: AsyncClient, app: FastAPI, db: Database, settings: Settings
) -> None:
    ids = await _queue(db)
    admin = await make_user(app, db, "root", admin=True)
    response = await client.post(f"/api/v1/admin/jobs/{ids['dead']}/retry", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["attempts"]) == ("ready", 0)
    assert response.json()["last_error"] is None
    async with db.transaction(write=False) as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "job.retried"))
    assert entry is not None
    assert (entry.actor_id, entry.target_id, entry.details) == (
        admin.id,
        ids["dead"],
        {"kind": "test.b"},
    )
    ran: list[str] = []

    async def record(_ctx: JobContext, job: Job) -> None:
        ran.append(job.id)

    async with running(worker(db, settings, kind("test.b", record))):

        async def retried() -> bool:
            return ids["dead"] in ran

        await eventually(retried)


async def test_retrying_a_job_that_is_not_dead_is_a_conflict_and_an_unknown_one_404(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ids = await _queue(db)
    admin = await make_user(app, db, "root", admin=True)
    ready = await client.post(f"/api/v1/admin/jobs/{ids['retrying']}/retry", headers=admin.headers)
    assert ready.status_code == 409
    assert ready.json()["code"] == "job-not-dead"
    missing = await client.post("/api/v1/admin/jobs/no-such-job/retry", headers=admin.headers)
    assert missing.status_code == 404
    assert [j.state for j in await all_jobs(db) if j.id == ids["dead"]] == ["dead"]


async def test_the_queue_is_for_instance_admins_with_an_unlimited_admin_token(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ids = await _queue(db)
    someone = await make_user(app, db, "someone")
    admin = await make_user(app, db, "root", admin=True)
    _, read_only = await make_pat(app, db, admin, ["read"])
    for headers in (someone.headers, {"Authorization": f"Bearer {read_only}"}):
        listed = await client.get("/api/v1/admin/jobs", headers=headers)
        assert listed.status_code == 403
        retried = await client.post(f"/api/v1/admin/jobs/{ids['dead']}/retry", headers=headers)
        assert retried.status_code == 403
    assert [j.state for j in await all_jobs(db) if j.id == ids["dead"]] == ["dead"]


async def test_metrics_show_the_queue_by_kind(client: AsyncClient, db: Database) -> None:
    await _queue(db)
    body = (await client.get("/metrics")).text
    assert 'takt_jobs_ready{kind="test.a"} 3.0' in body
    assert 'takt_jobs_running{kind="test.b"} 1.0' in body
    assert 'takt_jobs_dead{kind="test.b"} 1.0' in body
    assert 'takt_jobs_retrying{kind="test.a"} 1.0' in body
    # The running test.b job's attempt and the retrying test.a job's failed one.
    assert 'takt_jobs_attempts{kind="test.a"} 1.0' in body
    assert 'takt_jobs_attempts{kind="test.b"} 1.0' in body
    age = next(
        line
        for line in body.splitlines()
        if line.startswith('takt_jobs_oldest_ready_age_seconds{kind="test.a"}')
    )
    assert float(age.split()[-1]) >= 60


async def test_metrics_count_the_jobs_this_process_ran(
    db: Database, settings: Settings, client: AsyncClient, app: FastAPI
) -> None:
    async def fine(_ctx: JobContext, _job: Job) -> None:
        return None

    await add_jobs(db, "test.fine", 3)
    async with running(worker(db, settings, kind("test.fine", fine), metrics=app.state.metrics)):

        async def done() -> bool:
            return not await all_jobs(db)

        await eventually(done)
    body = (await client.get("/metrics")).text
    assert 'takt_worker_jobs_total{kind="test.fine",outcome="succeeded"} 3.0' in body
    assert 'takt_worker_job_duration_seconds_count{kind="test.fine"} 3.0' in body
