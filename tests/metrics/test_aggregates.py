"""PostgreSQL reduces review metrics in SQL (`percentile_disc`, counts by size); every other
database reduces the rows in Python. Both give the same answer on the same pull requests,
including ties, sizes on the limits, missing sizes, reviews before ready and merges outside the
period (on SQLite this compares the row path with itself; on PostgreSQL, the two paths)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, select

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.models import new_id
from takt.core.time import end_of_day
from takt.delivery.models import PullRequest, Repository
from takt.metrics import service
from takt.projects import service as projects
from takt.projects.models import Project
from tests.support import make_project, make_user

END = datetime(2026, 11, 27, tzinfo=UTC)


async def test_sql_and_python_reductions_agree(app: FastAPI, db: Database) -> None:
    owner = await make_user(app, db, "ada")
    await make_project(db, owner, "API")
    rng = random.Random(7)
    async with db.transaction() as session:
        project_id = await session.scalar(select(Project.id).where(Project.key == "API"))
        assert project_id is not None
        repos = [new_id(), new_id(), new_id()]
        for n, repo_id in enumerate(repos):
            await session.execute(
                insert(Repository).values(
                    id=repo_id,
                    project_id=project_id,
                    provider="github",
                    full_name=f"acme/r{n}",
                    full_name_key=f"acme/r{n}",
                    default_branch="main",
                    created_at=END,
                    updated_at=END,
                    version=1,
                )
            )
        rows: list[dict[str, Any]] = []
        for n in range(400):
            opened = END - timedelta(hours=rng.choice([rng.uniform(1, 900), 100.0, 200.0]))
            ready = opened + timedelta(hours=rng.choice([0, 0, 3]))
            first = opened + timedelta(hours=rng.choice([0.5, 1.0, 2.0, rng.uniform(0, 80)]))
            merged = first + timedelta(hours=rng.choice([1.0, 5.0, rng.uniform(0, 300)]))
            lines = rng.choice([None, 0, 10, 11, 100, 101, 400, 401, 1000, 1001, 5000])
            rows.append(
                {
                    "id": new_id(),
                    "repository_id": repos[n % 2],  # the third repository has none
                    "project_id": project_id,
                    "number": n + 1,
                    "title": "t",
                    "body": "",
                    "state": "merged" if merged < END else "open",
                    "draft": False,
                    "opened_at": opened,
                    "ready_at": ready,
                    "first_review_at": first if first < END else None,
                    "merged_at": merged if merged < END else None,
                    "review_rounds": rng.choice([0, 1, 2, 3]),
                    "approved": rng.random() > 0.2,
                    "additions": None if lines is None else lines - lines // 3,
                    "deletions": None if lines is None else lines // 3,
                    "review_requests": [],
                    "author_is_bot": False,
                    "created_at": END,
                    "updated_at": END,
                    "version": 1,
                }
            )
        await session.execute(insert(PullRequest), rows)
    async with db.transaction(write=False) as session:
        access = await projects.access(session, Principal.of(owner.user), "API")
        for first_day, last_day in (("2026-10-01", "2026-11-26"), ("2026-11-20", "2026-11-22")):
            start, end = service.day("from", first_day), service.day("to", last_day)
            answer = await service.review_metrics(session, access, start=start, end=end)
            assert start is not None
            assert end is not None
            zone = "UTC"
            since = end_of_day(start - timedelta(days=1), zone)
            until = end_of_day(end, zone)
            reference = await service._aggregates_of_rows(session, project_id, since, until)
            empty = service._Tally().aggregate()
            assert answer.overall == service.stats_of(reference[None])
            assert answer.overall.merged > 0
            for shown in answer.repositories:
                expected = service.stats_of(reference.get(shown.repository_id, empty))
                assert shown.model_dump(exclude={"repository_id", "repository", "provider"}) == (
                    expected.model_dump()
                )
