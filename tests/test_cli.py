"""The `takt` command, run as an operator would: help, schema, migrate, serve, refusals."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from takt.cli import app as cli_app
from takt.cli import multiprocess_metrics, uvicorn_options
from takt.config import Settings
from takt.core.migrations import head_revisions
from tests.conftest import FreshDatabase

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


@contextmanager
def serving(
    folder: Path, log_path: Path, *args: str, **env: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`takt serve` on the database in `folder`, on a free port, up and answering; stopped
    (hard) if the test leaves it running."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [TAKT, "serve", "--port", str(port), *args],
            env=environment(folder, **env),
            cwd=folder,
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
        yield process, base_url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)


@pytest.fixture
def server(migrated: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """`takt serve` on a free port, up and answering; stopped (hard) if a test leaves it running."""
    log_path = tmp_path / "server.log"
    with serving(migrated, log_path) as (process, base_url):
        yield process, base_url, log_path


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


def test_serve_believes_no_forwarded_header_by_default(
    server: tuple[subprocess.Popen[str], str, Path],
) -> None:
    """Otherwise a client rotating `X-Forwarded-For` escapes the per-address login limit."""
    _, base_url, _ = server
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    account = {"username": "ada", "email": "ada@example.com", "password": "correct-horse-battery"}
    with httpx.Client(base_url=base_url, headers=spoofed, trust_env=False, timeout=5) as http:
        assert http.post("/api/v1/auth/register", json=account).status_code == 201
        login = http.post(
            "/api/v1/auth/token", data={"username": "ada", "password": account["password"]}
        )
        token = login.json()["access_token"]
        entries = http.get("/api/v1/audit-log", headers={"Authorization": f"Bearer {token}"})
    addresses = {entry["client_address"] for entry in entries.json()["data"]}
    assert addresses == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("trusted", "proxy_headers", "allowed"),
    [
        ("", False, ""),
        ("10.0.0.5", True, "10.0.0.5"),
        ("10.0.0.5, 192.168.0.0/16", True, "10.0.0.5,192.168.0.0/16"),
    ],
)
def test_serve_believes_proxy_headers_only_from_forwarded_allow_ips(
    trusted: str, proxy_headers: bool, allowed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    # uvicorn falls back to $FORWARDED_ALLOW_IPS (or 127.0.0.1) when not told otherwise.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    settings = Settings(forwarded_allow_ips=trusted, _env_file=None)
    config = uvicorn.Config(**uvicorn_options(settings, host=None, port=None, workers=1))
    assert config.proxy_headers is proxy_headers
    assert config.forwarded_allow_ips == allowed


def test_multiprocess_metrics_start_from_an_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "prometheus"
    given.mkdir()
    (given / "counter_4242.db").write_bytes(b"a previous run")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    with multiprocess_metrics(enabled=True):
        assert list(given.iterdir()) == []
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with multiprocess_metrics(enabled=True):
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert folder.parent == tmp_path / "tmp"
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert not folder.exists()


def _healthz_count(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("takt_http_requests_total{") and all(
            label in line for label in ('method="GET"', 'route="/healthz"', 'status="200"')
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.slow
def test_metrics_with_several_workers_count_every_request_once(
    migrated: Path, tmp_path: Path
) -> None:
    """Whichever worker answers a scrape, it shows the totals of all of them; and the log
    warns that per-token rate limits are per worker without Redis."""
    hits, scrapes = 60, []
    log_path = tmp_path / "server.log"
    (tmp_path / "tmp").mkdir()
    with serving(migrated, log_path, "--workers", "2", TMPDIR=str(tmp_path / "tmp")) as (
        process,
        base_url,
    ):
        before = _healthz_count(httpx.get(f"{base_url}/metrics", trust_env=False).text)
        for hit in range(1, hits + 1):
            # A new connection each time, so both workers take requests.
            assert httpx.get(f"{base_url}/healthz", trust_env=False).status_code == 200
            if hit % 10 == 0:
                for _ in range(3):
                    metrics = httpx.get(f"{base_url}/metrics", trust_env=False).text
                    scrapes.append(_healthz_count(metrics) - before)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    assert scrapes == sorted(scrapes), scrapes
    assert scrapes[-1] == hits
    log = log_path.read_text()
    assert re.search(r"rate limits are counted per worker", log), log
    assert list((tmp_path / "tmp").iterdir()) == []


# In-process commands (typer's CliRunner), on a fresh migrated database of the kind under test
# (SQLite, or PostgreSQL with TAKT_TEST_DATABASE_URL). They run on a worker thread: the command
# runs its own event loop with asyncio.run.


@pytest.fixture
async def command_database(
    fresh_databases: FreshDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """A new migrated database that the `takt` command's settings point at."""
    from takt.config import get_settings
    from takt.core.migrations import upgrade

    url = await fresh_databases.new_url()
    await asyncio.to_thread(upgrade, url)
    for name in list(os.environ):
        if name.startswith("TAKT_") and not name.startswith("TAKT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no `.env` of the checkout leaks in
    monkeypatch.setenv("TAKT_DATABASE_URL", url)
    monkeypatch.setenv("TAKT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TAKT_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("TAKT_ARGON2_TIME_COST", "1")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def invoke(*args: str, input: str | None = None) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli_app, list(args), input=input)


async def test_create_admin_refuses_a_short_password_before_asking_for_it_again(
    command_database: str,
) -> None:
    result = await invoke(
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        input="short\nlong-enough-password\nlong-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    output = result.output
    assert "won't do: String should have at least 10 characters" in output
    # Refused at once: the one confirmation asked is the valid password's.
    assert output.count("Repeat for confirmation") == 1
    assert output.index("won't do") < output.index("Repeat for confirmation")
    assert "Created instance admin root" in output


async def test_create_admin_refuses_the_username_as_password_before_the_confirmation(
    command_database: str,
) -> None:
    result = await invoke(
        "create-admin",
        "--username",
        "administrator",
        "--email",
        "root@example.com",
        input="Administrator\nlong-enough-password\nlong-enough-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "won't do: must not equal the username" in result.output
    assert result.output.count("Repeat for confirmation") == 1


async def test_create_admin_refuses_a_short_password_from_the_environment(
    command_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAKT_ADMIN_PASSWORD", "short")
    result = await invoke("create-admin", "--username", "root", "--email", "root@example.com")
    assert result.exit_code == 2
    assert "at least 10 characters" in result.output
    assert "Created" not in result.output


async def test_demo_if_empty_prints_the_logins_on_every_start(command_database: str) -> None:
    first = await invoke("demo", "--if-empty")
    again = await invoke("demo", "--if-empty")
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "Demo data loaded: project DEMO" in first.output
    assert "Demo data already loaded: project DEMO" in again.output
    for result in (first, again):
        assert "Log in with password 'takt-demo-password'" in result.output
        for username in ("admin", "maya", "leo", "sara", "omar", "vera"):
            assert re.search(rf"^  {username} ", result.output, re.MULTILINE), result.output


async def test_demo_if_empty_prints_no_logins_on_a_database_without_the_demo(
    command_database: str,
) -> None:
    created = await invoke(
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        input="long-enough-password\nlong-enough-password\n",
    )
    assert created.exit_code == 0, created.output
    result = await invoke("demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "demo data not loaded" in result.output
    assert "takt-demo-password" not in result.output


def test_served_app_tunes_the_collector_and_create_app_does_not(settings: Settings) -> None:
    import gc

    from takt import cli
    from takt.main import create_app

    before = gc.get_threshold()
    try:
        create_app(settings)
        assert gc.get_threshold() == before
        assert uvicorn_options(settings, host=None, port=None, workers=1)["app"] == (
            "takt.cli:served_app"
        )
        cli._tune_garbage_collector()
        assert gc.get_threshold()[0] == 20_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
