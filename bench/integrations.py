"""Measure the integrations (issue 13, Speed): `python -m bench.integrations`.

Three measurements, each on a fresh database filled with dataset S (`bench.generate`), all
traffic on loopback, webhooks received by `bench.receiver` in this process:

- **latency**: a client creates items through the API at a steady rate (open loop: each write
  leaves on schedule, whether the previous one answered or not); a webhook of the project takes
  `item.created`; latency is a delivery's arrival at the receiver less its write's answer (the
  write committed just before answering), matched by the item key in the body. `takt serve` runs
  its embedded worker. On PostgreSQL and SQLite.
- **throughput**: 5,000 events (`item.updated`, bulk-written in-process through `emit_each`)
  relayed in-process into 5,000 pending deliveries whose jobs are held back; then N `takt worker`
  processes start, the jobs fall due at one moment, and the time until the database shows every
  delivery succeeded gives deliveries per second. The receiver counts duplicates. PostgreSQL.
- **fanout**: one `takt serve --no-worker` process, 1,000 live-stream clients
  (`bench.sse_clients`, raw asyncio connections in a few processes) on one project's
  `text/event-stream`; items created there at a steady rate; fan-out latency is each event's
  arrival at each client less its write's answer. Also the server's RSS before and after the
  clients connect, and R1 (E1/E0 req/s, `bench.run`'s endpoints and load generator) without and
  with the clients connected. PostgreSQL.

`--record` writes bench/results/<date>-integrations.json and appends a section to RESULTS.md.
See bench/README.md (Integrations).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
from sqlalchemy import Update, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import dataset, report
from bench.endpoints import CREATE_PROJECT, Endpoint, plan
from bench.generate import generate
from bench.load import LoadResult, drive, lanes_for, wrk_threads
from bench.rawhttp import Connections
from bench.receiver import Receiver
from bench.run import choose_generator, database_version
from bench.server import Server, server_environment
from takt.config import Settings
from takt.core.db import Database, is_sqlite_url
from takt.core.jobs import Job
from takt.webhooks.jobs import DELIVER

Say = Callable[[str], None]
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_integrations"
LATENCY_PROJECT = CREATE_PROJECT  # P002: bench.run's E6 creates items there too
THROUGHPUT_PROJECT = "P003"
FANOUT_PROJECT = "P005"
# A write not answered by then is given up (counted as failed): a saturated server's queue would
# otherwise stretch a 30 s run to minutes.
WRITE_TIMEOUT_SECONDS = 20
GOALS = {
    "latency_p99_ms": 250,
    "deliveries_per_second_3_workers": 500,
    "fanout_p99_ms": 500,
    "memory_per_1000_clients_mb": 50,
}


def quiet(_line: str) -> None:
    pass


def now() -> float:
    return time.time()


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(values: list[float], missing: int = 0) -> dict[str, float | int | None]:
    """p50/p99/max (ms) of latencies in seconds. `missing`: samples that never came (a
    delivery still queued when the wait ended), ranked after every value: a percentile that
    falls among them is None (longer than the wait)."""
    ordered = sorted(values)
    total = len(ordered) + missing

    def rank(percent: float) -> float | None:
        if not total:
            return None
        position = max(1, math.ceil(percent / 100 * total))
        return ms(ordered[position - 1]) if position <= len(ordered) else None

    return {
        "count": len(ordered),
        "missing": missing,
        "p50_ms": rank(50),
        "p99_ms": rank(99),
        "max_ms": ms(ordered[-1]) if ordered and not missing else None,
    }


def _ms(value: float | None) -> str:
    return "n/a (not delivered within the wait)" if value is None else f"{value:,.1f} ms"


# CPU accounting ------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


async def postgres_backends(url: str | None) -> dict[int, float]:
    """The server processes of PostgreSQL connections to `url`'s database (none for SQLite)
    and the CPU seconds each has used so far."""
    if url is None or is_sqlite_url(url):
        return {}
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            pids = await conn.scalars(
                text(
                    "select pid from pg_stat_activity"
                    " where datname = current_database() and pid <> pg_backend_pid()"
                )
            )
            found = list(pids)
    finally:
        await engine.dispose()
    return {pid: process_cpu(pid) for pid in found}


class CpuWindow:
    """CPU seconds each named process (and the machine) used between `start` and `stop`; with
    a PostgreSQL `database_url`, also its connections' server processes (those open at the
    start or at the end: a connection opened and closed in between is counted with the rest)."""

    def __init__(self, processes: dict[str, list[int]], database_url: str | None = None) -> None:
        self.processes = processes
        self.database_url = database_url
        self.before: dict[str, float] = {}
        self.backends_before: dict[int, float] = {}
        self.machine_before = (0.0, 0.0)
        self.seconds = 0.0

    def _sample(self) -> dict[str, float]:
        found = {name: sum(map(process_cpu, pids)) for name, pids in self.processes.items()}
        found["bench (this process)"] = sum(os.times()[:2])
        return found

    async def start(self) -> None:
        self.backends_before = await postgres_backends(self.database_url)
        self.before = self._sample()
        self.machine_before = machine_cpu()
        self.seconds = time.monotonic()

    async def stop(self) -> dict[str, Any]:
        after = self._sample()
        busy, total = machine_cpu()
        wall = time.monotonic() - self.seconds
        used = {k: round(after[k] - self.before.get(k, 0.0), 1) for k in after}
        if self.database_url and not is_sqlite_url(self.database_url):
            now_used = await postgres_backends(self.database_url)
            gone = set(self.backends_before) - set(now_used)
            now_used.update({pid: process_cpu(pid) for pid in gone})
            backends = sum(
                max(0.0, spent - self.backends_before.get(pid, 0.0))
                for pid, spent in now_used.items()
            )
            used["PostgreSQL (this database's connections)"] = round(backends, 1)
        machine_busy = busy - self.machine_before[0]
        used["everything else (other work on the machine)"] = round(
            max(0.0, machine_busy - sum(used.values())), 1
        )
        return {
            "wall_seconds": round(wall, 1),
            "cores": os.cpu_count(),
            "machine_busy_cpu_seconds": round(machine_busy, 1),
            "machine_cpu_seconds": round(total - self.machine_before[1], 1),
            "cpu_seconds": used,
        }


def per_unit(cpu: dict[str, Any], units: int) -> dict[str, float | None]:
    """CPU milliseconds per unit of work of each measured process (not the rest of the
    machine's)."""
    return {
        name: round(spent * 1000 / units, 2) if units else None
        for name, spent in cpu["cpu_seconds"].items()
        if not name.startswith("everything")
    }


# Databases and processes ---------------------------------------------------------------------


def log_levels(path: Path) -> Counter[str]:
    """Lines of a Takt log (JSON lines, `"level": "error"`…) by level, lower-cased."""
    found: Counter[str] = Counter()
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        try:
            level = orjson.loads(line).get("level")
        except (orjson.JSONDecodeError, AttributeError):
            continue
        if isinstance(level, str):
            found[level.lower()] += 1
    return found


async def fresh_postgres(url: str) -> None:
    """Drop and create the database of `url` (its server's `postgres` database as admin)."""
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


async def fresh_database(kind: str, postgres_url: str, workdir: Path, say: Say) -> str:
    """A new database with dataset S (migrated by `bench.generate`); its URL."""
    if kind == "sqlite":
        path = workdir / f"integrations-{secrets.token_hex(4)}.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = postgres_url
        await fresh_postgres(url)
    started = time.monotonic()
    await asyncio.to_thread(generate, url, "S", quiet=True)
    say(f"  fresh {kind} database with dataset S in {time.monotonic() - started:.1f} s")
    return url


class ApiServer(Server):
    """`takt serve` like bench.server.Server, with or without its embedded worker and with
    webhooks allowed to loopback."""

    def __init__(
        self, database_url: str, workdir: Path, *, worker: bool, secret_key: str | None = None
    ) -> None:
        super().__init__(database_url, workdir)
        self.worker = worker
        if secret_key:
            self.secret_key = secret_key

    def environment(self) -> dict[str, str]:
        env = server_environment(self.database_url, self.secret_key, self.workdir)
        env["TAKT_WEBHOOK_ALLOW_PRIVATE"] = "true"
        return env

    async def start(self, timeout: float = 60) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        flag = "--worker" if self.worker else "--no-worker"
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "takt.cli",
            "serve",
            flag,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            cwd=self.workdir,
            env=self.environment(),
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline and self.process.returncode is None:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(f"takt serve did not come up:\n{self.log_tail()}")


class WorkerProcess:
    """One `takt worker` (default settings), its log in `<workdir>/worker-<n>.log`."""

    def __init__(self, database_url: str, secret_key: str, workdir: Path, number: int) -> None:
        self.env = server_environment(database_url, secret_key, workdir)
        self.env.update(TAKT_WEBHOOK_ALLOW_PRIVATE="true", TAKT_LOG_LEVEL="INFO")
        self.workdir = workdir
        self.log_path = workdir / f"worker-{number}.log"
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "takt.cli",
            "worker",
            cwd=self.workdir,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )

    def started(self) -> bool:
        return "worker started" in self.log_path.read_text(errors="replace")

    def log_count(self, needle: str) -> int:
        return self.log_path.read_text(errors="replace").count(needle)

    def log_levels(self) -> Counter[str]:
        return log_levels(self.log_path)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


async def create_webhook(
    client: httpx.AsyncClient, project: str, url: str, event_types: list[str]
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{project}/webhooks",
        json={"url": url, "event_types": event_types, "kind": "standard"},
    )
    if response.status_code != 201:
        raise RuntimeError(f"creating a webhook: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


# Steady writes --------------------------------------------------------------------------------


@dataclass
class Write:
    index: int
    sent: float
    answered: float = 0.0
    status: int = 0
    key: str = ""
    error: str = ""


async def steady_writes(
    connections: Connections, project: str, *, rate: float, seconds: float, label: str
) -> list[Write]:
    """Create `rate * seconds` items, one every 1/rate s on schedule (open loop: a write that
    finds every connection busy waits for one, and that wait counts in its answer time)."""
    count = max(1, round(rate * seconds))
    writes: list[Write] = []
    path = f"/api/v1/projects/{project}/items"

    async def one(write: Write) -> None:
        body = orjson.dumps({"title": f"{label} {write.index}", "type": "task", "estimate": 1})
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_SECONDS):
                status, answer = await connections.post(path, body)
        except TimeoutError:
            write.error = f"no answer within {WRITE_TIMEOUT_SECONDS} s"
            return
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            write.error = f"{type(exc).__name__}: {exc}"
            return
        write.answered = now()
        write.status = status
        if status == 201:
            write.key = str(orjson.loads(answer)["key"])
        else:
            write.error = answer[:200].decode(errors="replace")

    tasks = []
    start = time.perf_counter() + 0.05
    for index in range(count):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        write = Write(index, now())
        writes.append(write)
        tasks.append(asyncio.create_task(one(write)))
    await asyncio.gather(*tasks)
    return writes


def write_summary(writes: list[Write], rate: float) -> dict[str, Any]:
    done = [w for w in writes if w.key]
    span = max(w.sent for w in writes) - min(w.sent for w in writes) if len(writes) > 1 else 0
    return {
        "target_rate": rate,
        "sent": len(writes),
        "succeeded": len(done),
        "failed": len(writes) - len(done),
        "first_errors": sorted({w.error or str(w.status) for w in writes if not w.key})[:3],
        "send_rate": round((len(writes) - 1) / span, 1) if span else None,
        "response": summary([w.answered - w.sent for w in done]),
    }


def http_client(base_url: str, token: str, connections: int = 64) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=60,
    )


async def wait_until(check: Callable[[], Awaitable[bool] | bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.1)
    return False


# 1. Latency from commit to delivery ----------------------------------------------------------


class ArrivalKeys:
    """Item key (from the body's event envelope) -> arrival times, each body parsed once as
    `update` catches up with the receiver (the run polls it ten times a second)."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.seen = 0
        self.times: dict[str, list[float]] = {}

    def update(self) -> dict[str, list[float]]:
        arrivals = self.receiver.arrivals
        for arrival in arrivals[self.seen :]:
            envelope = orjson.loads(arrival.body)["data"]
            key = envelope.get("data", {}).get("key")
            if key:
                self.times.setdefault(str(key), []).append(arrival.at)
        self.seen = len(arrivals)
        return self.times


def verify_signatures(receiver: Receiver, secret: str) -> int:
    """Deliveries whose Standard Webhooks signature doesn't verify (the reference library)."""
    from standardwebhooks import Webhook as Verifier

    verifier = Verifier(secret)
    bad = 0
    for arrival in receiver.arrivals:
        try:
            verifier.verify(arrival.body, arrival.headers)
        except Exception:
            bad += 1
    return bad


async def measure_latency(
    kind: str,
    postgres_url: str,
    workdir: Path,
    *,
    rate: float,
    seconds: float,
    drain: float = 30.0,
    workers: int = 0,
    say: Say,
) -> dict[str, Any]:
    """Item creates at `rate` for `seconds`, then up to `drain` seconds for the last
    deliveries; a write whose delivery hasn't arrived by then counts as not delivered (a
    saturated server's backlog would otherwise keep the run going for minutes). With
    `workers`, `takt serve --no-worker` and that many `takt worker` processes (PostgreSQL's
    deployment) instead of the embedded worker."""
    runs = f"{workers} `takt worker` process(es)" if workers else "embedded worker"
    say(f"latency ({kind}): {rate:g} item writes/s for {seconds:g} s, {runs}")
    url = await fresh_database(kind, postgres_url, workdir, say)
    receiver = Receiver()
    await receiver.start()
    run_dir = workdir / f"latency-{kind}-{rate:g}{f'-w{workers}' if workers else ''}"
    server = ApiServer(url, run_dir, worker=not workers)
    await server.start()
    processes = {"takt serve (API + embedded worker)": [server.pid]}
    started: list[WorkerProcess] = []
    try:
        if workers:
            processes = {"takt serve (API)": [server.pid]}
            for number in range(workers):
                process = WorkerProcess(url, server.secret_key, run_dir, number + 1)
                started.append(process)
                await process.start()
            if not await wait_until(lambda: all(p.started() for p in started), 60):
                raise RuntimeError("the workers did not start in 60 s")
            processes["takt worker processes"] = [p.pid for p in started]
        token = await server.login()
        async with http_client(server.base_url, token) as client:
            hook = await create_webhook(
                client, LATENCY_PROJECT, receiver.url("/latency"), ["item.created"]
            )
        connections = Connections(server.port, token)
        try:
            # Warm-up: connections, caches, the worker's first claims; not measured.
            warm = await steady_writes(
                connections, LATENCY_PROJECT, rate=rate, seconds=min(3.0, seconds), label="warm-up"
            )
            await wait_until(lambda: len(receiver.arrivals) >= len(warm), 15)
            await asyncio.sleep(1)
            receiver.clear()
            cpu = CpuWindow(processes, url)
            await cpu.start()
            writes = await steady_writes(
                connections, LATENCY_PROJECT, rate=rate, seconds=seconds, label="latency"
            )
            written_at = now()
            keys = {w.key for w in writes if w.key}
            index = ArrivalKeys(receiver)

            def all_in() -> bool:
                return keys <= index.update().keys()

            await wait_until(all_in, drain)
            waited = now() - written_at
            cpu_split = await cpu.stop()
        finally:
            await connections.close()
        by_key = index.update()
        done = [w for w in writes if w.key]
        latencies = [by_key[w.key][0] - w.answered for w in done if w.key in by_key]
        from_sent = [by_key[w.key][0] - w.sent for w in done if w.key in by_key]
        missing = len(keys - by_key.keys())
        result: dict[str, Any] = {
            "database": kind,
            "database_version": await database_version(url),
            "worker_processes": workers,
            "writes": write_summary(writes, rate),
            "delivered": len(keys & by_key.keys()),
            "not_delivered": missing,
            "seconds_waited_after_last_write": round(waited, 1),
            "duplicates": receiver.duplicates(),
            "bad_signatures": verify_signatures(receiver, hook["secret"]),
            "latency_from_answer": summary(latencies, missing),
            "latency_from_send": summary(from_sent, missing),
            "cpu": cpu_split,
            # Per item: its create (API) and its delivery (the embedded worker, or the workers).
            "cpu_ms_per_item": per_unit(cpu_split, len(done)),
            "server_peak_rss_mb": server.memory_mb()["peak_rss_mb"],
            "server_log_errors": log_levels(server.log_path)["error"],
            "worker_log_errors": sum(p.log_levels()["error"] for p in started),
        }
    finally:
        for process in started:
            await process.stop()
        await server.stop()
        await receiver.stop()
    lat = result["latency_from_answer"]
    say(
        f"  delivered {result['delivered']}/{len(keys)}: p50 {_ms(lat['p50_ms'])}, "
        f"p99 {_ms(lat['p99_ms'])}, max {_ms(lat['max_ms'])} (from the write's answer)"
    )
    return result


# 2. Deliveries per second with N workers ------------------------------------------------------


async def preload(
    url: str, secret_key: str, workdir: Path, *, events: int, hold_until: datetime, say: Say
) -> int:
    """`events` item.updated events of THROUGHPUT_PROJECT, relayed into deliveries whose jobs
    wait until `hold_until`; returns the number of deliveries."""
    from takt.core.events import emit_each
    from takt.items.events import ItemChanges, ItemUpdated
    from takt.webhooks.relay import relay_batch

    settings = Settings(_env_file=None, database_url=url, secret_key=secret_key, data_dir=workdir)
    db = Database.from_settings(settings)
    try:
        async with db.transaction(write=False) as session:
            project_id = await session.scalar(
                text("select id from projects where key = :key"), {"key": THROUGHPUT_PROJECT}
            )
            actor_id = await session.scalar(
                text("select id from users where username = :name"), {"name": dataset.LOGIN}
            )
            items = (
                await session.execute(
                    text("select id, key from items where project_id = :p order by key limit 200"),
                    {"p": project_id},
                )
            ).all()
        started = time.monotonic()
        for first in range(0, events, 500):
            entries = []
            for n in range(first, min(first + 500, events)):
                item_id, key = items[n % len(items)]
                change = ItemChanges(estimate=(float(n % 5), float(n % 5 + 1)))
                entries.append((str(item_id), ItemUpdated(key=str(key)), change))
            async with db.transaction() as session:
                await emit_each(session, project_id, actor_id, entries)
        written = time.monotonic()
        more = True
        while more:
            async with db.transaction() as session:
                more = await relay_batch(session)
        async with db.transaction() as session:
            deliveries = int(await session.scalar(text("select count(*) from webhook_deliveries")))
            await session.execute(hold_jobs(hold_until))
        say(
            f"  {events} events written in {written - started:.1f} s, relayed into "
            f"{deliveries} deliveries in {time.monotonic() - written:.1f} s (in-process)"
        )
        return deliveries
    finally:
        await db.dispose()


def hold_jobs(until: datetime) -> Update:
    """Every delivery job falls due at `until` (through the model: its column type writes
    the timestamp as the claim compares it, on both databases)."""
    return update(Job).where(Job.kind == DELIVER).values(run_at=until)


async def count_states(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("select state, count(*) from webhook_deliveries group by state")
                )
            ).all()
            attempts = await conn.scalar(text("select count(*) from webhook_attempts"))
    finally:
        await engine.dispose()
    found = {str(state): int(count) for state, count in rows}
    found["attempts"] = int(attempts or 0)
    return found


async def measure_throughput(
    postgres_url: str,
    workdir: Path,
    *,
    workers: int,
    events: int,
    webhooks: int,
    limit: float = 90.0,
    say: Say,
    kind: str = "postgresql",
) -> dict[str, Any]:
    say(
        f"throughput: {events} events x {webhooks} webhook(s), {workers} `takt worker` "
        "process(es), default settings"
    )
    url = await fresh_database(kind, postgres_url, workdir, say)
    receiver = Receiver()
    await receiver.start()
    run_dir = workdir / f"throughput-{kind}-{workers}"
    server = ApiServer(url, run_dir, worker=False)
    await server.start()
    try:
        token = await server.login()
        async with http_client(server.base_url, token) as client:
            for n in range(webhooks):
                await create_webhook(
                    client, THROUGHPUT_PROJECT, receiver.url(f"/w{n}"), ["item.updated"]
                )
    finally:
        await server.stop()
    processes: list[WorkerProcess] = []
    engine = create_async_engine(url)
    try:
        per_hook = events // webhooks
        expected = await preload(
            url,
            server.secret_key,
            run_dir,
            events=per_hook,
            hold_until=datetime.now(UTC) + timedelta(days=1),
            say=say,
        )
        processes = [WorkerProcess(url, server.secret_key, run_dir, n + 1) for n in range(workers)]
        for process in processes:
            await process.start()
        if not await wait_until(lambda: all(p.started() for p in processes), 60):
            raise RuntimeError("the workers did not start in 60 s")
        # The jobs fall due together, 2 s from now: every worker is waiting by then (an idle
        # worker looks at the queue at least every TAKT_WORKER_POLL_SECONDS, 1 s by default).
        due = datetime.now(UTC) + timedelta(seconds=2)
        async with engine.begin() as conn:
            await conn.execute(hold_jobs(due))
        cpu = CpuWindow({"takt worker processes": [p.pid for p in processes]}, url)
        await asyncio.sleep(max(0.0, due.timestamp() - now() - 0.5))
        await cpu.start()

        succeeded = 0

        async def all_succeeded() -> bool:
            nonlocal succeeded
            async with engine.connect() as conn:
                done = await conn.scalar(
                    text("select count(*) from webhook_deliveries where state = 'succeeded'")
                )
            succeeded = int(done or 0)
            return succeeded >= expected

        finished = await wait_until(all_succeeded, limit)
        done_at = now()
        cpu_split = await cpu.stop()
        await asyncio.sleep(1)  # a late duplicate would show up here
        states = await count_states(url)
    finally:
        for process in processes:
            await process.stop()
        await engine.dispose()
        await receiver.stop()
    arrivals = sorted(a.at for a in receiver.arrivals)
    start = due.timestamp()
    result: dict[str, Any] = {
        "workers": workers,
        "webhooks": webhooks,
        "events": per_hook,
        "deliveries": expected,
        "time_limit_seconds": limit,
        "all_succeeded": finished,
        "states": states,
        "received": len(arrivals),
        "duplicates": receiver.duplicates(),
        "seconds": round(done_at - start, 2),
        "seconds_due_to_last_arrival": round(arrivals[-1] - start, 2) if arrivals else None,
        "seconds_first_to_last_arrival": round(arrivals[-1] - arrivals[0], 2) if arrivals else None,
        # All of them over the time they took, or those done within the limit over the limit.
        "succeeded_in_time": succeeded,
        # The machine-independent part: CPU per delivery (the rate follows from the CPU free).
        "cpu_ms_per_delivery": per_unit(cpu_split, succeeded),
        "deliveries_per_second": round(succeeded / (done_at - start), 1),
        "cpu": cpu_split,
        "worker_log_errors": sum(p.log_levels()["error"] for p in processes),
        "worker_log_warnings": sum(p.log_levels()["warning"] for p in processes),
    }
    say(
        f"  {result['deliveries_per_second']} deliveries/s ({succeeded} of {expected} in "
        f"{result['seconds']} s), duplicates {result['duplicates']}"
    )
    return result


# 3. Live-stream fan-out -----------------------------------------------------------------------


class ClientProcess:
    """`python -m bench.sse_clients` with `count` streams (see its docstring)."""

    def __init__(self, port: int, path: str, token: str, count: int) -> None:
        self.args = ["--port", str(port), "--path", path, "--clients", str(count)]
        self.token = token
        self.count = count
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.sse_clients",
            *self.args,
            env={**os.environ, "BENCH_TOKEN": self.token},
            cwd=Path(__file__).parent.parent,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**30,
        )

    async def ready(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        return (await self.process.stdout.readline()).decode().strip()

    async def finish(self) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        await self.process.wait()
        result: dict[str, Any] = orjson.loads(line) if line else {"error": "no result"}
        return result


READ_CONCURRENCY = 16  # bench.run's default


async def read_plan(server: Server, token: str, generator: str) -> dict[str, Endpoint]:
    """bench.run's endpoints, resolved once on the server's dataset."""
    lanes = lanes_for(generator, READ_CONCURRENCY, wrk_threads(READ_CONCURRENCY))
    per_lane = 64 if generator == "wrk" else 4
    async with http_client(server.base_url, token) as client:
        found = await plan(client, dataset.SIZES["S"], lanes=lanes, per_lane=per_lane)
    return {e.id: e for e in found}


async def read_ratio(
    server: Server,
    token: str,
    generator: str,
    endpoints: dict[str, Endpoint],
    *,
    duration: float,
    say: Say,
) -> dict[str, Any]:
    """R1 = E1/E0 req/s as bench.run measures them (same endpoints, generator, concurrency,
    warm-up, and a wait for an idle server after each)."""
    found: dict[str, Any] = {}
    for key in ("E0", "E1"):
        requests = endpoints[key].requests
        for seconds in (min(2.0, duration / 2), duration):  # warm-up, then the measured run
            load: LoadResult = await drive(
                generator,
                server.base_url,
                token,
                requests,
                duration=seconds,
                concurrency=READ_CONCURRENCY,
            )
            await server.wait_idle()
        found[key] = {
            "rps": round(load.rps, 1),
            "p50_ms": round(load.p50_ms, 2),
            "p99_ms": round(load.p99_ms, 2),
            "errors": load.errors,
        }
    found["R1"] = round(found["E1"]["rps"] / found["E0"]["rps"], 3) if found["E0"]["rps"] else None
    say(f"  E0 {found['E0']['rps']} req/s, E1 {found['E1']['rps']} req/s, R1 {found['R1']}")
    return found


async def measure_fanout(
    postgres_url: str,
    workdir: Path,
    *,
    clients: int,
    client_processes: int,
    rate: float,
    seconds: float,
    ratio_seconds: float,
    generator: str,
    stream: str,
    warm_stream: bool = True,
    settle: float = 3.0,
    say: Say,
    kind: str = "postgresql",
) -> dict[str, Any]:
    say(
        f"fanout: {clients} stream clients in {client_processes} process(es), {rate:g} writes/s "
        f"for {seconds:g} s; one `takt serve --no-worker`"
    )
    url = await fresh_database(kind, postgres_url, workdir, say)
    server = ApiServer(url, workdir / f"fanout-{kind}", worker=False)
    await server.start()
    groups: list[ClientProcess] = []
    try:
        token = await server.login()
        # A fresh server's first E1 runs are slower (its pool's connections prepare and plan
        # their statements): one unrecorded round first, so "before" isn't a cold figure.
        reads = await read_plan(server, token, generator)
        if ratio_seconds >= 5:  # not for a trial's short rounds
            await read_ratio(server, token, generator, reads, duration=5.0, say=quiet)
        say("  R1 without stream clients")
        alone = await read_ratio(server, token, generator, reads, duration=ratio_seconds, say=say)
        await asyncio.sleep(settle)
        rss_before = server.memory_mb()["rss_mb"]
        path = (
            "/api/v1/events/stream"
            if stream == "all"
            else f"/api/v1/projects/{FANOUT_PROJECT}/events"
        )
        if warm_stream:
            # One stream first, alone: it starts the process's broadcaster (see README: opening
            # many streams at once on a cold server starved the connection pool).
            async with (
                http_client(server.base_url, token) as client,
                client.stream("GET", path, headers={"Accept": "text/event-stream"}) as first,
            ):
                if first.status_code != 200:
                    raise RuntimeError(f"the first stream answered {first.status_code}")
        shares = [clients // client_processes] * client_processes
        shares[0] += clients - sum(shares)
        groups = [ClientProcess(server.port, path, token, n) for n in shares]
        connect_started = time.monotonic()
        for group in groups:
            await group.start()
        answers = [await group.ready() for group in groups]
        connect_seconds = time.monotonic() - connect_started
        say(f"  clients: {answers} in {connect_seconds:.1f} s")
        if not all(a.startswith("ready") for a in answers):
            raise RuntimeError(f"stream clients failed: {answers}\n{server.log_tail()}")
        await asyncio.sleep(settle)  # every stream past its first access check
        rss_connected = server.memory_mb()["rss_mb"]
        cpu = CpuWindow(
            {
                "takt serve (API, no worker)": [server.pid],
                "stream clients": [g.pid for g in groups],
            },
            url,
        )
        await cpu.start()
        connections = Connections(server.port, token)
        try:
            writes = await steady_writes(
                connections, FANOUT_PROJECT, rate=rate, seconds=seconds, label="fanout"
            )
        finally:
            await connections.close()
        await asyncio.sleep(settle)  # the last events reach every client
        cpu_split = await cpu.stop()
        rss_after_events = server.memory_mb()["rss_mb"]
        say("  R1 with the stream clients connected")
        crowded = await read_ratio(server, token, generator, reads, duration=ratio_seconds, say=say)
        rss_after_reads = server.memory_mb()
        results = [await group.finish() for group in groups]
        # Again without them: the machine's drift between the first and the second figure
        # shows here (a shared machine moves E0 by a third from one minute to the next).
        await asyncio.sleep(settle)
        say("  R1 again, the clients gone")
        after = await read_ratio(server, token, generator, reads, duration=ratio_seconds, say=say)
    finally:
        for group in groups:
            if group.process is not None and group.process.returncode is None:
                group.process.kill()
                await group.process.wait()
        await server.stop()
    answered = {w.key: w for w in writes if w.key}
    per_pair: list[float] = []
    per_pair_sent: list[float] = []
    last_client: list[float] = []
    received = 0
    for key, write in answered.items():
        times = [t for r in results for t in r.get("arrivals", {}).get(key, [])]
        received += len(times)
        per_pair += [t - write.answered for t in times]
        per_pair_sent += [t - write.sent for t in times]
        if len(times) == clients:
            last_client.append(max(times) - write.answered)
    expected = len(answered) * clients
    result: dict[str, Any] = {
        "clients": clients,
        "client_processes": client_processes,
        "stream": path,
        "connect_seconds": round(connect_seconds, 1),
        "writes": write_summary(writes, rate),
        "frames_expected": expected,
        "frames_received": received,
        "events_reaching_every_client": len(last_client),
        "streams_ended_by_server": sum(int(r.get("ended", 0)) for r in results),
        "client_errors": sum(int(r.get("error_count", 0)) for r in results),
        "fanout_every_client_from_answer": summary(last_client, len(answered) - len(last_client)),
        "per_client_from_answer": summary(per_pair, expected - received),
        "per_client_from_send": summary(per_pair_sent, expected - received),
        "rss_mb": {
            "before_clients": rss_before,
            "clients_connected": rss_connected,
            "after_events": rss_after_events,
            "after_reads_with_clients": rss_after_reads["rss_mb"],
            "peak": rss_after_reads["peak_rss_mb"],
        },
        "memory_per_1000_clients_mb": round((rss_connected - rss_before) * 1000 / clients, 1),
        "cpu": cpu_split,
        "settle_seconds": settle,
        "cpu_us_per_frame": {
            name: round(spent * 1e6 / received, 1) if received else None
            for name, spent in cpu_split["cpu_seconds"].items()
            if not name.startswith("everything")
        },
        "client_cpu_seconds_total": sum(float(r.get("cpu_seconds", 0)) for r in results),
        "read_ratio_without_clients": alone,
        "read_ratio_with_clients": crowded,
        "read_ratio_after_clients": after,
        "server_log_errors": log_levels(server.log_path)["error"],
    }
    fan = result["fanout_every_client_from_answer"]
    say(
        f"  {received}/{expected} frames; to every client p50 {fan['p50_ms']} ms, "
        f"p99 {fan['p99_ms']} ms; RSS +{result['memory_per_1000_clients_mb']} MB per 1,000"
    )
    return result


# Report ---------------------------------------------------------------------------------------


def _met(value: float | None, goal: float, *, at_least: bool = False, missing: bool = False) -> str:
    if value is None:
        return "**not met**" if missing else "n/a"
    return "met" if (value >= goal if at_least else value <= goal) else "**not met**"


def markdown(document: dict[str, Any]) -> str:
    m = document["machine"]
    lines = [
        f"## {document['date']} · integrations (issue 13): webhooks and the live stream",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}; shared with other work (load average 1 min before/after: "
        f"{document['load_average']['before']}/{document['load_average']['after']})",
        f"- Commit: `{document['commit']}`",
        f"- Command: `{document['command']}`",
        f"- Raw figures: `{document.get('raw', '')}`",
        "",
        "| Measurement | Figure | Goal | Met |",
        "|---|---|---|---|",
    ]
    for entry in document.get("latency", []):
        lat = entry["latency_from_answer"]
        writes = entry["writes"]
        goal = GOALS["latency_p99_ms"]
        late = (
            f" ({entry['not_delivered']} still queued {entry['seconds_waited_after_last_write']} s"
            " after the last write)"
            if entry["not_delivered"]
            else ""
        )
        errors = entry.get("server_log_errors", 0) + entry.get("worker_log_errors", 0)
        logged = f", {errors} errors logged" if errors else ""
        lines.append(
            f"| Commit → delivery, {entry['database_version']}, {_runs(entry)}, "
            f"{writes['target_rate']:g} writes/s ({writes['send_rate']} sent/s, "
            f"{writes['succeeded']} items, write p99 {_ms(writes['response']['p99_ms'])}) | "
            f"p50 {_ms(lat['p50_ms'])}, p99 {_ms(lat['p99_ms'])}, max {_ms(lat['max_ms'])}; "
            f"delivered {entry['delivered']}/{entry['writes']['succeeded']}{late}, duplicates "
            f"{entry['duplicates']}{logged} | p99 ≤ 250 ms | "
            f"{_met(lat['p99_ms'], goal, missing=bool(entry['not_delivered']))} |"
        )
    for entry in document.get("throughput", []):
        wanted = "≥ 500/s" if entry["workers"] == 3 else "(1 worker: no goal)"
        rate = entry["deliveries_per_second"]
        goal_rate = GOALS["deliveries_per_second_3_workers"]
        met = _met(rate, goal_rate, at_least=True) if entry["workers"] == 3 else ""
        errors = entry.get("worker_log_errors", 0)
        logged = f", {errors} errors logged" if errors else ""
        lines.append(
            f"| Deliveries/s, {entry['workers']} worker(s), {entry['deliveries']} deliveries to "
            f"{entry['webhooks']} endpoint(s) | {entry['deliveries_per_second']}/s "
            f"({entry['succeeded_in_time']} succeeded in {entry['seconds']} s"
            f"{'' if entry['all_succeeded'] else ', time limit reached'}); duplicates "
            f"{entry['duplicates']}{logged} | {wanted} | {met} |"
        )
    fan = document.get("fanout")
    if fan:
        every = fan["fanout_every_client_from_answer"]
        per = fan["per_client_from_answer"]
        alone, crowded = fan["read_ratio_without_clients"], fan["read_ratio_with_clients"]
        per_1000 = fan["memory_per_1000_clients_mb"]
        lines += [
            f"| Fan-out to all {fan['clients']:,} clients (commit → the last client) | "
            f"p50 {_ms(every['p50_ms'])}, p99 {_ms(every['p99_ms'])}, max {_ms(every['max_ms'])} "
            f"(per client: p50 {_ms(per['p50_ms'])}, p99 {_ms(per['p99_ms'])}); "
            f"{fan['frames_received']:,}/{fan['frames_expected']:,} frames | p99 ≤ 500 ms | "
            f"{_met(every['p99_ms'], GOALS['fanout_p99_ms'], missing=True)} |",
            f"| Server RSS per 1,000 clients | {fan['memory_per_1000_clients_mb']} MB "
            f"({fan['rss_mb']['before_clients']} → {fan['rss_mb']['clients_connected']} MB) | "
            f"≤ 50 MB | {_met(per_1000, GOALS['memory_per_1000_clients_mb'])} |",
            f"| R1 = E1/E0 before / with / after the clients | {_r1(alone)} / {_r1(crowded)} / "
            f"{_r1(fan.get('read_ratio_after_clients'))} | unchanged | "
            f"with vs before {_unchanged(alone['R1'], crowded['R1'])}, with vs after "
            f"{_unchanged(_ratio_of(fan.get('read_ratio_after_clients')), crowded['R1'])} |",
        ]
    lines += [
        "",
        "CPU per unit of work (the machine-independent part), and CPU seconds used during each"
        " measured window (of cores x wall seconds):",
        "",
    ]
    for entry in document.get("latency", []):
        lines.append(
            f"- latency, {entry['database']}, {_runs(entry)}, "
            f"{entry['writes']['target_rate']:g}/s: per item "
            f"(create + delivery) {_units(entry.get('cpu_ms_per_item'), 'ms')}; "
            + _cpu_line(entry["cpu"])
        )
    for entry in document.get("throughput", []):
        lines.append(
            f"- throughput, {entry['workers']} worker(s): per delivery "
            f"{_units(entry.get('cpu_ms_per_delivery'), 'ms')}; " + _cpu_line(entry["cpu"])
        )
    if fan:
        lines.append(
            f"- fan-out (the writes and {fan.get('settle_seconds', 3)} s after): per frame "
            f"{_units(fan.get('cpu_us_per_frame'), 'µs')}; " + _cpu_line(fan["cpu"])
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def _runs(entry: dict[str, Any]) -> str:
    workers = entry.get("worker_processes") or 0
    return f"API + {workers} `takt worker`" if workers else "embedded worker"


def _units(per: dict[str, float | None] | None, unit: str) -> str:
    if not per:
        return "n/a"
    shown = {k: v for k, v in per.items() if not k.startswith("bench")}
    return ", ".join(f"{name} {value} {unit}" for name, value in shown.items())


def _cpu_line(cpu: dict[str, Any]) -> str:
    parts = ", ".join(f"{name} {spent}" for name, spent in cpu["cpu_seconds"].items())
    return (
        f"{parts} (machine busy {cpu['machine_busy_cpu_seconds']} of {cpu['machine_cpu_seconds']})"
    )


def _r1(found: dict[str, Any] | None) -> str:
    if not found:
        return "n/a"
    return f"{found['R1']} ({found['E1']['rps']}/{found['E0']['rps']})"


def _ratio_of(found: dict[str, Any] | None) -> float | None:
    return None if not found else found.get("R1")


def _unchanged(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "n/a"
    change = (after - before) / before
    return f"{change:+.0%}"


def record(document: dict[str, Any]) -> dict[str, str]:
    report.RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"{datetime.now(UTC):%Y-%m-%d}-integrations"
    path = report.RESULTS_DIR / f"{stem}.json"
    run = 1
    while path.exists():
        run += 1
        path = report.RESULTS_DIR / f"{stem}-{run}.json"
    document["raw"] = f"bench/results/{path.name}"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    section = markdown(document)
    with report.RESULTS_MD.open("a") as out:
        out.write("\n" + section)
    return {"json": str(path), "markdown": section}


# Running --------------------------------------------------------------------------------------


@dataclass
class Options:
    postgres_url: str = DEFAULT_PG
    measure: tuple[str, ...] = ("latency-pg", "latency-sqlite", "throughput", "fanout")
    rates: tuple[float, ...] = (100,)
    seconds: float = 30
    drain: float = 30
    events: int = 5000
    workers: tuple[int, ...] = (1, 3)
    latency_workers: int = 1
    webhooks: int = 1
    clients: int = 1000
    client_processes: int = 2
    fanout_rate: float = 5
    fanout_seconds: float = 20
    ratio_seconds: float = 10
    stream: str = "project"
    warm_stream: bool = True
    load_generator: str = "auto"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="takt-intg-")))


async def run(options: Options, *, say: Say = print) -> dict[str, Any]:
    document: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "load_average": {"before": round(os.getloadavg()[0], 2)},
        "options": {k: str(v) for k, v in vars(options).items()},
    }
    for name, kind, workers in (
        ("latency-pg", "postgresql", 0),
        ("latency-pg-workers", "postgresql", options.latency_workers),
        ("latency-sqlite", "sqlite", 0),
    ):
        if name not in options.measure:
            continue
        for rate in options.rates:
            entry = await measure_latency(
                kind,
                options.postgres_url,
                options.workdir,
                rate=rate,
                seconds=options.seconds,
                drain=options.drain,
                workers=workers,
                say=say,
            )
            document.setdefault("latency", []).append(entry)
    if "throughput" in options.measure:
        for workers in options.workers:
            entry = await measure_throughput(
                options.postgres_url,
                options.workdir,
                workers=workers,
                events=options.events,
                webhooks=options.webhooks,
                say=say,
            )
            document.setdefault("throughput", []).append(entry)
    if "fanout" in options.measure:
        generator, description = choose_generator(options.load_generator)
        document["read_load_generator"] = description
        document["fanout"] = await measure_fanout(
            options.postgres_url,
            options.workdir,
            clients=options.clients,
            client_processes=options.client_processes,
            rate=options.fanout_rate,
            seconds=options.fanout_seconds,
            ratio_seconds=options.ratio_seconds,
            generator=generator,
            stream=options.stream,
            warm_stream=options.warm_stream,
            say=say,
        )
    document["load_average"]["after"] = round(os.getloadavg()[0], 2)
    return document


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.integrations", description=__doc__)
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_PG,
        help="The PostgreSQL database to (re)create for each measurement (it is DROPPED).",
    )
    parser.add_argument(
        "--measure",
        default="latency-pg,latency-sqlite,throughput,fanout",
        help="Comma-separated: latency-pg, latency-pg-workers, latency-sqlite, throughput, fanout.",
    )
    parser.add_argument(
        "--rates",
        default="100",
        help="Latency: item writes a second (comma-separated: one run each).",
    )
    parser.add_argument("--seconds", type=float, default=30, help="Latency: seconds of writes.")
    parser.add_argument(
        "--drain",
        type=float,
        default=30,
        help="Latency: seconds to wait for deliveries after the last write.",
    )
    parser.add_argument("--events", type=int, default=5000, help="Throughput: deliveries.")
    parser.add_argument("--workers", default="1,3", help="Throughput: worker counts to run.")
    parser.add_argument(
        "--latency-workers",
        type=int,
        default=1,
        help="latency-pg-workers: `takt worker` processes beside `takt serve --no-worker`.",
    )
    parser.add_argument("--webhooks", type=int, default=1, help="Throughput: endpoints.")
    parser.add_argument("--clients", type=int, default=1000, help="Fan-out: stream clients.")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--fanout-rate", type=float, default=5, help="Fan-out: writes a second.")
    parser.add_argument("--fanout-seconds", type=float, default=20)
    parser.add_argument("--ratio-seconds", type=float, default=10, help="E0/E1 seconds each.")
    parser.add_argument(
        "--stream",
        choices=("project", "all"),
        default="project",
        help="Fan-out clients on the project's stream or on /api/v1/events/stream.",
    )
    parser.add_argument(
        "--cold-streams",
        action="store_true",
        help="Fan-out: open every stream at once on the cold server (no first stream alone).",
    )
    parser.add_argument("--load-generator", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument(
        "--record", action="store_true", help="Write bench/results/ and append to RESULTS.md."
    )
    parser.add_argument("--json", type=Path, help="Also write the raw figures to this file.")
    args = parser.parse_args(argv)
    options = Options(
        postgres_url=args.postgres_url,
        measure=tuple(m.strip() for m in args.measure.split(",") if m.strip()),
        rates=tuple(float(r) for r in args.rates.split(",")),
        seconds=args.seconds,
        drain=args.drain,
        events=args.events,
        workers=tuple(int(n) for n in args.workers.split(",")),
        latency_workers=args.latency_workers,
        webhooks=args.webhooks,
        clients=args.clients,
        client_processes=args.client_processes,
        fanout_rate=args.fanout_rate,
        fanout_seconds=args.fanout_seconds,
        ratio_seconds=args.ratio_seconds,
        stream=args.stream,
        warm_stream=not args.cold_streams,
        load_generator=args.load_generator,
    )
    document = asyncio.run(run(options))
    document["command"] = "python -m bench.integrations " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if args.json:
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
    if args.record:
        written = record(document)
        print(f"Wrote {written['json']} and appended to {report.RESULTS_MD}")
    print(markdown(document))


if __name__ == "__main__":
    main()
