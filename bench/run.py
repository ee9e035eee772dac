"""Measure Takt under load: `python -m bench.run --database-url ... --size M`, or `--smoke`.

Starts `takt serve` (one worker) on a free loopback port against a generated database, logs in,
warms up, then drives each endpoint E0-E8 for a fixed time and concurrency with wrk (or, when
wrk is missing, an asyncio client) and counts SQL statements per request in-process. Results go
to bench/results/<date>-<database>-<size>.json and bench/RESULTS.md (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx import ASGITransport
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import dataset, report
from bench.endpoints import Endpoint, plan
from bench.generate import generate, print_summary
from bench.load import LoadResult, drive, lanes_for, wrk_threads, wrk_version
from bench.server import Server
from takt.config import Settings
from takt.core.db import Database, is_sqlite_url
from takt.core.statement_log import StatementLog

# SQL statements per request the app must stay within (ISSUE: E1 ≤ 2, E2 ≤ 3, E4 ≤ 3, E7 ≤ 4).
QUERY_CEILINGS = {"E1": 2, "E2": 3, "E4": 3, "E7": 4}
QUERY_SAMPLES = 4  # requests per endpoint in the in-process count (the maximum is reported)
SQLITE_WRITE_SECONDS = 30  # the "no 'database is locked'" check runs E6/E7 this long on SQLite
LOCKED = "database is locked"


@dataclass
class RunConfig:
    database_url: str
    size: str
    duration: float = 10
    concurrency: int = 16
    warmup: float = 2
    generator: str = "wrk"
    write_duration: float | None = None
    only: set[str] | None = None  # endpoints to count queries of (default: all)
    load_only: set[str] | None = None  # of those, the ones to drive under load (default: all)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="takt-bench-")))

    @property
    def database(self) -> str:
        return "sqlite" if is_sqlite_url(self.database_url) else "postgresql"


@dataclass
class RunResult:
    config: RunConfig
    endpoints: dict[str, dict[str, Any]]
    memory: dict[str, float]
    locked_errors: int
    database_version: str = ""
    server_log_tail: str = ""
    load_before: float = 0.0  # 1-minute load average: other work on the machine shows here
    load_after: float = 0.0


async def count_queries(
    database_url: str, secret_key: str, token: str, endpoints: list[Endpoint], workdir: Path
) -> dict[str, dict[str, Any]]:
    """Statements per request, in-process (httpx ASGITransport on create_app, same database)."""
    from takt.main import create_app

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=secret_key,
        data_dir=workdir,
        bench_endpoints=True,
        rate_limit_per_minute=10**9,
        access_log=False,
        log_level="WARNING",
        # Counted with the principal cache warm (one unmeasured request first): a token's first
        # request in a worker, and one every TAKT_PRINCIPAL_CACHE_SECONDS after, adds one SELECT
        # of the user (two for a personal access token).
        principal_cache_seconds=60,
    )
    db = Database.from_settings(settings)
    app = create_app(settings, database=db)
    found: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        async with httpx.AsyncClient(
            transport=ASGITransport(app=app), base_url="http://bench", headers=headers
        ) as client:
            for endpoint in endpoints:
                warm = endpoint.requests[-1]
                await client.request(warm.method, warm.path, content=warm.body or None)
                counts, last = [], []
                for request in (endpoint.requests * QUERY_SAMPLES)[:QUERY_SAMPLES]:
                    with StatementLog(db) as log:
                        response = await client.request(
                            request.method, request.path, content=request.body or None
                        )
                    if not 200 <= response.status_code < 300:
                        raise RuntimeError(
                            f"{endpoint.id} in-process: {response.status_code} {response.text}"
                        )
                    counts.append(len(log.statements))
                    last = log.statements
                found[endpoint.id] = {"queries": max(counts), "samples": counts, "statements": last}
    finally:
        await db.dispose()
    return found


async def database_version(url: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            if is_sqlite_url(url):
                return f"SQLite {await conn.scalar(text('select sqlite_version()'))}"
            return f"PostgreSQL {await conn.scalar(text('show server_version'))}".split(" (")[0]
    finally:
        await engine.dispose()


async def measure(config: RunConfig, *, say: Any = print) -> RunResult:
    size = dataset.SIZES[config.size]
    load_before = round(os.getloadavg()[0], 2)
    server = Server(config.database_url, config.workdir)
    await server.start()
    try:
        token = await server.login()
        lanes = lanes_for(config.generator, config.concurrency, wrk_threads(config.concurrency))
        per_lane = 64 if config.generator == "wrk" else 4
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=60) as c:
            endpoints = await plan(c, size, lanes=lanes, per_lane=per_lane)
        if config.only:
            endpoints = [e for e in endpoints if e.id in config.only]
        say(f"Counting SQL statements per request in-process ({config.database}, {size.name})")
        queries = await count_queries(
            config.database_url, server.secret_key, token, endpoints, config.workdir
        )
        results: dict[str, dict[str, Any]] = {}
        for endpoint in endpoints:
            if config.load_only is not None and endpoint.id not in config.load_only:
                results[endpoint.id] = {"queries_per_request": queries[endpoint.id]["queries"]}
                results[endpoint.id].update(statements=queries[endpoint.id]["statements"])
                continue
            duration = config.duration
            if endpoint.write and config.write_duration:
                duration = config.write_duration
            concurrency = int(str(endpoint.notes.get("concurrency", config.concurrency)))
            if config.warmup > 0:
                await _drive(config, server, token, endpoint, config.warmup, concurrency)
                await server.wait_idle()
            load = await _drive(config, server, token, endpoint, duration, concurrency)
            drained = await server.wait_idle()
            results[endpoint.id] = _entry(endpoint, load, queries[endpoint.id])
            results[endpoint.id]["server_peak_rss_mb_after"] = server.memory_mb()["peak_rss_mb"]
            results[endpoint.id]["drain_seconds"] = round(drained, 1)
            say(report.line(endpoint.id, results[endpoint.id]))
        memory = server.memory_mb()
        locked = server.log_count(LOCKED)
        tail = server.log_tail()
    finally:
        await server.stop()
    version = await database_version(config.database_url)
    load_after = round(os.getloadavg()[0], 2)
    return RunResult(config, results, memory, locked, version, tail, load_before, load_after)


async def _drive(
    config: RunConfig,
    server: Server,
    token: str,
    endpoint: Endpoint,
    duration: float,
    concurrency: int,
) -> LoadResult:
    return await drive(
        config.generator,
        server.base_url,
        token,
        endpoint.requests,
        duration=duration,
        concurrency=concurrency,
    )


def _entry(endpoint: Endpoint, load: LoadResult, queries: dict[str, Any]) -> dict[str, Any]:
    sample = endpoint.sample
    done = load.requests > 0  # none finished: latency is unknown (longer than the run)
    return {
        "title": endpoint.title,
        "request": f"{sample.method} {sample.path}",
        "rps": round(load.rps, 1),
        "p50_ms": round(load.p50_ms, 2) if done else None,
        "p99_ms": round(load.p99_ms, 2) if done else None,
        "errors": load.errors,
        "non_2xx": load.non_2xx,
        "socket_errors": load.socket_errors,
        "requests": load.requests,
        "seconds": round(load.seconds, 2),
        "queries_per_request": queries["queries"],
        "query_samples": queries["samples"],
        "statements": queries["statements"],
        **endpoint.notes,
    }


def choose_generator(requested: str) -> tuple[str, str]:
    """(generator, description): wrk when installed (unless asyncio is asked for)."""
    version = wrk_version()
    if requested == "asyncio" or (requested == "auto" and version is None):
        why = "" if requested == "asyncio" else " (wrk not installed)"
        return "asyncio", f"asyncio client (httpx {httpx.__version__}){why}"
    if version is None:
        raise SystemExit("wrk is not installed; install it or use --load-generator asyncio.")
    return "wrk", version


# Smoke ---------------------------------------------------------------------------------------


@dataclass
class SmokeResult:
    result: RunResult
    errors: dict[str, int]
    queries: dict[str, int]

    @property
    def over_ceiling(self) -> dict[str, int]:
        return {
            k: self.queries[k] for k, limit in QUERY_CEILINGS.items() if self.queries[k] > limit
        }


async def smoke(
    database_url: str | None = None, *, workdir: Path | None = None, say: Any = print
) -> SmokeResult:
    """Generate S (when the database is empty), run every endpoint ~1.5 s at concurrency 2
    with the asyncio client, and collect errors and statement counts (never throughput)."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="takt-smoke-"))
    url = database_url or f"sqlite+aiosqlite:///{workdir / 'smoke.db'}"
    try:
        summary = await asyncio.to_thread(generate, url, "S", quiet=True)
        say(f"Generated S in {summary['seconds']['total']} s")
    except SystemExit as exc:
        if "already has users" not in str(exc):
            raise
        say("Using the data already in the database")
    config = RunConfig(
        url, "S", duration=1.5, concurrency=2, warmup=0.2, generator="asyncio", workdir=workdir
    )
    result = await measure(config, say=say)
    return SmokeResult(
        result,
        errors={k: v["errors"] for k, v in result.endpoints.items()},
        queries={k: v["queries_per_request"] for k, v in result.endpoints.items()},
    )


def _smoke_main(database_url: str | None) -> int:
    outcome = asyncio.run(smoke(database_url))
    failed = False
    for endpoint, errors in outcome.errors.items():
        if errors:
            print(f"FAIL {endpoint}: {errors} errors")
            failed = True
    for endpoint, count in outcome.over_ceiling.items():
        print(f"FAIL {endpoint}: {count} SQL statements per request > {QUERY_CEILINGS[endpoint]}")
        print("     " + "\n     ".join(outcome.result.endpoints[endpoint]["statements"]))
        failed = True
    if outcome.result.locked_errors:
        print(f"FAIL server log has {outcome.result.locked_errors} {LOCKED!r}")
        failed = True
    print("smoke: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


# Full run ------------------------------------------------------------------------------------


async def _full(args: argparse.Namespace, generator: str, description: str) -> None:
    database_kind = "sqlite" if is_sqlite_url(args.database_url) else "postgresql"
    write_duration = SQLITE_WRITE_SECONDS if database_kind == "sqlite" else None
    config = RunConfig(
        args.database_url,
        args.size,
        duration=args.duration,
        concurrency=args.concurrency,
        warmup=args.warmup,
        generator=generator,
        write_duration=args.write_duration or write_duration,
        only=set(args.only.split(",")) if args.only else None,
    )
    print(f"Load generator: {description}; {args.concurrency} connections, {args.duration} s each")
    main = await measure(config)
    if config.only:
        return  # a trial: its lines are printed as it goes
    baseline = None
    if args.baseline_url:
        print("Baseline (S): E1, E2, E4, E7 query counts; E2 and E4 under load")
        base_config = RunConfig(
            args.baseline_url,
            "S",
            duration=args.duration,
            concurrency=args.concurrency,
            warmup=args.warmup,
            generator=generator,
            only={"E1", "E2", "E4", "E7"},
            load_only={"E2", "E4"},
        )
        baseline = await measure(base_config)
    command = "python -m bench.run " + " ".join(sys.argv[1:])
    written = report.write(main, baseline, generator=description, command=command)
    print(f"Wrote {written['json']} and appended to {written['markdown']}")
    print(written["table"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--database-url", help="A database filled by bench.generate.")
    parser.add_argument("--size", choices=("S", "M", "L"), help="The dataset in it.")
    parser.add_argument("--duration", type=float, default=10, help="Seconds per endpoint.")
    parser.add_argument("--concurrency", type=int, default=16, help="Open connections.")
    parser.add_argument("--warmup", type=float, default=2, help="Seconds of warm-up per endpoint.")
    parser.add_argument(
        "--write-duration",
        type=float,
        default=None,
        help=f"Seconds for E6/E7 (default: --duration; {SQLITE_WRITE_SECONDS} on SQLite).",
    )
    parser.add_argument("--baseline-url", help="A database with dataset S, for R3 and R4.")
    parser.add_argument("--load-generator", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument(
        "--only",
        help="Comma-separated endpoints (e.g. E0,E1): a trial run, printed and not written to "
        "results/ or RESULTS.md.",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="Quick correctness pass (errors, query counts)."
    )
    parser.add_argument(
        "--generate",
        action="store_true",
        help="Generate --size into --database-url first (it must be empty).",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        raise SystemExit(_smoke_main(args.database_url))
    if not args.database_url or not args.size:
        parser.error("--database-url and --size are required (or use --smoke)")
    if args.generate:
        print_summary(generate(args.database_url, args.size))
    generator, description = choose_generator(args.load_generator)
    asyncio.run(_full(args, generator, description))


if __name__ == "__main__":
    main()
