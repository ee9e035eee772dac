"""Measure the DORA and flow metrics (issue 17, Speed): `python -m bench.dora`.

The goal: `GET /projects/{key}/metrics/dora` and `…/metrics/flow` over two years of a busy
project (10,000 deployments, 100,000 commits, 50,000 items) each answer in p99 <= 100 ms on
PostgreSQL, aggregated in SQL.

**Data.** A fresh, migrated database (SQLite in a temporary file, or PostgreSQL in a database
this drops and recreates) holding one project made through the services (its default workflow
and environments), then bulk-inserted, spread over the two years up to now:

- `--deployments` production deployments (default 10,000), about 14 a day: most succeed; some
  cause an incident (failed, restored after a while, the next deployment named its fix), some
  are rolled back or hotfixed by the next one (flagged as such), some fail outright, a few
  shipped commits Takt couldn't establish;
- `--commits` shipped commits (default 100,000) spread over the successful deployments, each
  committed hours before (a few without a known time);
- `--items` work items (default 50,000) with their event log, as the items service writes it:
  `item.created`, then each status change as an `item.updated` with its category (to do, in
  progress, sometimes in review, done; some cancelled, some reopened and finished again, the
  latest still in progress), and other edits (titles, estimates) that change no category.
The shipped commits get their stored lead times (as deployments.service.store_lead_times
writes them), and the worker's `flow-snapshots` sweep writes the closed days' flow snapshots
before the server starts (it runs without its worker). `--reuse` measures the data an earlier
run left (brought to the current migrations) instead of loading it again.

**Measurement.** `takt serve --no-worker` on a free loopback port; one client on one
keep-alive connection asks each question one request after the other for `--seconds` (after a
few untimed ones): DORA over the default 90 days and over two years with a weekly series, flow
over the default 30 days, over 90 days with a filter, and over two years. Latency is the
request's round trip; p50, p99 and max are printed with the load average (`uptime`) before and
after and the CPU the server and the database spent per request, since a shared machine's other
work shows in every figure. `--json FILE` writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import make_url

from bench import report
from bench.integrations import ApiServer, CpuWindow, fresh_postgres, per_unit
from takt.auth import service as auth_service
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database, is_sqlite_url
from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.core.migrations import upgrade
from takt.core.models import new_id
from takt.deployments.models import Deployment, DeploymentCommit, Environment
from takt.incidents.models import Incident
from takt.items.models import Item
from takt.items.ranking import initial_ranks
from takt.main import build_security
from takt.metrics.snapshots import sweep_flow_snapshots
from takt.projects import service as projects
from takt.projects.models import Project
from takt.projects.schemas import ProjectCreate
from takt.wiring import connect
from takt.workflow.models import Status

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_dora"
PROJECT = "DORA"
USERNAME, PASSWORD = "dora-bench", "bench-password-2026"
GOAL_P99_MS = 100.0
DAYS = 730
BATCH = 2000


def say(line: str) -> None:
    print(line, flush=True)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def rank(ordered: list[float], percent: float) -> float:
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


@dataclass
class Sizes:
    deployments: int = 10_000
    commits: int = 100_000
    items: int = 50_000


@dataclass
class Seeded:
    """What the data holds, for the checks of the answers."""

    successful: int = 0
    failed: int = 0
    commits: int = 0
    commits_counted: int = 0  # of deployments not rolled back (change lead time counts those)
    finished_items: int = 0  # entries into done
    done_now: int = 0
    in_progress: int = 0
    extra: dict[str, float] = field(default_factory=dict)


# Data -----------------------------------------------------------------------------------------


async def store_lead_times(session: Any, dialect: str) -> None:
    """What deployments.service.store_lead_times writes when a deployment succeeds, for every
    bulk-inserted commit at once (the SQL of the migration that added the columns)."""
    if dialect == "postgresql":
        await session.execute(
            text(
                "UPDATE deployment_commits AS c SET environment_id = d.environment_id, "
                "deployed_at = d.succeeded_at, lead = CASE WHEN c.committed_at < d.succeeded_at "
                "THEN CAST(date_part('epoch', d.succeeded_at - c.committed_at) AS FLOAT) END "
                "FROM deployments AS d WHERE d.id = c.deployment_id"
            )
        )
        return
    await session.execute(
        text(
            "UPDATE deployment_commits SET "
            "environment_id = (SELECT d.environment_id FROM deployments d "
            "WHERE d.id = deployment_commits.deployment_id), "
            "deployed_at = (SELECT d.succeeded_at FROM deployments d "
            "WHERE d.id = deployment_commits.deployment_id)"
        )
    )
    await session.execute(
        text(
            "UPDATE deployment_commits SET lead = CASE WHEN committed_at < deployed_at "
            "THEN (julianday(deployed_at) - julianday(committed_at)) * 86400.0 END"
        )
    )


def deployment_rows(
    project_id: str, env_id: str, count: int, commits: int, now: datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], Seeded]:
    """(deployments, their shipped commits, incidents, what they hold), oldest first."""
    start = now - timedelta(days=DAYS - 2)  # all inside the two years the bench asks about
    step = (now - timedelta(hours=1) - start) / count
    kinds = rng.choices(
        ["plain", "incident", "rolled_back", "hotfixed", "failure"],
        weights=[80, 8, 4, 4, 4],
        k=count,
    )
    seeded = Seeded()
    rows: list[dict[str, Any]] = []
    for n in range(count):
        succeeded = start + step * (n + rng.random())
        kind = kinds[n]
        ok = kind != "failure"
        rows.append(
            {
                "id": new_id(),
                "project_id": project_id,
                "environment_id": env_id,
                "source": "api",
                "pipeline_id": f"run-{n}",
                "sequence": 1,
                "ref": "main",
                "sha": f"{n:040x}",
                "release_version": f"v{n // 100}.{n % 100}",
                "description": "",
                "state": "success" if ok else "failure",
                "started_at": succeeded - timedelta(minutes=rng.uniform(2, 15)),
                "finished_at": succeeded,
                "succeeded_at": succeeded if ok else None,
                "triggered_by": "ci",
                "is_hotfix": False,
                "is_rollback": False,
                "fixes_deployment_id": None,
                "failed_at": None,
                "restored_at": None,
                "rolled_back_at": None,
                "shipped_complete": rng.random() > 0.02,
                "shipped_commit_count": 0,
                "created_at": succeeded,
                "updated_at": succeeded,
                "version": 1,
            }
        )
        seeded.successful += ok
    incidents: list[dict[str, Any]] = []
    for n, row in enumerate(rows):
        kind, following = kinds[n], rows[n + 1] if n + 1 < count else None
        if not row["succeeded_at"] or kind in ("plain", "failure"):
            continue
        if kind == "incident":
            failed = row["succeeded_at"] + timedelta(hours=rng.uniform(0.5, 6))
            if failed >= now:
                continue
            row["failed_at"] = failed
            restored = row["failed_at"] + timedelta(hours=rng.lognormvariate(0.5, 1))
            resolved = restored < now and rng.random() < 0.95
            row["restored_at"] = restored if resolved else None
            fixer = following["id"] if following and following["succeeded_at"] else None
            incidents.append(
                {
                    "id": new_id(),
                    "project_id": project_id,
                    "number": len(incidents) + 1,
                    "title": f"Incident {len(incidents) + 1}",
                    "description": "",
                    "severity": rng.choice(["sev1", "sev2", "sev3", "sev4"]),
                    "state": "resolved" if resolved else "open",
                    "environment_id": env_id,
                    "opened_at": row["failed_at"],
                    "resolved_at": row["restored_at"],
                    "caused_by_deployment_id": row["id"],
                    "fixed_by_deployment_id": fixer if resolved else None,
                    "created_at": row["failed_at"],
                    "updated_at": row["restored_at"] or row["failed_at"],
                    "version": 1,
                }
            )
        elif following is not None and following["succeeded_at"]:
            # The next deployment rolls it back or fixes it.
            following["is_rollback" if kind == "rolled_back" else "is_hotfix"] = True
            following["fixes_deployment_id"] = row["id"]
            row["failed_at"] = following["started_at"]
            row["restored_at"] = following["succeeded_at"]
            if kind == "rolled_back":
                row["state"] = "rolled_back"
                row["rolled_back_at"] = following["succeeded_at"]  # as the rollback succeeded
        seeded.failed += row["failed_at"] is not None
    shipped: list[dict[str, Any]] = []
    live = [row for row in rows if row["succeeded_at"]]
    for n in range(commits):
        row = live[n % len(live)]
        row["shipped_commit_count"] += 1
        hours = rng.lognormvariate(math.log(20), 1.2)
        shipped.append(
            {
                "deployment_id": row["id"],
                "sha": f"{n:040x}",
                "commit_id": None,
                "committed_at": (
                    None if rng.random() < 0.03 else row["succeeded_at"] - timedelta(hours=hours)
                ),
            }
        )
    seeded.commits = len(shipped)
    rolled_back = {row["id"] for row in rows if row["state"] == "rolled_back"}
    seeded.commits_counted = sum(1 for c in shipped if c["deployment_id"] not in rolled_back)
    return rows, shipped, incidents, seeded


def item_rows(
    project_id: str,
    statuses: dict[str, tuple[str, str]],
    count: int,
    now: datetime,
    rng: random.Random,
    seeded: Seeded,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, their events) over the two years: each item's path through the categories."""
    start = now - timedelta(days=DAYS - 2)
    ranks = initial_ranks(count)
    items: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(count):
        item_id, key = new_id(), f"{PROJECT}-{n + 1}"
        created = start + (now - start) * (n + rng.random()) / count
        kind = rng.choice(["story", "story", "task", "bug"])
        first = "backlog" if rng.random() < 0.2 else "todo"
        moves: list[tuple[datetime, str]] = []
        when = created
        fate = rng.random()
        if fate < 0.85:
            when += timedelta(days=rng.lognormvariate(0, 1))
            moves.append((when, "in_progress"))
            if rng.random() < 0.5:
                when += timedelta(days=rng.lognormvariate(0, 0.8))
                moves.append((when, "in_review"))
            when += timedelta(days=rng.lognormvariate(0.7, 0.8))
            moves.append((when, "done"))
            if rng.random() < 0.05:  # reopened and finished again
                when += timedelta(days=rng.uniform(0.5, 5))
                moves.append((when, "in_progress"))
                when += timedelta(days=rng.lognormvariate(0, 0.7))
                moves.append((when, "done"))
        elif fate < 0.9:
            when += timedelta(days=rng.lognormvariate(1, 1))
            moves.append((when, "cancelled"))
        moves = [(at, category) for at, category in moves if at < now]
        status_name = statuses[first][0]
        events.append(
            {
                "type": "item.created",
                "project_id": project_id,
                "subject_id": item_id,
                "occurred_at": created,
                "data": {
                    "key": key,
                    "title": f"Work {n + 1}",
                    "type": kind,
                    "status": status_name,
                    "category": first,
                    "priority": "none",
                    "estimate": None,
                    "assignee": None,
                    "parent_key": None,
                    "sprint_id": None,
                    "labels": [],
                },
                "changes": None,
            }
        )
        current, started, finished = first, None, None
        for at, target in moves:
            events.append(
                {
                    "type": "item.updated",
                    "project_id": project_id,
                    "subject_id": item_id,
                    "occurred_at": at,
                    "data": {"key": key},
                    "changes": {
                        "status": [statuses[current][0], statuses[target][0]],
                        "category": [current, target],
                    },
                }
            )
            if target == "in_progress" and started is None:
                started = at
            finished = at if target == "done" else None
            current = target
            if target == "done":
                seeded.finished_items += 1
        for _ in range(rng.choice([0, 1, 1, 2])):  # edits that change no category
            events.append(
                {
                    "type": "item.updated",
                    "project_id": project_id,
                    "subject_id": item_id,
                    "occurred_at": created + (now - created) * rng.random() * 0.5,
                    "data": {"key": key},
                    "changes": {"title": [f"Work {n + 1}", f"Work {n + 1}"]},
                }
            )
        seeded.in_progress += started is not None and current not in ("done", "cancelled")
        seeded.done_now += current == "done"
        items.append(
            {
                "id": item_id,
                "project_id": project_id,
                "number": n + 1,
                "key": key,
                "type": kind,
                "title": f"Work {n + 1}",
                "description": "",
                "status_id": statuses[current][1],
                "priority": 0,
                "blocked": False,
                "rank": ranks[n],
                "started_at": started,
                "finished_at": finished,
                "created_at": created,
                "updated_at": moves[-1][0] if moves else created,
                "version": 1,
            }
        )
    events.sort(key=lambda e: e["occurred_at"])
    return items, events


async def seed(url: str, secret_key: str, sizes: Sizes, say: Any) -> Seeded:
    """The user, the project and its history (see the module's docstring)."""
    settings = Settings(
        database_url=url, secret_key=secret_key, argon2_memory_kib=64, argon2_time_cost=1,
        _env_file=None,
    )  # fmt: skip
    database = Database.from_settings(settings)
    connect()
    security = build_security(settings, secret_key)
    rng = random.Random(17)  # noqa: S311 - bench data
    now = datetime.now(UTC)
    started = time.monotonic()
    try:
        async with database.transaction() as session:
            user = await auth_service._create_user(
                session,
                security,
                RegisterRequest(username=USERNAME, email="dora@bench.example", password=PASSWORD),
                is_admin=False,
            )
            access = await projects.create_project(
                session,
                Principal.of(user),
                ProjectCreate(key=PROJECT, name="Delivery bench"),
                client=ClientContext(address="bench"),
            )
            project_id = access.project.id
        async with database.transaction() as session:
            env_id = await session.scalar(
                select(Environment.id).where(
                    Environment.project_id == project_id, Environment.type == "production"
                )
            )
            assert env_id is not None, "the project has no production environment"
            statuses = {
                s.category: (s.name, s.id)
                for s in await session.scalars(
                    select(Status).where(Status.project_id == project_id).order_by(Status.position)
                )
            }
            deployments, shipped, incidents, seeded = deployment_rows(
                project_id, env_id, sizes.deployments, sizes.commits, now, rng
            )
            items, events = item_rows(project_id, statuses, sizes.items, now, rng, seeded)
            for model, rows in (
                (Deployment, deployments),
                (DeploymentCommit, shipped),
                (Incident, incidents),
                (Item, items),
                (Event, events),
            ):
                for first in range(0, len(rows), BATCH):
                    await session.execute(insert(model), rows[first : first + BATCH])
            await session.execute(
                update(Project).where(Project.id == project_id).values(item_seq=len(items))
            )
            await store_lead_times(session, database.dialect)
        seeded.extra = {
            "incidents": len(incidents),
            "events": len(events),
            "seconds": round(time.monotonic() - started, 1),
        }
        if database.dialect == "postgresql":
            async with database.write_engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM (ANALYZE)"))
        else:
            async with database.write_engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
    finally:
        await database.dispose()
    say(
        f"  seeded {len(deployments):,} deployments, {len(shipped):,} commits, "
        f"{len(incidents):,} incidents, {len(items):,} items and {len(events):,} events in "
        f"{seeded.extra['seconds']} s"
    )
    return seeded


async def write_snapshots(url: str, secret_key: str, say: Any) -> float:
    """The worker's `flow-snapshots` sweep, as it runs after the data arrived (the server is
    started without its worker): every closed day written; its seconds."""
    settings = Settings(database_url=url, secret_key=secret_key, _env_file=None)
    database = Database.from_settings(settings)
    started = time.monotonic()
    try:
        await sweep_flow_snapshots(JobContext(database=database, settings=settings, worker_id="b"))
        if database.dialect == "postgresql":  # as autovacuum would soon after
            async with database.write_engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                tables = "flow_days, flow_finishes, flow_moves, flow_snapshots, deployment_commits"
                await conn.execute(text(f"VACUUM (ANALYZE) {tables}"))
    finally:
        await database.dispose()
    seconds = round(time.monotonic() - started, 1)
    say(f"  flow snapshots written in {seconds} s")
    return seconds


# Measurement ---------------------------------------------------------------------------------


def questions(
    today: str, two_years_ago: str, ninety_days_ago: str
) -> dict[str, tuple[str, dict[str, str]]]:
    dora, flow = (
        f"/api/v1/projects/{PROJECT}/metrics/dora",
        f"/api/v1/projects/{PROJECT}/metrics/flow",
    )
    return {
        "dora_90_days": (dora, {}),
        "dora_2_years_weekly": (dora, {"from": two_years_ago, "to": today, "granularity": "week"}),
        "flow_30_days": (flow, {}),
        "flow_90_days_bugs": (flow, {"from": ninety_days_ago, "q": "type:bug"}),
        "flow_2_years": (flow, {"from": two_years_ago, "to": today}),
    }


async def measure(
    url: str, workdir: Path, secret_key: str, *, seconds: float, warmup: int, say: Any
) -> dict[str, Any]:
    server = ApiServer(url, workdir / "api", worker=False, secret_key=secret_key)
    await server.start()
    results: dict[str, Any] = {}
    today = datetime.now(UTC).date()
    asked = questions(
        today.isoformat(),
        (today - timedelta(days=DAYS - 1)).isoformat(),
        (today - timedelta(days=89)).isoformat(),
    )
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            login = await client.post(
                "/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
            )
            assert login.status_code == 200, login.text
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            for name, (path, params) in asked.items():
                first = await client.get(path, params=params)
                assert first.status_code == 200, first.text
                for _ in range(warmup):
                    await client.get(path, params=params)
                latencies: list[float] = []
                errors = 0
                load_before = uptime()
                cpu = CpuWindow({"takt serve": [server.pid]}, None if is_sqlite_url(url) else url)
                await cpu.start()
                deadline = time.perf_counter() + seconds
                while time.perf_counter() < deadline or not latencies:
                    sent = time.perf_counter()
                    response = await client.get(path, params=params)
                    latencies.append(time.perf_counter() - sent)
                    errors += response.status_code != 200
                used = await cpu.stop()
                latencies.sort()
                results[name] = {
                    "params": params,
                    "requests": len(latencies),
                    "errors": errors,
                    "p50_ms": ms(rank(latencies, 50)),
                    "p99_ms": ms(rank(latencies, 99)),
                    "max_ms": ms(latencies[-1]),
                    "cpu_ms_per_request": per_unit(used, len(latencies)),
                    "uptime_before": load_before,
                    "uptime_after": uptime(),
                    "answer": first.json(),
                }
                say(
                    f"  {name}: p50 {results[name]['p50_ms']} ms, p99 {results[name]['p99_ms']} "
                    f"ms over {len(latencies)} requests"
                )
    finally:
        await server.stop()
    return results


@dataclass
class Options:
    database_url: str = DEFAULT_PG
    sizes: Sizes = field(default_factory=Sizes)
    seconds: float = 10.0
    warmup: int = 3
    workdir: Path | None = None
    reuse: bool = False


async def run(options: Options, *, say: Any = say) -> dict[str, Any]:
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="takt-bench-dora-"))
    url = options.database_url
    shown = make_url(url).render_as_string(hide_password=True)
    say(f"bench.dora on {shown} ({uptime()})")
    secret_key = secrets.token_urlsafe(48)
    if options.reuse:  # the data of an earlier run, brought to the current migrations
        await asyncio.to_thread(upgrade, url)
        seeded = Seeded()
    else:
        if not is_sqlite_url(url):
            await fresh_postgres(url)
        await asyncio.to_thread(upgrade, url)
        seeded = await seed(url, secret_key, options.sizes, say)
    seeded.extra["snapshot_seconds"] = await write_snapshots(url, secret_key, say)
    measured = await measure(
        url, workdir, secret_key, seconds=options.seconds, warmup=options.warmup, say=say
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "database": "sqlite" if is_sqlite_url(url) else "postgresql",
        "goal_p99_ms": GOAL_P99_MS,
        "sizes": vars(options.sizes),
        "seeded": vars(seeded),
        "runs": measured,
    }


def table(document: dict[str, Any]) -> str:
    lines = [
        "| question | p50 ms | p99 ms | max ms | requests | server / database CPU ms per request |",
        "|---|---|---|---|---|---|",
    ]
    for name, run_ in document["runs"].items():
        cpu = " / ".join(str(v) for v in run_["cpu_ms_per_request"].values())
        lines.append(
            f"| {name} | {run_['p50_ms']} | {run_['p99_ms']} | {run_['max_ms']} | "
            f"{run_['requests']} | {cpu} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dora", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_PG,
        help="PostgreSQL (dropped and recreated) or sqlite+aiosqlite:///FILE (a new file)",
    )
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per question")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data an earlier run left in the database (upgraded to the current "
        "migrations) instead of seeding it again: the load takes minutes",
    )
    args = parser.parse_args(argv)
    document = asyncio.run(
        run(
            Options(
                database_url=args.database_url,
                sizes=Sizes(args.deployments, args.commits, args.items),
                seconds=args.seconds,
                reuse=args.reuse,
            )
        )
    )
    for run_ in document["runs"].values():
        del run_["answer"]
    print(table(document))
    if args.json:
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    missed = [n for n, r in document["runs"].items() if r["p99_ms"] > GOAL_P99_MS]
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
