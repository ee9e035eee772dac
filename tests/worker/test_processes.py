"""Workers as operators run them: `takt worker` processes (stopped by SIGTERM, killed by
SIGKILL) and the worker `takt serve` embeds unless `--no-worker`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.jobs import Job, JobContext
from takt.core.time import utcnow
from tests.conftest import TEST_SECRET
from tests.live import free_port
from tests.worker.helpers import add_jobs, all_jobs, eventually, kind, running, worker
from tests.worker.sleepy_worker import SLEEP

ROOT = Path(__file__).resolve().parents[2]
TAKT = str(Path(sys.executable).with_name("takt"))
SLEEPY_WORKER = [sys.executable, "-m", "tests.worker.sleepy_worker"]


def environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKT_")}
    env.update(
        TAKT_DATABASE_URL=database_url,
        TAKT_SECRET_KEY=TEST_SECRET,
        TAKT_DATA_DIR=str(data_dir),
        TAKT_LOG_LEVEL="WARNING",
        TAKT_ACCESS_LOG="false",
        TAKT_DB_POOL_SIZE="4",
        TAKT_DB_MAX_OVERFLOW="2",
        TAKT_WORKER_POLL_SECONDS="0.2",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """The process, killed if the test leaves it running; its output goes to `log`."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, text=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _sleepers(rows: list[Job]) -> list[Job]:
    return [job for job in rows if job.kind == SLEEP]


async def _all_running(db: Database, count: int) -> bool:
    rows = _sleepers(await all_jobs(db))
    return len(rows) == count and all(job.state == "running" for job in rows)


def test_worker_help_describes_the_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [TAKT, "worker", "--help"],
        env=environment("sqlite+aiosqlite:///unused.db", tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Run jobs, webhook deliveries and periodic sweeps" in result.stdout
    for option in ("--concurrency", "--grace-seconds", "--metrics-port"):
        assert option in result.stdout


def test_worker_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [TAKT, "worker"],
        env=environment(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "Cannot run the worker" in result.stderr
    assert "takt migrate" in result.stderr


@pytest.mark.slow
async def test_sigterm_finishes_the_worker_and_releases_its_running_jobs(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    await add_jobs(db, SLEEP, 2, payload={"seconds": 60})
    port = free_port()
    env = environment(settings.database_url, tmp_path)
    command = [*SLEEPY_WORKER, "--grace-seconds", "0.5", "--metrics-port", str(port)]
    with started(command, env, tmp_path / "worker.log") as process:
        await eventually(lambda: _all_running(db, 2))

        async def swept() -> bool:
            # The sweeps of the first slot ran, counted by the worker's own metrics.
            try:
                async with httpx.AsyncClient() as client:
                    scrape = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.TransportError:
                return False
            return 'takt_worker_jobs_total{kind="sweep.trash",outcome="succeeded"} 1.0' in scrape

        await eventually(swept)
        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.to_thread(process.wait, 30)
    assert returncode == 0, (tmp_path / "worker.log").read_text()
    rows = _sleepers(await all_jobs(db))
    assert [(j.state, j.attempts, j.locked_by) for j in rows] == [("ready", 0, None)] * 2


@pytest.mark.slow
async def test_a_killed_workers_jobs_go_to_another_worker_when_their_lease_ends(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    await add_jobs(db, SLEEP, 3, payload={"seconds": 60})
    env = environment(settings.database_url, tmp_path, TAKT_JOB_LEASE_SECONDS="2")
    with started(SLEEPY_WORKER, env, tmp_path / "worker.log") as process:
        await eventually(lambda: _all_running(db, 3))
        process.kill()  # SIGKILL: nothing is released, the leases are all that is left
        await asyncio.to_thread(process.wait, 30)
    held = {job.id: job for job in _sleepers(await all_jobs(db))}
    assert all(job.locked_until is not None for job in held.values())
    taken: dict[str, tuple[int, datetime]] = {}

    async def finish(_ctx: JobContext, job: Job) -> None:
        taken[job.id] = (job.attempts, utcnow())

    async with running(worker(db, settings, kind(SLEEP, finish))):

        async def all_taken() -> bool:
            return len(taken) == 3

        await eventually(all_taken)
    assert set(taken) == set(held)
    for job_id, (attempts, at) in taken.items():
        lease_end = held[job_id].locked_until
        assert lease_end is not None
        assert attempts == 2
        assert at >= lease_end  # not a moment before the dead worker's lease ran out


@contextmanager
def serving(database_url: str, data_dir: Path, *args: str) -> Iterator[str]:
    port = free_port()
    env = environment(database_url, data_dir)
    command = [TAKT, "serve", "--port", str(port), *args]
    with started(command, env, data_dir / "serve.log") as process:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (data_dir / "serve.log").read_text()
            assert time.monotonic() < deadline, "takt serve did not start"
            time.sleep(0.05)
        yield base
        process.terminate()
        process.wait(timeout=30)


async def _enqueue_sweep(db: Database) -> None:
    """A real job of the server's own: the idempotency sweep, under a key of the test's."""
    async with db.transaction() as session:
        await jobs.enqueue(session, "sweep.idempotency-keys", dedupe_key="test:embedded")


async def _mine(db: Database) -> list[Job]:
    return [job for job in await all_jobs(db) if job.dedupe_key == "test:embedded"]


@pytest.mark.slow
async def test_serve_runs_an_embedded_worker(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with serving(settings.database_url, tmp_path):
        await _enqueue_sweep(db)

        async def done() -> bool:
            return not await _mine(db)

        await eventually(done)


@pytest.mark.slow
async def test_serve_without_a_worker_runs_no_job(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    with serving(settings.database_url, tmp_path, "--no-worker"):
        await _enqueue_sweep(db)
        await asyncio.sleep(1.0)  # five times the poll interval a worker would wait
        rows = await all_jobs(db)
    # Nothing ran it, and no scheduler enqueued the sweeps of the first slot either.
    assert [(j.dedupe_key, j.state, j.attempts) for j in rows] == [("test:embedded", "ready", 0)]
