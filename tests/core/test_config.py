"""Settings: the production secret-key guard, the development key, list parsing."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import ValidationError

from takt.config import ConfigError, Settings
from takt.main import create_app


@pytest.fixture(autouse=True)
def _no_takt_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets counts, not the environment the suite runs in."""
    for name in list(os.environ):
        if name.startswith("TAKT_") and not name.startswith("TAKT_TEST_"):
            monkeypatch.delenv(name)


def settings_from_env(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None)


def test_production_without_secret_key_raises_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_ENV", "production")
    settings = settings_from_env(tmp_path)
    with pytest.raises(ConfigError, match=r"TAKT_SECRET_KEY is missing or shorter than 32 bytes"):
        settings.resolved_secret_key()
    assert not (tmp_path / "secret_key").exists()


def test_production_with_31_byte_secret_key_raises_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_ENV", "production")
    monkeypatch.setenv("TAKT_SECRET_KEY", "k" * 31)
    with pytest.raises(ConfigError, match=r"TAKT_SECRET_KEY .*32 bytes"):
        settings_from_env(tmp_path).resolved_secret_key()


def test_production_error_tells_how_to_generate_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_ENV", "production")
    with pytest.raises(ConfigError) as raised:
        settings_from_env(tmp_path).resolved_secret_key()
    assert "secrets.token_urlsafe" in str(raised.value)


def test_production_accepts_secret_key_of_32_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_ENV", "production")
    # 16 characters, 32 bytes: the rule counts bytes.
    monkeypatch.setenv("TAKT_SECRET_KEY", "é" * 16)
    assert settings_from_env(tmp_path).resolved_secret_key() == "é" * 16


def test_create_app_refuses_production_without_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_ENV", "production")
    with pytest.raises(ConfigError, match="TAKT_SECRET_KEY"):
        create_app(settings_from_env(tmp_path))


def test_development_generates_secret_key_and_keeps_it_in_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = settings_from_env(data_dir).resolved_secret_key()
    key_file = data_dir / "secret_key"
    assert len(first.encode()) >= 32
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert settings_from_env(data_dir).resolved_secret_key() == first


def test_development_generates_a_different_key_per_data_dir(tmp_path: Path) -> None:
    one = settings_from_env(tmp_path / "one").resolved_secret_key()
    two = settings_from_env(tmp_path / "two").resolved_secret_key()
    assert one != two


def test_development_rejects_short_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="shorter than 32 bytes"):
        settings_from_env(tmp_path).resolved_secret_key()


def test_unknown_env_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAKT_ENV", "staging")
    with pytest.raises(ValidationError, match="env"):
        settings_from_env(tmp_path)


def test_cors_origins_parse_from_comma_separated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_CORS_ORIGINS", " https://a.example ,https://b.example:8443,, ")
    settings = settings_from_env(tmp_path)
    assert settings.cors_origins == ["https://a.example", "https://b.example:8443"]


def test_cors_origins_default_to_none(tmp_path: Path) -> None:
    assert settings_from_env(tmp_path).cors_origins == []


async def test_configured_cors_origin_passes_preflight(
    make_quiet_app: Callable[..., FastAPI],
    client_for: Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]],
) -> None:
    app = make_quiet_app(cors_origins=["https://board.example"])
    async with client_for(app) as client:
        allowed = await client.options(
            "/healthz",
            headers={
                "Origin": "https://board.example",
                "Access-Control-Request-Method": "GET",
            },
        )
        stranger = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://board.example"
    assert "access-control-allow-origin" not in stranger.headers


def test_database_defaults_to_takt_db_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = Settings(_env_file=None)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'elsewhere' / 'takt.db'}"


def test_database_defaults_to_data_takt_db_without_a_data_dir() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///data/takt.db"


def test_database_url_wins_over_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKT_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TAKT_DATABASE_URL", "postgresql+asyncpg://takt@db.example:5432/takt")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+asyncpg://takt@db.example:5432/takt"


def test_migrate_puts_the_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from takt.core.migrations import upgrade

    settings = settings_from_env(tmp_path / "data")
    upgrade(settings.database_url)
    assert make_url(settings.database_url).database == str(tmp_path / "data" / "takt.db")
    assert (tmp_path / "data" / "takt.db").stat().st_size > 0
