"""Measure planning poker's calibration (issue 15, Speed): `python -m bench.estimation`.

The target: the calibration a reveal shows, over 10,000 finished items, within 50 ms. On each
database (SQLite in a temporary file, PostgreSQL in a database of its own that this drops and
recreates) it builds one project through the services (a user, the project with its default
workflow), bulk-inserts 10,000 finished items (estimates 1 to 13 points, started and finished
over the last year, cycle times growing with the estimate) and 2,000 unfinished ones, then
times, in-process:

- **calibration**: `takt.estimation.service.calibration` (the one statement and the arithmetic
  after it) in a read transaction, as a reveal runs it;
- **reveal**: a whole reveal (lock the session, read the votes, the spread, the calibration,
  the writes and the event) of a round with 5 votes, rolled back after each run so every run
  reveals the same round.

Each is run `--runs` times after `--warmup` runs; p50, p99 and max of the wall time are printed
with the load average (`uptime`) before and after, since the machine may be shared, and the CPU
this process spent per run (on SQLite that is all the work, the database being in-process; on
PostgreSQL the server's share is not in it). `--json PATH` writes the figures to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from takt.auth import service as auth_service
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database
from takt.core.migrations import upgrade
from takt.core.models import new_id
from takt.estimation import service as poker
from takt.estimation.models import EstimationSession
from takt.estimation.schemas import EstimationCreate, VoteWrite
from takt.items.models import Item
from takt.items.ranking import initial_ranks
from takt.main import build_security
from takt.projects import service as projects
from takt.projects.models import Project, ProjectMember
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import ProjectCreate
from takt.wiring import connect
from takt.workflow.models import Status

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_estimation"
GOAL_MS = 50.0
ESTIMATES = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)
VOTERS = 5
Say = Callable[[str], None]


def load() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def rank(percent: float) -> float:
        return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1] * 1000

    return {
        "p50_ms": round(rank(50), 2),
        "p99_ms": round(rank(99), 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "runs": len(ordered),
    }


async def fresh_postgres(url: str) -> None:
    """Drop and create the database of `url` (through its server's `postgres` database)."""
    parsed = make_url(url)
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise SystemExit(f"unexpected database name {name!r}")
    admin = create_async_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


def item_rows(
    project_id: str, key: str, done_id: str, todo_id: str, finished: int, unfinished: int
) -> list[dict[str, Any]]:
    """The project's items as rows: `finished` done items with cycle times that grow with the
    estimate (log-normal, median about 0.8 days per point), then `unfinished` ones."""
    rng = random.Random(15)  # noqa: S311 (bench data, not security)
    now = datetime.now(UTC)
    total = finished + unfinished
    ranks = initial_ranks(total)
    rows = []
    for n in range(total):
        estimate = rng.choice(ESTIMATES)
        created = now - timedelta(days=rng.uniform(5, 370))
        started = finished_at = None
        if n < finished:
            started = created + timedelta(hours=rng.uniform(1, 72))
            cycle_days = rng.lognormvariate(math.log(0.8 * estimate + 0.5), 0.6)
            finished_at = started + timedelta(days=cycle_days)
        rows.append(
            {
                "id": new_id(),
                "project_id": project_id,
                "number": n + 1,
                "key": f"{key}-{n + 1}",
                "type": "story",
                "title": f"Story {n + 1}",
                "description": "",
                "status_id": done_id if n < finished else todo_id,
                "priority": 0,
                "estimate": estimate,
                "blocked": False,
                "rank": ranks[n],
                "started_at": started,
                "finished_at": finished_at,
                "created_at": created,
                "updated_at": finished_at or created,
                "version": 1,
            }
        )
    return rows


async def build(
    database: Database, settings: Settings, finished: int, unfinished: int
) -> tuple[str, str, list[str]]:
    """The project with its items and a poker session whose round has `VOTERS` votes: (project
    id, session id, item key)."""
    connect()
    security = build_security(settings, settings.secret_key or "")
    async with database.transaction() as session:
        users = [
            await auth_service._create_user(
                session,
                security,
                RegisterRequest(
                    username=f"voter{n}", email=f"voter{n}@bench.example", password="x" * 16
                ),
                is_admin=False,
            )
            for n in range(VOTERS)
        ]
        lead = Principal.of(users[0])
        access = await projects.create_project(
            session,
            lead,
            ProjectCreate(key="CAL", name="Calibration"),
            client=ClientContext(address="bench"),
        )
        project_id = access.project.id
        session.add_all(
            ProjectMember(project_id=project_id, user_id=u.id, role="member") for u in users[1:]
        )
        statuses = {
            s.category: s.id
            for s in await session.scalars(select(Status).where(Status.project_id == project_id))
        }
        rows = item_rows(
            project_id, "CAL", statuses["done"], statuses["todo"], finished, unfinished
        )
        for start in range(0, len(rows), 2000):
            await session.execute(insert(Item), rows[start : start + 2000])
        await session.execute(
            update(Project).where(Project.id == project_id).values(item_seq=len(rows))
        )
        # The item the session estimates: an unfinished one.
        key = rows[-1]["key"]
    async with database.transaction() as session:
        project = await session.get(Project, project_id)
        assert project is not None
        lead_access = ProjectAccess(project, lead, "admin")
        ctx = await poker.create_session(
            session, lead_access, EstimationCreate(title="Bench", item_keys=[key])
        )
        for user in users:
            voter = poker.EstimationContext(
                ProjectAccess(project, Principal.of(user), "member"), ctx.estimation, None
            )
            await poker.cast_vote(session, voter, key, VoteWrite(card=random.choice("12358")))  # noqa: S311
        session_id = ctx.estimation.id
    if database.dialect == "postgresql":
        async with database.write_engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE)"))
    return project_id, session_id, [key]


async def timed(
    run: Callable[[], Awaitable[None]], runs: int, warmup: int
) -> tuple[list[float], list[float]]:
    """(wall seconds, this process's CPU seconds) of each run."""
    for _ in range(warmup):
        await run()
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        await run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return wall, cpu


def figures(measured: tuple[list[float], list[float]]) -> dict[str, Any]:
    wall, cpu = measured
    return {**summary(wall), "cpu": summary(cpu)}


async def measure(kind: str, url: str, options: argparse.Namespace, say: Say) -> dict[str, Any]:
    say(f"{kind}: migrating {make_url(url).render_as_string(hide_password=True)}")
    await asyncio.to_thread(upgrade, url)
    settings = Settings(
        database_url=url, secret_key=secrets.token_urlsafe(48), argon2_time_cost=1, _env_file=None
    )
    database = Database.from_settings(settings)
    try:
        started = time.monotonic()
        project_id, session_id, keys = await build(
            database, settings, options.items, options.unfinished
        )
        say(
            f"{kind}: {options.items:,} finished + {options.unfinished:,} unfinished items in "
            f"{time.monotonic() - started:.1f} s"
        )
        lead_principal: Principal | None = None

        async def calibration() -> None:
            async with database.transaction(write=False) as session:
                await poker.calibration(session, project_id, DECK)

        async def reveal() -> None:
            nonlocal lead_principal
            async with database.write_sessions() as session:
                row = await session.get(EstimationSession, session_id)
                project = await session.get(Project, project_id)
                assert row is not None
                assert project is not None
                if lead_principal is None:
                    user = await session.get(User, row.facilitator_id)
                    assert user is not None
                    lead_principal = Principal.of(user)
                ctx = poker.EstimationContext(
                    ProjectAccess(project, lead_principal, "admin"), row, None
                )
                await poker.reveal(session, ctx, keys[0])
                await session.rollback()

        before = load()
        measured = {
            "calibration": figures(await timed(calibration, options.runs, options.warmup)),
            "reveal": figures(await timed(reveal, options.runs, options.warmup)),
        }
        after = load()
        async with database.transaction(write=False) as session:
            shown = await poker.calibration(session, project_id, DECK)
        counted = sum(int(entry["finished_items"]) for entry in shown)  # type: ignore[call-overload]
        if counted != options.items:
            raise SystemExit(f"{kind}: the calibration counted {counted} finished items")
        return {"load_before": before, "load_after": after, **measured, "calibration_shown": shown}
    finally:
        await database.dispose()


DECK: list[dict[str, object]] = [
    {"label": f"{points:g}", "points": points}
    for points in (0, 0.5, 1, 2, 3, 5, 8, 13, 20, 40, 100)
]


def line(kind: str, result: dict[str, Any]) -> str:
    cal, rev = result["calibration"], result["reveal"]
    met = "met" if cal["p99_ms"] <= GOAL_MS else "NOT met"
    loads = (
        f"{' '.join(map(str, result['load_before']))} → {' '.join(map(str, result['load_after']))}"
    )
    return (
        f"| {kind} | {cal['p50_ms']} | {cal['p99_ms']} | {cal['max_ms']} | "
        f"{cal['cpu']['p50_ms']} / {cal['cpu']['p99_ms']} | {rev['p50_ms']} | {rev['p99_ms']} | "
        f"{loads} | {met} |"
    )


async def run(options: argparse.Namespace, say: Say = print) -> dict[str, Any]:
    results: dict[str, Any] = {
        "finished_items": options.items,
        "unfinished_items": options.unfinished,
        "runs": options.runs,
        "goal_p99_ms": GOAL_MS,
        "cores": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory() as workdir:
        if "sqlite" in options.databases:
            path = Path(workdir) / "estimation.db"
            results["sqlite"] = await measure("sqlite", f"sqlite+aiosqlite:///{path}", options, say)
    if "postgresql" in options.databases:
        await fresh_postgres(options.postgres_url)
        results["postgresql"] = await measure("postgresql", options.postgres_url, options, say)
    say("")
    say(
        "| database | calibration p50 ms | p99 ms | max ms | its CPU here p50 / p99 ms "
        "| reveal p50 ms | p99 ms | load 1/5/15 min | p99 ≤ 50 ms |"
    )
    say("|---|---|---|---|---|---|---|---|---|")
    for kind in ("sqlite", "postgresql"):
        if kind in results:
            say(line(kind, results[kind]))
    return results


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.estimation", description=__doc__)
    parser.add_argument("--items", type=int, default=10_000, help="finished items (10,000)")
    parser.add_argument("--unfinished", type=int, default=2_000, help="unfinished items (2,000)")
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each (200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed runs first (20)")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="which to measure, comma-separated (sqlite,postgresql)",
    )
    parser.add_argument(
        "--postgres-url", default=DEFAULT_PG, help="a database this drops and recreates"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)
    options.databases = {d.strip() for d in options.databases.split(",") if d.strip()}
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    results = asyncio.run(run(options))
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n")
    failed = [
        kind
        for kind in ("sqlite", "postgresql")
        if kind in results and results[kind]["calibration"]["p99_ms"] > GOAL_MS
    ]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
