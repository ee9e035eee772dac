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
    process = subprocess.Popen(
        [sys.executable, "-m", "takt.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
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
        if process.stderr:
            process.stderr.close()
