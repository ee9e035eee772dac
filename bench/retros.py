"""Measure retro votes (issue 15, Speed): `python -m bench.retros`.

The goal: casting a vote (`POST /api/v1/retros/{id}/votes`) answers in p99 <= 20 ms with 50
participants voting at once on one retro, on PostgreSQL.

**Data.** A fresh, migrated database holding one project with a facilitator and 50 voters
(members), made in-process through the services; then, through the API of the server under
test, for each measurement a retro of its own (`vote_budget` 20, at most 3 votes per group)
where every voter wrote one card, advanced to `vote`, so it has 50 groups.

**Measurement.** `takt serve --no-worker` on a free loopback port; each voter has its own
keep-alive HTTP/1.1 connections (`bench.rawhttp`: a lean client that costs the server's CPU
nothing to speak of) and its own token. Two shapes of load, each on its own retro:

- **steady**: votes arrive at random moments (a Poisson process) at `--rate` votes a second
  over all 50 voters for `--seconds`, each from a random voter on a random group it may still
  vote for (open loop: a vote leaves on schedule whether the voter's previous one answered or
  not). At 50 votes a second each participant votes about once a second, several times faster
  than people click; this is the figure the goal is read at.
- **burst**: all 50 voters press at the same instant, `--rounds` times, a second apart: the
  worst moment of a real retro ("vote now!").

A vote's latency runs from its scheduled moment to its answer. Every answer must be 201 (a
refusal would mean the budget bookkeeping is off). Alongside: the CPU seconds of the server and
of PostgreSQL per vote, and the machine's load average (`uptime`) before and after, since a
shared machine's other work shows in every figure.

`--json FILE` also writes the raw figures. See bench/README.md for the tools.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import report
from bench.integrations import ApiServer, CpuWindow, fresh_postgres, per_unit, summary
from bench.rawhttp import Connections
from takt.auth import service as auth_service
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database, is_sqlite_url
from takt.core.migrations import upgrade
from takt.main import create_app
from takt.projects import service as projects
from takt.projects.schemas import MemberAdd, ProjectCreate

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_retros"
PROJECT = "RETRO"
PASSWORD = "bench-password-2026"
GOAL_P99_MS = 20.0
BUDGET = 20
PER_GROUP = 3


def say(line: str) -> None:
    print(line, flush=True)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607


# Data ------------------------------------------------------------------------------------------


async def seed(url: str, secret_key: str, voters: int) -> None:
    """The facilitator `facil` and `voters` members of project RETRO, through the services
    (cheap password hashes: they are checked with the parameters stored in them)."""
    settings = Settings(
        database_url=url,
        secret_key=secret_key,
        argon2_memory_kib=64,
        argon2_time_cost=1,
        _env_file=None,
    )
    database = Database.from_settings(settings)
    security = create_app(settings, database=database).state.security
    client = ClientContext(address="bench")
    try:
        async with database.transaction() as session:

            async def user(name: str) -> Any:
                data = RegisterRequest(
                    username=name, email=f"{name}@bench.example", password=PASSWORD
                )
                return await auth_service._create_user(session, security, data, is_admin=False)

            facil = await user("facil")
            access = await projects.create_project(
                session,
                Principal.of(facil),
                ProjectCreate(key=PROJECT, name="Retro bench"),
                client=client,
            )
            for number in range(voters):
                voter = await user(f"voter{number:02d}")
                await projects.add_member(
                    session, access, MemberAdd(user_id=voter.id, role="member"), client=client
                )
    finally:
        await database.dispose()


async def login(client: httpx.AsyncClient, name: str) -> str:
    answer = await client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


@dataclass
class Voter:
    name: str
    token: str
    connections: Connections
    left: int = BUDGET
    on: dict[str, int] = field(default_factory=dict)

    def pick(self, groups: list[str], rng: random.Random) -> str | None:
        """A group this voter may still vote for, or None once its budget is spent."""
        if self.left <= 0:
            return None
        open_groups = [g for g in groups if self.on.get(g, 0) < PER_GROUP]
        return rng.choice(open_groups) if open_groups else None


async def voting_retro(
    base: str, facilitator: str, voters: list[Voter], title: str
) -> tuple[str, list[str]]:
    """A retro in `vote` with one group per voter's card: (its id, its group ids)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        made = await client.post(
            f"/api/v1/projects/{PROJECT}/retros",
            json={"title": title, "vote_budget": BUDGET, "max_votes_per_group": PER_GROUP},
            headers={"Authorization": f"Bearer {facilitator}"},
        )
        made.raise_for_status()
        retro = made.json()["id"]
        for voter in voters:
            card = await client.post(
                f"/api/v1/retros/{retro}/cards",
                json={"prompt_id": "start", "text": f"{voter.name} says hi"},
                headers={"Authorization": f"Bearer {voter.token}"},
            )
            card.raise_for_status()
        for phase in ("group", "vote"):
            step = await client.post(
                f"/api/v1/retros/{retro}/advance",
                json={"to": phase},
                headers={"Authorization": f"Bearer {facilitator}"},
            )
            step.raise_for_status()
        groups = [g["id"] for g in step.json()["groups"]]
    for voter in voters:
        voter.left, voter.on = BUDGET, {}
    return retro, groups


# Measurements ----------------------------------------------------------------------------------


@dataclass
class Votes:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {**summary(self.latencies), "statuses": dict(sorted(self.statuses.items()))}


async def cast(voter: Voter, retro: str, group: str, scheduled: float, into: Votes) -> None:
    voter.left -= 1
    voter.on[group] = voter.on.get(group, 0) + 1
    try:
        status, body = await voter.connections.post(
            f"/api/v1/retros/{retro}/votes", orjson.dumps({"group_id": group})
        )
    except OSError as exc:
        status, body = 599, str(exc).encode()
    into.latencies.append(time.perf_counter() - scheduled)
    into.statuses[status] = into.statuses.get(status, 0) + 1
    if status != 201 and len(into.failures) < 5:
        into.failures.append(f"{status}: {body[:200]!r}")


async def steady(
    voters: list[Voter], retro: str, groups: list[str], *, rate: float, seconds: float, seed: int
) -> Votes:
    rng = random.Random(seed)  # noqa: S311 (load shape, not security)
    found, tasks = Votes(), []
    start = time.perf_counter()
    moment = 0.0
    while True:
        moment += rng.expovariate(rate)
        if moment >= seconds:
            break
        voter = rng.choice([v for v in voters if v.left > 0] or voters)
        group = voter.pick(groups, rng)
        if group is None:
            continue
        scheduled = start + moment
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(cast(voter, retro, group, scheduled, found)))
    await asyncio.gather(*tasks)
    return found


async def burst(
    voters: list[Voter], retro: str, groups: list[str], *, rounds: int, seed: int
) -> Votes:
    rng = random.Random(seed)  # noqa: S311
    found = Votes()
    for _ in range(rounds):
        await asyncio.sleep(1.0)
        scheduled = time.perf_counter()
        picks = [(v, v.pick(groups, rng)) for v in voters]
        await asyncio.gather(*(cast(v, retro, g, scheduled, found) for v, g in picks if g))
    return found


async def measured(
    name: str, server: ApiServer, url: str, votes_run: Awaitable[Votes]
) -> dict[str, Any]:
    """Run `votes_run` (a coroutine not started yet) inside a CPU window."""
    cpu = CpuWindow({"takt serve (API, no worker)": [server.pid]}, url)
    await cpu.start()
    votes = await votes_run
    used = await cpu.stop()
    figures = votes.figures()
    figures["cpu"] = used
    figures["cpu_ms_per_vote"] = per_unit(used, len(votes.latencies))
    figures["failures"] = votes.failures
    figures["load_average_after"] = round(os.getloadavg()[0], 2)
    goal = "" if name != "steady" else f" (goal p99 <= {GOAL_P99_MS:g} ms)"
    say(
        f"  {name}: {figures['count']} votes, p50 {figures['p50_ms']} ms, p99 "
        f"{figures['p99_ms']} ms{goal}, max {figures['max_ms']} ms, statuses {figures['statuses']}"
    )
    return figures


async def run(options: argparse.Namespace) -> dict[str, Any]:
    document: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "uptime_before": uptime(),
        "options": {k: str(v) for k, v in vars(options).items()},
    }
    say(document["uptime_before"])
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="bench-retros-"))
    url = options.database_url
    if url is None:
        url = f"sqlite+aiosqlite:///{workdir / 'retros.db'}"
    elif not is_sqlite_url(url):
        await fresh_postgres(url)
    await asyncio.to_thread(upgrade, url)
    server = ApiServer(url, workdir / "server", worker=False, secret_key=secrets.token_urlsafe(48))
    await seed(url, server.secret_key, options.voters)
    await server.start()
    voters: list[Voter] = []
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            facilitator = await login(client, "facil")
            for number in range(options.voters):
                name = f"voter{number:02d}"
                token = await login(client, name)
                voters.append(Voter(name, token, Connections(server.port, token, connections=4)))
        say(f"{options.voters} voters on {'SQLite' if is_sqlite_url(url) else 'PostgreSQL'}")
        retro, groups = await voting_retro(server.base_url, facilitator, voters, "warm-up")
        await steady(voters, retro, groups, rate=options.rate, seconds=2, seed=1)  # unrecorded
        results: dict[str, Any] = {}
        for round_ in range(options.repeat):
            retro, groups = await voting_retro(
                server.base_url, facilitator, voters, f"steady {round_}"
            )
            results.setdefault("steady", []).append(
                await measured(
                    "steady",
                    server,
                    url,
                    steady(
                        voters,
                        retro,
                        groups,
                        rate=options.rate,
                        seconds=options.seconds,
                        seed=round_,
                    ),
                )
            )
            retro, groups = await voting_retro(
                server.base_url, facilitator, voters, f"burst {round_}"
            )
            results.setdefault("burst", []).append(
                await measured(
                    "burst",
                    server,
                    url,
                    burst(voters, retro, groups, rounds=options.rounds, seed=round_),
                )
            )
        document["results"] = results
        document["server_log_errors"] = server.log_count('"level": "ERROR"')
    finally:
        for voter in voters:
            await voter.connections.close()
        await server.stop()
    document["uptime_after"] = uptime()
    say(document["uptime_after"])
    return document


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retros", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_PG,
        help="The PostgreSQL database to (re)create (it is DROPPED), or a sqlite+aiosqlite URL; "
        "'sqlite' for a temporary SQLite file.",
    )
    parser.add_argument("--voters", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50, help="Steady: votes a second in all.")
    parser.add_argument("--seconds", type=float, default=15, help="Steady: seconds of votes.")
    parser.add_argument("--rounds", type=int, default=5, help="Burst: how many bursts.")
    parser.add_argument("--repeat", type=int, default=2, help="Each measurement this many times.")
    parser.add_argument("--workdir", help="Where the server's log goes (default: a temp dir).")
    parser.add_argument("--json", type=Path, help="Also write the raw figures to this file.")
    options = parser.parse_args(argv)
    if options.database_url == "sqlite":
        options.database_url = None
    if options.voters < 1 or options.rate * options.seconds > options.voters * BUDGET:
        parser.error(f"rate x seconds must fit the voters' budgets ({BUDGET} votes each)")
    document = asyncio.run(run(options))
    document["command"] = "python -m bench.retros " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if options.json:
        options.json.write_text(json.dumps(document, indent=2, default=str))
    steady_p99 = [r["p99_ms"] for r in document["results"]["steady"]]
    say(f"steady p99 per round: {steady_p99} ms; goal {GOAL_P99_MS:g} ms")


if __name__ == "__main__":
    main()
