"""A real `takt serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(database_url: str, data_dir: Path, **env: str) -> Iterator[str]:
    port = free_port()
    environment = {
        **os.environ,
        "TAKT_DATABASE_URL": database_url,
        "TAKT_SECRET_KEY": TEST_SECRET,
        "TAKT_DATA_DIR": str(data_dir),
        "TAKT_ACCESS_LOG": "false",
        "TAKT_LOG_LEVEL": "WARNING",
        "TAKT_ARGON2_MEMORY_KIB": "64",
        "TAKT_ARGON2_TIME_COST": "1",
        "TAKT_DB_POOL_SIZE": "5",
        "TAKT_DB_MAX_OVERFLOW": "2",
        **env,
    }
    # stderr goes to a file, not a pipe: a pipe nobody drains can block the server once it fills,
    # and reading it while the server still runs would block the test forever.
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "serve.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "takt.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Generous: two xdist workers and a second suite may share two cores with this start-up.
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                log.seek(0)
                stderr = log.read().decode(errors="replace")
                raise RuntimeError(f"takt serve did not start: {stderr[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
