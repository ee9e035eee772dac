"""Measure code reviews (issue 16, Speed): `python -m bench.reviews`.

Three goals, on PostgreSQL, all traffic on loopback:

- **acceptance**: inbound GitHub deliveries (signed `pull_request` and `pull_request_review`
  payloads shaped and sized like GitHub's, each with its own delivery id) sent open-loop at a
  steady rate (each leaves on schedule whether the previous one answered or not) to
  `takt serve --no-worker`; a delivery's latency is its answer less its *scheduled* send time,
  so a server falling behind shows in the figure. Goal: p99 <= 50 ms at 200 deliveries/s.
- **processing**: the deliveries the acceptance run left in the inbox are processed by one
  `takt worker` (default settings); throughput = deliveries / (last processed - worker
  started). Goal: >= 200 deliveries/s.
- **metrics**: 20,000 pull requests (two repositories, merged over 90 days, with first reviews,
  rounds, approvals and sizes) bulk-inserted into another project; `GET
  /projects/{key}/metrics/reviews` over the whole period, one request after the other on one
  connection. Goal: p99 <= 100 ms.

The machine's load average (`uptime`) is recorded before and after each measurement: on a
shared machine the figures move with it. `--record` writes bench/results/<date>-reviews.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text

from bench import report
from bench.integrations import ApiServer, CpuWindow, WorkerProcess, fresh_postgres, per_unit
from bench.load import percentile
from bench.rawhttp import _response
from takt.auth import service as auth_service
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database
from takt.core.migrations import upgrade
from takt.core.models import new_id
from takt.delivery import service as delivery
from takt.delivery.models import PullRequest, Repository
from takt.delivery.schemas import RepositoryCreate
from takt.integrations.models import InboundDelivery
from takt.items import service as items
from takt.items.schemas import ItemCreate
from takt.main import build_security
from takt.projects import service as projects
from takt.projects.models import Project
from takt.projects.schemas import ProjectCreate
from takt.wiring import connect

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_reviews"
GOALS = {"acceptance_p99_ms": 50, "processing_per_second": 200, "metrics_p99_ms": 100}
CLIENT = ClientContext(address="bench")
REPOSITORY = "acme/checkout"


def uptime() -> str:
    found = subprocess.run(["uptime"], capture_output=True, text=True, check=False)  # noqa: S607
    return found.stdout.strip()


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# Payloads -----------------------------------------------------------------------------------


def _user(login: str, number: int) -> dict[str, Any]:
    base = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": number,
        "node_id": f"MDQ6VXNlcj{number}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"https://github.com/{login}",
        **{
            f"{name}_url": f"{base}/{name}"
            for name in (
                "followers",
                "following",
                "gists",
                "starred",
                "subscriptions",
                "organizations",
                "repos",
                "events",
                "received_events",
            )
        },
        "type": "User",
        "site_admin": False,
    }


def _repository() -> dict[str, Any]:
    base = f"https://api.github.com/repos/{REPOSITORY}"
    names = [
        *("forks", "keys", "collaborators", "teams", "hooks", "issue_events", "events"),
        *("assignees", "branches", "tags", "blobs", "git_tags", "git_refs", "trees"),
        *("statuses", "languages", "stargazers", "contributors", "subscribers", "commits"),
        *("git_commits", "comments", "issue_comment", "contents", "compare", "merges"),
        *("archive", "downloads", "issues", "pulls", "milestones", "notifications", "labels"),
    ]
    return {
        "id": 186853002,
        "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
        "name": REPOSITORY.split("/")[1],
        "full_name": REPOSITORY,
        "private": False,
        "owner": _user("acme", 1),
        "html_url": f"https://github.com/{REPOSITORY}",
        "description": "The checkout service.",
        "fork": False,
        "url": base,
        **{f"{name}_url": f"{base}/{name}{{/id}}" for name in names},
        "created_at": "2019-05-15T15:19:25Z",
        "updated_at": "2026-11-27T09:00:00Z",
        "pushed_at": "2026-11-27T09:00:00Z",
        "default_branch": "main",
        "size": 1204,
        "stargazers_count": 12,
        "watchers_count": 12,
        "language": "Python",
        "open_issues_count": 3,
        "topics": ["payments", "checkout"],
    }


def _pull_request(number: int, title: str, opened: datetime, updated: datetime) -> dict[str, Any]:
    base = f"https://api.github.com/repos/{REPOSITORY}"
    author = _user(f"dev{number % 17}", 5000 + number % 17)
    return {
        "url": f"{base}/pulls/{number}",
        "id": 279147000 + number,
        "node_id": f"MDExOlB1bGxSZXF1ZXN0{number}",
        "html_url": f"https://github.com/{REPOSITORY}/pull/{number}",
        "diff_url": f"https://github.com/{REPOSITORY}/pull/{number}.diff",
        "patch_url": f"https://github.com/{REPOSITORY}/pull/{number}.patch",
        "issue_url": f"{base}/issues/{number}",
        "number": number,
        "state": "open",
        "locked": False,
        "title": title,
        "user": author,
        "body": "What changes, why, and how it was tested.\n\n" + "- a detail\n" * 20,
        "created_at": opened.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [_user("reviewer1", 9001)],
        "requested_teams": [],
        "labels": [],
        "milestone": None,
        "draft": False,
        "head": {
            "label": f"acme:feature/{number}",
            "ref": f"feature/bench-{number}",
            "sha": hashlib.sha1(str(number).encode()).hexdigest(),  # noqa: S324 - a fake sha
            "user": author,
            "repo": _repository(),
        },
        "base": {
            "label": "acme:main",
            "ref": "main",
            "sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            "user": _user("acme", 1),
            "repo": _repository(),
        },
        "author_association": "MEMBER",
        "merged": False,
        "mergeable": None,
        "comments": 0,
        "review_comments": 0,
        "commits": 3,
        "additions": 120,
        "deletions": 30,
        "changed_files": 5,
    }


def deliveries(count: int, anchor: datetime) -> list[tuple[str, bytes]]:
    """(event, body) for `count` deliveries: pull requests opened, asked for review, reviewed
    and approved, in that order, five deliveries a pull request."""
    found: list[tuple[str, bytes]] = []
    number = 0
    while len(found) < count:
        number += 1
        opened = anchor - timedelta(hours=number % 48)
        title = f"BEN-{1 + number % 50} Refund step {number}"
        steps: list[tuple[str, dict[str, Any]]] = []
        for minute, action in ((0, "opened"), (1, "review_requested")):
            payload = {
                "action": action,
                "number": number,
                "pull_request": _pull_request(
                    number, title, opened, opened + timedelta(minutes=minute)
                ),
                "repository": _repository(),
                "sender": _user(f"dev{number % 17}", 5000 + number % 17),
            }
            if action == "review_requested":
                payload["requested_reviewer"] = _user("reviewer1", 9001)
            steps.append(("pull_request", payload))
        for review_id, state, minute in ((1, "changes_requested", 30), (2, "approved", 90)):
            at = opened + timedelta(minutes=minute)
            steps.append(
                (
                    "pull_request_review",
                    {
                        "action": "submitted",
                        "review": {
                            "id": number * 10 + review_id,
                            "user": _user("reviewer1", 9001),
                            "body": None,
                            "state": state,
                            "submitted_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        },
                        "pull_request": _pull_request(number, title, opened, at),
                        "repository": _repository(),
                        "sender": _user("reviewer1", 9001),
                    },
                )
            )
        merged = opened + timedelta(minutes=120)
        closing = _pull_request(number, title, opened, merged)
        stamp = merged.strftime("%Y-%m-%dT%H:%M:%SZ")
        closing.update(state="closed", merged=True, merged_at=stamp, closed_at=stamp)
        steps.append(
            (
                "pull_request",
                {"action": "closed", "number": number, "pull_request": closing,
                 "repository": _repository(), "sender": _user("dev1", 5001)},
            )
        )  # fmt: skip
        found += [(event, json.dumps(payload).encode()) for event, payload in steps]
    return found[:count]


# A raw keep-alive client with the hook's headers -----------------------------------------------


class HookClient:
    """Keep-alive HTTP/1.1 connections that POST signed deliveries (no HTTP library: its CPU
    would be taken from the server measured on a small machine)."""

    def __init__(self, port: int, path: str, secret: str, connections: int) -> None:
        self.port = port
        self.path = path
        self.secret = secret.encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(connections)

    def request(self, event: str, body: bytes) -> bytes:
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        head = (
            f"POST {self.path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"x-github-event: {event}\r\nx-github-delivery: {uuid.uuid4()}\r\n"
            f"x-hub-signature-256: sha256={signature}\r\n\r\n"
        )
        return head.encode() + body

    async def send(self, raw: bytes) -> int:
        async with self.slots:
            reused = bool(self.idle)
            if reused:
                reader, writer = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                writer.write(raw)
                status, _, keep = await _response(reader)
            except asyncio.IncompleteReadError as closed:
                writer.close()
                if not reused or closed.partial:
                    raise
                # The server closed an idle kept-alive connection (its keep-alive timeout) just
                # as it was reused: send again on a new one, as every HTTP client does.
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                try:
                    writer.write(raw)
                    status, _, keep = await _response(reader)
                except BaseException:
                    writer.close()
                    raise
            except BaseException:
                writer.close()
                raise
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()
            return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


# Setting up -------------------------------------------------------------------------------------


@dataclass
class Setup:
    url: str
    secret_key: str
    token: str
    repository_id: str
    hook_secret: str


async def set_up(url: str, secret_key: str) -> Setup:
    """A migrated database with an admin, project BEN (50 items) and its linked repository."""
    await fresh_postgres(url)
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, secret_key=secret_key, _env_file=None)
    db = Database.from_settings(settings)
    security = build_security(settings, secret_key, db)
    connect()  # the services' hooks (a project's default statuses)
    try:
        async with db.transaction() as session:
            user = await auth_service.create_admin(
                session,
                security,
                RegisterRequest(
                    username="bench", email="bench@example.com", password="bench-password-1"
                ),
            )
            principal = Principal.of(user)
            access = await projects.create_project(
                session, principal, ProjectCreate(key="BEN", name="Bench"), client=CLIENT
            )
            for n in range(50):
                await items.create_item(session, access, ItemCreate(title=f"Item {n}"))
            config = delivery.DeliveryConfig.from_settings(settings)
            repository, hook_secret = await delivery.create_repository(
                session,
                access,
                RepositoryCreate(provider="github", full_name=REPOSITORY),
                config=config,
                client=CLIENT,
            )
            await projects.create_project(
                session, principal, ProjectCreate(key="MET", name="Metrics"), client=CLIENT
            )
        token, _ = security.access_tokens.issue(user.id)
        return Setup(url, secret_key, token, repository.id, hook_secret)
    finally:
        await security.counters.close()
        await db.dispose()


async def inbox_states(db: Database) -> dict[str, int]:
    async with db.transaction(write=False) as session:
        rows = await session.execute(
            select(InboundDelivery.state, func.count()).group_by(InboundDelivery.state)
        )
        return {str(state): int(count) for state, count in rows.all()}


# Measurements -------------------------------------------------------------------------------------


async def measure_acceptance(
    setup: Setup, workdir: Path, *, rate: float, seconds: float, say: Any
) -> dict[str, Any]:
    count = int(rate * seconds)
    bodies = deliveries(count, datetime.now(UTC).replace(microsecond=0))
    server = ApiServer(setup.url, workdir / "api", worker=False, secret_key=setup.secret_key)
    await server.start()
    client = HookClient(
        server.port, f"/api/v1/hooks/github/{setup.repository_id}", setup.hook_secret, 256
    )
    try:
        raws = [client.request(event, body) for event, body in bodies]
        size = sum(len(body) for _, body in bodies) / len(bodies)
        # Warm up: a few deliveries before the clock starts (connections, statement caches).
        warm_up = deliveries(20, datetime(2026, 1, 1, tzinfo=UTC))
        for raw in [client.request(event, body) for event, body in warm_up]:
            await client.send(raw)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        load_before = uptime()
        cpu = CpuWindow({"takt serve": [server.pid]}, setup.url)
        await cpu.start()
        started = time.perf_counter() + 0.05

        async def one(index: int) -> None:
            scheduled = started + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status = await asyncio.wait_for(client.send(raws[index]), 30)
            except (TimeoutError, OSError):
                status = 0
            latencies.append(time.perf_counter() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(one(i) for i in range(count)))
        elapsed = time.perf_counter() - started
        used = await cpu.stop()
        load_after = uptime()
    finally:
        client.close()
        await server.stop()
    latencies.sort()
    result = {
        "rate": rate,
        "deliveries": count,
        "mean_body_bytes": round(size),
        "seconds": round(elapsed, 1),
        "achieved_per_second": round(count / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": ms(percentile(latencies, 50)),
        "p95_ms": ms(percentile(latencies, 95)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(latencies[-1]),
        "cpu": used,
        "cpu_ms_per_delivery": per_unit(used, count),
        "uptime_before": load_before,
        "uptime_after": load_after,
    }
    say(
        f"  acceptance at {rate:.0f}/s: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"statuses {result['statuses']}"
    )
    return result


async def measure_processing(setup: Setup, workdir: Path, *, say: Any) -> dict[str, Any]:
    settings = Settings(database_url=setup.url, secret_key=setup.secret_key, _env_file=None)
    db = Database.from_settings(settings)
    try:
        waiting = (await inbox_states(db)).get("received", 0)
        worker = WorkerProcess(setup.url, setup.secret_key, workdir, 1)
        load_before = uptime()
        await worker.start()
        while not worker.started():  # noqa: ASYNC110 - its log says so, nothing to wait on
            await asyncio.sleep(0.05)
        cpu = CpuWindow({"takt worker": [worker.pid]}, setup.url)
        await cpu.start()
        started = time.perf_counter()
        deadline = started + 600
        states: dict[str, int] = {}
        while time.perf_counter() < deadline:
            states = await inbox_states(db)
            if states.get("received", 0) + states.get("retrying", 0) == 0:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
        used = await cpu.stop()
        load_after = uptime()
        await worker.stop()
        async with db.transaction(write=False) as session:
            prs = await session.scalar(select(func.count()).select_from(PullRequest))
    finally:
        await db.dispose()
    done = states.get("processed", 0)
    result = {
        "deliveries": waiting,
        "states": states,
        "pull_requests": prs,
        "seconds": round(elapsed, 2),
        "per_second": round(done / elapsed, 1) if elapsed else None,
        "cpu": used,
        "cpu_ms_per_delivery": per_unit(used, done),
        "uptime_before": load_before,
        "uptime_after": load_after,
    }
    say(f"  processing: {done} in {elapsed:.1f} s = {result['per_second']}/s; states {states}")
    return result


async def fill_metrics_project(setup: Setup, count: int) -> None:
    """`count` pull requests over 90 days in project MET, two repositories, in bulk."""
    settings = Settings(database_url=setup.url, secret_key=setup.secret_key, _env_file=None)
    db = Database.from_settings(settings)
    rng = random.Random(16)  # noqa: S311 - bench data
    end = datetime.now(UTC).replace(microsecond=0)
    try:
        async with db.transaction() as session:
            project_id = await session.scalar(select(Project.id).where(Project.key == "MET"))
            repos = []
            for name in ("acme/web", "acme/api"):
                repo_id = new_id()
                repos.append(repo_id)
                await session.execute(
                    insert(Repository).values(
                        id=repo_id,
                        project_id=project_id,
                        provider="github",
                        full_name=name,
                        full_name_key=name,
                        default_branch="main",
                        secret_hash=None,
                        secret_sealed=None,
                        created_at=end,
                        updated_at=end,
                        version=1,
                    )
                )
            rows: list[dict[str, Any]] = []
            for n in range(count):
                opened = end - timedelta(hours=rng.uniform(4, 90 * 24))
                first = opened + timedelta(hours=rng.expovariate(1 / 6))
                merged = first + timedelta(hours=rng.expovariate(1 / 20))
                lines = int(rng.lognormvariate(4.5, 1.2))
                rows.append(
                    {
                        "id": new_id(),
                        "repository_id": repos[n % 2],
                        "project_id": project_id,
                        "number": n // 2 + 1,
                        "title": f"Change {n}",
                        "body": "",
                        "state": "merged" if merged < end else "approved",
                        "draft": False,
                        "opened_at": opened,
                        "ready_at": opened,
                        "first_review_at": first if first < end else None,
                        "approved_at": first if first < end else None,
                        "merged_at": merged if merged < end else None,
                        "review_rounds": rng.choice((0, 0, 0, 1, 1, 2)),
                        "approved": rng.random() > 0.08,
                        "additions": int(lines * 0.7),
                        "deletions": lines - int(lines * 0.7),
                        "review_requests": [],
                        "author_is_bot": False,
                        "created_at": end,
                        "updated_at": end,
                        "version": 1,
                    }
                )
            for start in range(0, len(rows), 2000):
                await session.execute(insert(PullRequest), rows[start : start + 2000])
        async with db.write_engine.connect() as conn:
            await conn.execute(text("ANALYZE pull_requests"))
            await conn.commit()
    finally:
        await db.dispose()


async def measure_metrics(
    setup: Setup, workdir: Path, *, count: int, seconds: float, say: Any
) -> dict[str, Any]:
    await fill_metrics_project(setup, count)
    server = ApiServer(
        setup.url, workdir / "api-metrics", worker=False, secret_key=setup.secret_key
    )
    await server.start()
    today = datetime.now(UTC).date()
    params = {"from": (today - timedelta(days=95)).isoformat(), "to": today.isoformat()}
    latencies: list[float] = []
    load_before = uptime()
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {setup.token}"}, timeout=30
    ) as client:
        answer = await client.get("/api/v1/projects/MET/metrics/reviews", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        for _ in range(3):  # warm up
            await client.get("/api/v1/projects/MET/metrics/reviews", params=params)
        cpu = CpuWindow({"takt serve": [server.pid]}, setup.url)
        await cpu.start()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            response = await client.get("/api/v1/projects/MET/metrics/reviews", params=params)
            latencies.append(time.perf_counter() - sent)
            assert response.status_code == 200
        used = await cpu.stop()
    load_after = uptime()
    await server.stop()
    latencies.sort()
    overall = body["overall"]
    result = {
        "pull_requests": count,
        "counted": {
            "first_reviews": overall["time_to_first_review"]["count"],
            "merged": overall["merged"],
        },
        "requests": len(latencies),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "cpu_ms_per_request": per_unit(used, len(latencies)),
        "uptime_before": load_before,
        "uptime_after": load_after,
    }
    say(
        f"  metrics over {count} pull requests ({overall['merged']} merged in the period): "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
    )
    return result


@dataclass
class Options:
    postgres_url: str = DEFAULT_PG
    rate: float = 200.0
    seconds: float = 20.0
    pull_requests: int = 20_000
    metrics_seconds: float = 10.0
    workdir: Path | None = None
    record: bool = False


async def run(options: Options, *, say: Any = print) -> dict[str, Any]:
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="takt-bench-reviews-"))
    say(f"bench.reviews on {options.postgres_url} ({uptime()})")
    setup = await set_up(options.postgres_url, secrets.token_urlsafe(48))
    document: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "goals": GOALS,
        "acceptance": await measure_acceptance(
            setup, workdir, rate=options.rate, seconds=options.seconds, say=say
        ),
    }
    document["processing"] = await measure_processing(setup, workdir, say=say)
    document["metrics"] = await measure_metrics(
        setup, workdir, count=options.pull_requests, seconds=options.metrics_seconds, say=say
    )
    return document


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reviews", description=__doc__)
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="(re)created: it is DROPPED")
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pull-requests", type=int, default=20_000)
    parser.add_argument("--metrics-seconds", type=float, default=10.0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    options = Options(
        postgres_url=args.postgres_url,
        rate=args.rate,
        seconds=args.seconds,
        pull_requests=args.pull_requests,
        metrics_seconds=args.metrics_seconds,
        record=args.record,
    )
    document = asyncio.run(run(options))
    text = json.dumps(document, indent=2, default=str)
    print(text)
    if options.record:
        out = Path(__file__).with_name("results") / f"{document['date'][:10]}-reviews.json"
        out.write_text(text + "\n")
        print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
