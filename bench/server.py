"""`takt serve` as a subprocess on a free loopback port, configured for measuring."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from bench import dataset


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(database_url: str, secret_key: str, data_dir: Path) -> dict[str, str]:
    """The caller's environment without its TAKT_* settings, plus the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKT_")}
    env.update(
        {
            "TAKT_DATABASE_URL": database_url,
            "TAKT_SECRET_KEY": secret_key,
            "TAKT_DATA_DIR": str(data_dir),
            "TAKT_ACCESS_LOG": "false",
            "TAKT_BENCH_ENDPOINTS": "true",
            "TAKT_RATE_LIMIT_PER_MINUTE": str(10**9),
            "TAKT_LOG_LEVEL": "WARNING",
            "TAKT_ACCESS_TOKEN_MINUTES": "1440",
        }
    )
    return env


class Server:
    """One worker; its log (warnings and errors only) goes to `<workdir>/server.log`."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.secret_key = secrets.token_urlsafe(48)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, timeout: float = 60) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # cwd is the work folder, so a developer's .env can't change the configuration.
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "takt.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            cwd=self.workdir,
            env=server_environment(self.database_url, self.secret_key, self.workdir),
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    break
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(f"takt serve did not come up:\n{self.log_tail()}")

    async def login(self) -> str:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            response = await client.post(
                "/api/v1/auth/token",
                data={"username": dataset.LOGIN, "password": dataset.PASSWORD},
            )
        if response.status_code != 200:
            raise RuntimeError(f"login failed: {response.status_code} {response.text}")
        token: str = response.json()["access_token"]
        return token

    async def wait_idle(self, timeout: float = 300, quick_ms: float = 50) -> float:
        """Wait until requests a load generator gave up on are finished (the server works on
        after the client hangs up): three pings in a row answered within `quick_ms`.
        Returns the seconds waited."""
        started = time.monotonic()
        quick = 0
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as client:
            while quick < 3 and time.monotonic() - started < timeout:
                sent = time.monotonic()
                await client.get("/bench/ping")
                quick = quick + 1 if (time.monotonic() - sent) * 1000 < quick_ms else 0
                await asyncio.sleep(0.1)
        return time.monotonic() - started

    def memory_mb(self) -> dict[str, float]:
        """Peak (VmHWM) and current (VmRSS) resident memory of the server process."""
        found: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                found[name] = round(int(value.split()[0]) / 1024, 1)
        return {"peak_rss_mb": found.get("VmHWM", 0.0), "rss_mb": found.get("VmRSS", 0.0)}

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_count(self, needle: str) -> int:
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count(needle)

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
