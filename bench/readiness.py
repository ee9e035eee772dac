"""Measure readiness (issue 17, Speed): `python -m bench.readiness`.

Goal: readiness for a 50-item release <= 50 ms, on PostgreSQL.

The data, bulk-inserted into project REL of a fresh database: 20,000 items, one linked
repository with 100,000 commits (half of them naming an item), 20,000 pull requests (each
naming an item), 10,000 deployments over development, staging and production (each shipping 10
commits and 5 items), 1,000 open blockers and 300 incidents. The release: 50 done items, each
with a commit naming it and a pull request merged with an approval, all shipped to staging by a
successful deployment of the release commit; one of them has an open blocker and production has
an open sev2 incident, so the answer carries failing checks with their details.

Measured: `GET /projects/REL/readiness?environment=production` by `ref=<release commit>` (its
items found through the staging deployment) and by `items=REL-1,…,REL-50`, one request after the
other on one keep-alive connection to `takt serve --no-worker`, after a warm-up. The machine's
load average is recorded before and after. `--record` writes bench/results/<date>-readiness.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text

from bench import report
from bench.integrations import ApiServer, CpuWindow, fresh_postgres, per_unit
from bench.load import percentile
from takt.auth import service as auth_service
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.blockers.models import Blocker
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database
from takt.core.migrations import upgrade
from takt.core.models import new_id
from takt.delivery.models import Commit, CommitItem, PullRequest, PullRequestItem, Repository
from takt.deployments.models import Deployment, DeploymentCommit, DeploymentItem, Environment
from takt.incidents.models import Incident
from takt.items.models import Item
from takt.main import build_security
from takt.projects import service as projects
from takt.projects.schemas import ProjectCreate
from takt.wiring import connect
from takt.workflow.models import Status

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_readiness"
GOAL_P99_MS = 50
CLIENT = ClientContext(address="bench")
RELEASE = 50
BATCH = 5000


def uptime() -> str:
    found = subprocess.run(["uptime"], capture_output=True, text=True, check=False)  # noqa: S607
    return found.stdout.strip()


def sha(text_: str) -> str:
    return hashlib.sha1(text_.encode()).hexdigest()  # noqa: S324 - a made-up commit id


@dataclass
class Sizes:
    items: int = 20_000
    commits: int = 100_000
    pull_requests: int = 20_000
    deployments: int = 10_000
    blockers: int = 1_000
    incidents: int = 300


@dataclass
class Setup:
    url: str
    secret_key: str
    token: str
    release_sha: str


async def _bulk(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(model), rows[start : start + BATCH])


async def set_up(url: str, secret_key: str, sizes: Sizes, say: Any) -> Setup:
    await fresh_postgres(url)
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, secret_key=secret_key, _env_file=None)
    db = Database.from_settings(settings)
    security = build_security(settings, secret_key, db)
    connect()  # a project's default statuses and environments
    rng = random.Random(17)  # noqa: S311 - bench data
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    try:
        async with db.transaction() as session:
            user = await auth_service.create_admin(
                session,
                security,
                RegisterRequest(
                    username="bench", email="bench@example.com", password="bench-password-1"
                ),
            )
            access = await projects.create_project(
                session, Principal.of(user), ProjectCreate(key="REL", name="Release"), client=CLIENT
            )
            project_id = access.project.id
        async with db.transaction() as session:
            statuses = dict(
                (
                    await session.execute(
                        select(Status.category, Status.id).where(Status.project_id == project_id)
                    )
                ).all()
            )
            environments = dict(
                (
                    await session.execute(
                        select(Environment.name, Environment.id).where(
                            Environment.project_id == project_id
                        )
                    )
                ).all()
            )
            total = RELEASE + sizes.items
            item_ids = [new_id() for _ in range(total)]
            await _bulk(
                session,
                Item,
                [
                    {
                        "id": item_ids[n],
                        "project_id": project_id,
                        "number": n + 1,
                        "key": f"REL-{n + 1}",
                        "type": "task",
                        "title": f"Item {n + 1}",
                        "description": "",
                        "status_id": statuses[
                            "done" if n < RELEASE or rng.random() < 0.8 else "in_progress"
                        ],
                        "priority": 0,
                        "rank": f"a{n:08d}",
                        "blocked": False,
                        "dor_checked": [],
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for n in range(total)
                ],
            )
            await session.execute(
                text("UPDATE projects SET item_seq = :n WHERE id = :id"),
                {"n": total, "id": project_id},
            )
            repository_id = new_id()
            await session.execute(
                insert(Repository).values(
                    id=repository_id,
                    project_id=project_id,
                    provider="github",
                    full_name="acme/release",
                    full_name_key="acme/release",
                    default_branch="main",
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            # Commits: the release's 50 (one per item), then the background.
            commit_rows: list[dict[str, Any]] = []
            commit_links: list[dict[str, Any]] = []
            shas = [sha(f"c{n}") for n in range(RELEASE + sizes.commits)]
            for n, commit_sha in enumerate(shas):
                commit_id = new_id()
                background = n >= RELEASE
                commit_rows.append(
                    {
                        "id": commit_id,
                        "repository_id": repository_id,
                        "project_id": project_id,
                        "sha": commit_sha,
                        "message": f"Change {n}",
                        "committed_at": now - timedelta(minutes=n),
                        "branch": f"feature/{n % 5000}" if background else f"feature/rel-{n + 1}",
                        "pushed_at": now - timedelta(minutes=n),
                    }
                )
                if not background or rng.random() < 0.5:
                    item = item_ids[n] if not background else rng.choice(item_ids[RELEASE:])
                    commit_links.append({"commit_id": commit_id, "item_id": item, "linked_at": now})
            await _bulk(session, Commit, commit_rows)
            await _bulk(session, CommitItem, commit_links)
            # Pull requests: the release's 50 merged with an approval, then the background.
            pr_rows: list[dict[str, Any]] = []
            pr_links: list[dict[str, Any]] = []
            for n in range(RELEASE + sizes.pull_requests):
                pr_id = new_id()
                background = n >= RELEASE
                opened = now - timedelta(hours=rng.uniform(2, 24 * 700))
                merged = opened + timedelta(hours=1)
                pr_rows.append(
                    {
                        "id": pr_id,
                        "repository_id": repository_id,
                        "project_id": project_id,
                        "number": n + 1,
                        "title": f"Change {n}",
                        "body": "",
                        "state": "merged" if not background or rng.random() < 0.9 else "open",
                        "draft": False,
                        "head_sha": shas[n] if not background else rng.choice(shas),
                        "source_branch": f"feature/rel-{n + 1}" if not background else f"f/{n}",
                        "opened_at": opened,
                        "ready_at": opened,
                        "first_review_at": merged,
                        "merged_at": merged,
                        "review_rounds": 0,
                        "approved": True,
                        "review_requests": [],
                        "author_is_bot": False,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
                item = item_ids[n] if not background else rng.choice(item_ids[RELEASE:])
                pr_links.append({"pull_request_id": pr_id, "item_id": item, "linked_at": now})
            await _bulk(session, PullRequest, pr_rows)
            await _bulk(session, PullRequestItem, pr_links)
            # Deployments: the background over two years, then the release to staging.
            names = ["development", "staging", "production"]
            deployment_rows: list[dict[str, Any]] = []
            shipped_commits: list[dict[str, Any]] = []
            shipped_items: list[dict[str, Any]] = []
            for n in range(sizes.deployments):
                deployment_id = new_id()
                at = now - timedelta(hours=rng.uniform(1, 24 * 730))
                deployment_rows.append(
                    {
                        "id": deployment_id,
                        "project_id": project_id,
                        "environment_id": environments[names[n % 3]],
                        "repository_id": repository_id,
                        "source": "api",
                        "sha": rng.choice(shas[RELEASE:]),
                        "description": "",
                        "state": "success" if rng.random() < 0.9 else "failure",
                        "started_at": at,
                        "finished_at": at,
                        "succeeded_at": at,
                        "is_hotfix": False,
                        "is_rollback": False,
                        "shipped_complete": True,
                        "shipped_commit_count": 10,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
                for commit_sha in rng.sample(shas[RELEASE:], 10):
                    shipped_commits.append({"deployment_id": deployment_id, "sha": commit_sha})
                for item in rng.sample(item_ids[RELEASE:], 5):
                    shipped_items.append({"deployment_id": deployment_id, "item_id": item})
            release_sha = sha("release")
            release_id = new_id()
            deployment_rows.append(
                {
                    **deployment_rows[0],
                    "id": release_id,
                    "environment_id": environments["staging"],
                    "sha": release_sha,
                    "state": "success",
                    "started_at": now - timedelta(minutes=30),
                    "finished_at": now - timedelta(minutes=25),
                    "succeeded_at": now - timedelta(minutes=25),
                    "shipped_commit_count": RELEASE,
                }
            )
            shipped_commits += [{"deployment_id": release_id, "sha": s} for s in shas[:RELEASE]]
            shipped_items += [
                {"deployment_id": release_id, "item_id": i} for i in item_ids[:RELEASE]
            ]
            await _bulk(session, Deployment, deployment_rows)
            await _bulk(session, DeploymentCommit, shipped_commits)
            await _bulk(session, DeploymentItem, shipped_items)
            blockers = [
                {
                    "id": new_id(),
                    "project_id": project_id,
                    "item_id": item,
                    "reason": "Waiting",
                    "waiting_on_kind": "external",
                    "waiting_on_name": "Vendor",
                    "status": "open",
                    "raised_at": now - timedelta(days=rng.uniform(0, 30)),
                    "resolution": "",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for item in [*rng.sample(item_ids[RELEASE:], sizes.blockers), item_ids[6]]
            ]
            await _bulk(session, Blocker, blockers)
            incidents = [
                {
                    "id": new_id(),
                    "project_id": project_id,
                    "number": n + 1,
                    "title": f"Incident {n + 1}",
                    "description": "",
                    "severity": f"sev{1 + n % 4}",
                    "state": "open" if n >= sizes.incidents - 3 else "resolved",
                    "environment_id": environments[names[n % 3]],
                    "opened_at": now - timedelta(days=rng.uniform(0, 700)),
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for n in range(sizes.incidents)
            ]
            incidents[-1]["environment_id"] = environments["production"]
            incidents[-1]["severity"] = "sev2"
            await _bulk(session, Incident, incidents)
        async with db.write_engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        say(f"  data loaded in {time.monotonic() - started:.1f} s")
        token, _ = security.access_tokens.issue(user.id)
        return Setup(url, secret_key, token, release_sha)
    finally:
        await security.counters.close()
        await db.dispose()


async def reuse(url: str, secret_key: str) -> Setup:
    """The database an earlier run loaded (`--reuse`): a token for its `bench` user."""
    settings = Settings(database_url=url, secret_key=secret_key, _env_file=None)
    db = Database.from_settings(settings)
    security = build_security(settings, secret_key, db)
    try:
        async with db.transaction(write=False) as session:
            user_id = await session.scalar(select(User.id).where(User.username == "bench"))
        if user_id is None:
            raise SystemExit(f"{url} has no bench data: run without --reuse first")
        token, _ = security.access_tokens.issue(user_id)
        return Setup(url, secret_key, token, sha("release"))
    finally:
        await security.counters.close()
        await db.dispose()


async def measure(setup: Setup, workdir: Path, *, requests: int, say: Any) -> dict[str, Any]:
    server = ApiServer(setup.url, workdir / "api", worker=False, secret_key=setup.secret_key)
    await server.start()
    # `baseline`: GET /projects/REL (one project read, through the same auth and middleware),
    # for a figure of this machine's load at the time: compare ratios, not milliseconds.
    questions: dict[str, dict[str, str] | None] = {
        "baseline": None,
        "ref": {"environment": "production", "ref": setup.release_sha},
        "items": {
            "environment": "production",
            "items": ",".join(f"REL-{n}" for n in range(1, RELEASE + 1)),
        },
    }
    results: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {setup.token}"},
            timeout=30,
        ) as client:
            for name, params in questions.items():
                path = "/api/v1/projects/REL" + ("/readiness" if params is not None else "")
                answer = await client.get(path, params=params)
                assert answer.status_code == 200, answer.text
                body = answer.json()
                if params is not None:
                    assert len(body["items"]) == RELEASE, body["items"]
                for _ in range(20):  # warm up
                    await client.get(path, params=params)
                load_before = uptime()
                latencies = []
                cpu = CpuWindow({"takt serve": [server.pid]}, setup.url)
                await cpu.start()
                for _ in range(requests):
                    sent = time.perf_counter()
                    response = await client.get(path, params=params)
                    latencies.append(time.perf_counter() - sent)
                    assert response.status_code == 200
                used = await cpu.stop()
                latencies.sort()
                results[name] = {
                    "requests": requests,
                    "p50_ms": round(percentile(latencies, 50) * 1000, 2),
                    "p99_ms": round(percentile(latencies, 99) * 1000, 2),
                    "max_ms": round(latencies[-1] * 1000, 2),
                    # CPU per request of the server and of PostgreSQL: what a request costs
                    # whatever else the machine runs (a shared machine's load stretches the
                    # wall-clock figures above).
                    "cpu_ms_per_request": per_unit(used, requests),
                    "ready": body.get("ready"),
                    "failing": [c["check"] for c in body.get("checks", []) if not c["passed"]],
                    "load_before": load_before,
                    "load_after": uptime(),
                }
                say(f"  {name}: {results[name]}")
    finally:
        await server.stop()
    results["goal_p99_ms"] = GOAL_P99_MS
    results["met"] = all(results[q]["p99_ms"] <= GOAL_P99_MS for q in ("ref", "items"))
    return results


async def run(
    postgres_url: str, requests: int, sizes: Sizes, *, again: bool = False, say: Any = print
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="takt-bench-readiness-"))
    say(f"bench.readiness on {postgres_url} ({uptime()})")
    secret_key = secrets.token_urlsafe(48)
    if again:
        setup = await reuse(postgres_url, secret_key)
    else:
        setup = await set_up(postgres_url, secret_key, sizes, say)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "sizes": sizes.__dict__,
        "readiness": await measure(setup, workdir, requests=requests, say=say),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.readiness", description=__doc__)
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="(re)created: it is DROPPED")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data an earlier run loaded"
    )
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    document = asyncio.run(run(args.postgres_url, args.requests, Sizes(), again=args.reuse))
    out_text = json.dumps(document, indent=2, default=str)
    print(out_text)
    if args.record:
        out = Path(__file__).with_name("results") / f"{document['date'][:10]}-readiness.json"
        out.write_text(out_text + "\n")
        print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
