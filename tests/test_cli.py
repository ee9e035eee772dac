"""The `takt` command, run as an operator would: help, schema, migrate, serve, refusals."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from takt.core.migrations import head_revisions

# The console script installed next to the interpreter running the suite (the virtualenv's).
TAKT = str(Path(sys.executable).with_name("takt"))
TIMEOUT = 30


def environment(tmp: Path, **overrides: str) -> dict[str, str]:
    """The suite's environment without any TAKT_* setting, pointed at a database in `tmp`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKT_")}
    env.update(
        TAKT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'takt.db'}",
        TAKT_DATA_DIR=str(tmp / "data"),
    )
    env.update(overrides)
    return env


def takt(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # cwd=tmp: no `.env` of the checkout leaks in.
    return subprocess.run(
        [TAKT, *args],
        env=environment(tmp, **env),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    folder: Path  # where it ran: its database, data directory and working directory


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The one-shot commands, all at once: each is a process start and none needs another."""
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "help": (["--help"], {}),
        **{f"{c} --help": ([c, "--help"], {}) for c in ("serve", "migrate", "openapi")},
        "openapi": (["openapi"], {}),
        "migrate": (["migrate"], {}),
        "serve unmigrated": (["serve", "--port", str(free_port())], {}),
        "serve in production": (["serve"], {"TAKT_ENV": "production"}),
    }
    folders = {name: tmp_path_factory.mktemp("cli") for name in commands}
    with ThreadPoolExecutor(len(commands)) as pool:
        futures = {
            name: pool.submit(takt, folders[name], *args, **env)
            for name, (args, env) in commands.items()
        }
        return {name: Run(future.result(), folders[name]) for name, future in futures.items()}


@pytest.fixture(scope="module")
def migrated(runs: dict[str, Run]) -> Path:
    """A folder whose SQLite database `takt migrate` has brought to head."""
    result = runs["migrate"].result
    assert result.returncode == 0, result.stderr
    return runs["migrate"].folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(migrated: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """`takt serve` on a free port, up and answering; stopped (hard) if a test leaves it running."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [TAKT, "serve", "--port", str(port)],
            env=environment(migrated),
            cwd=migrated,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                httpx.get(f"{base_url}/healthz", timeout=1, trust_env=False)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)  # waiting for a separate process to bind its port
        yield process, base_url, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)


def test_help_lists_serve_migrate_and_openapi(runs: dict[str, Run]) -> None:
    result = runs["help"].result
    assert result.returncode == 0, result.stderr
    for command in ("serve", "migrate", "openapi"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "description"),
    [
        ("serve", "Serve the API"),
        ("migrate", "Bring the database schema up to date"),
        ("openapi", "Print the OpenAPI schema"),
    ],
)
def test_each_command_help_describes_it(
    runs: dict[str, Run], command: str, description: str
) -> None:
    result = runs[f"{command} --help"].result
    assert result.returncode == 0, result.stderr
    assert description in result.stdout


def test_openapi_prints_the_schema_as_json(runs: dict[str, Run]) -> None:
    result = runs["openapi"].result
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["openapi"].startswith("3.1")
    assert "/healthz" in schema["paths"]


def test_migrate_brings_a_new_database_to_head(runs: dict[str, Run], migrated: Path) -> None:
    assert "Database migrated to head" in runs["migrate"].result.stderr
    with sqlite3.connect(migrated / "takt.db") as connection:
        revisions = {
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        }
    assert revisions == head_revisions()


def test_serve_refuses_an_unmigrated_database_and_says_to_migrate(runs: dict[str, Run]) -> None:
    result = runs["serve unmigrated"].result
    assert result.returncode == 1
    assert "not been migrated" in result.stderr
    assert "takt migrate" in result.stderr


def test_production_without_secret_key_exits_with_a_clear_message(runs: dict[str, Run]) -> None:
    result = runs["serve in production"].result
    assert result.returncode == 2
    assert "Configuration error: TAKT_SECRET_KEY is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_answers_probes_and_stops_cleanly_on_sigterm(
    server: tuple[subprocess.Popen[str], str, Path],
) -> None:
    # One server for both: starting one is most of this module's time.
    process, base_url, log_path = server
    health = httpx.get(f"{base_url}/healthz", timeout=5, trust_env=False)
    ready = httpx.get(f"{base_url}/readyz", timeout=5, trust_env=False)
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "sqlite"}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=TIMEOUT) == 0
    log = log_path.read_text()
    assert "Application shutdown complete" in log
    assert "takt stopped" in log
    assert "Traceback" not in log
