"""Load generators: wrk (preferred) and a fallback asyncio client (httpx), same inputs and output.

Both drive a list of requests for a fixed time at a fixed number of connections and report
requests per second, p50/p99 latency and errors (non-2xx responses plus socket errors). Requests
carry a lane number: one connection group (a wrk thread, an asyncio worker) only sends the
requests of its lane, so concurrent writers never race on one item.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""
    lane: int = 0


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def wrk_version() -> str | None:
    path = shutil.which("wrk")
    if path is None:
        return None
    completed = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    first = (completed.stdout or completed.stderr).splitlines()
    return first[0].split(" [")[0] if first else "wrk"


def lanes_for(generator: str, concurrency: int, threads: int) -> int:
    """How many independent lanes the generator runs: wrk threads, or asyncio workers."""
    return min(threads, concurrency) if generator == "wrk" else concurrency


def wrk_threads(concurrency: int) -> int:
    return max(1, min(concurrency, os.cpu_count() or 1, 4))


def _write_requests(path: Path, requests: list[Request]) -> None:
    lines = (f"{r.lane}\t{r.method}\t{r.path}\t{r.body}\n" for r in requests)
    path.write_text("".join(lines), encoding="utf-8")


def _read_summary(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def auth_headers(token: str, headers: dict[str, str] | None) -> dict[str, str]:
    """The headers every request carries: `headers` when given (another server's own
    authentication), else Takt's bearer token."""
    chosen = dict(headers) if headers else {"Authorization": f"Bearer {token}"}
    return {"Content-Type": "application/json", **chosen}


async def run_wrk(
    base_url: str,
    token: str,
    requests: list[Request],
    *,
    duration: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="takt-wrk-") as tmp:
        lines, out = Path(tmp, "requests.tsv"), Path(tmp, "out.json")
        _write_requests(lines, requests)
        env = {
            **os.environ,
            "BENCH_TOKEN": token,
            "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
            "BENCH_REQUESTS": str(lines),
            "BENCH_OUT": str(out),
        }
        command = [
            shutil.which("wrk") or "wrk",
            f"-t{wrk_threads(concurrency)}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            base_url,
        ]
        process = await asyncio.create_subprocess_exec(
            *command,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        data = _read_summary(out)
        if process.returncode != 0 or data is None:
            raise RuntimeError(f"wrk failed ({process.returncode}): {output.decode()[-2000:]}")
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )


def percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def run_asyncio(
    base_url: str,
    token: str,
    requests: list[Request],
    *,
    duration: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """`concurrency` workers on one httpx client, each sending its lane's requests in a loop."""
    lanes = max(r.lane for r in requests) + 1
    by_lane = [[r for r in requests if r.lane == lane] for lane in range(lanes)]
    sent_headers = auth_headers(token, headers)
    latencies: list[float] = []
    non_2xx = socket_errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(
        base_url=base_url, headers=sent_headers, limits=limits, timeout=30
    ) as client:
        started = time.perf_counter()
        deadline = started + duration

        async def worker(index: int) -> None:
            nonlocal non_2xx, socket_errors
            mine = by_lane[index % lanes]
            position = (index // lanes * 7) % len(mine)
            while time.perf_counter() < deadline:
                request = mine[position]
                position = (position + 1) % len(mine)
                sent = time.perf_counter()
                try:
                    response = await client.request(
                        request.method, request.path, content=request.body or None
                    )
                except httpx.HTTPError:
                    socket_errors += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                if not 200 <= response.status_code < 300:
                    non_2xx += 1

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        non_2xx=non_2xx,
        socket_errors=socket_errors,
    )


async def drive(
    generator: str,
    base_url: str,
    token: str,
    requests: list[Request],
    *,
    duration: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    runner = run_wrk if generator == "wrk" else run_asyncio
    return await runner(
        base_url, token, requests, duration=duration, concurrency=concurrency, headers=headers
    )
