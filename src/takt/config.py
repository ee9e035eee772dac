"""Settings read from `TAKT_*` environment variables and an optional `.env` file."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_SECRET_KEY_BYTES = 32


class ConfigError(RuntimeError):
    """Raised when the configuration can't be used; the message says what to fix."""


class Settings(BaseSettings):
    """Everything Takt can be told from outside. Validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="TAKT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production"] = Field(
        "development", description="`production` enforces a real secret key."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…; unset: the"
        " SQLite file `takt.db` in the data directory.",
    )
    data_dir: Path = Field(Path("./data"), description="Where SQLite and generated files live.")
    secret_key: str = Field("", description="Signs tokens and cursors; at least 32 bytes.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = Field(True, description="One JSON log line per request.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS."
    )
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses (or networks) of reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto are believed; empty: no proxy headers are trusted.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    allow_signup: bool | None = Field(
        None, description="Open registration; defaults to on in development, off in production."
    )
    redis_url: str | None = Field(None, description="Shares rate limits across processes.")
    rate_limit_per_minute: int = Field(600, ge=1)
    principal_cache_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="How long a worker keeps a resolved bearer token; changes made through "
        "another worker reach it within this time. 0 turns the cache off.",
    )
    login_max_failures: int = Field(5, ge=1, description="Failures before login is throttled.")
    login_window_seconds: int = Field(300, ge=1)
    access_token_minutes: int = Field(15, ge=1, le=60 * 24)
    refresh_token_days: int = Field(30, ge=1)
    argon2_time_cost: int = Field(2, ge=1, le=10, description="argon2id iterations (OWASP: 2).")
    argon2_memory_kib: int = Field(
        19456, ge=8, le=1024 * 1024, description="argon2id memory in KiB (OWASP: 19 MiB)."
    )
    argon2_parallelism: int = Field(1, ge=1, le=16)
    pat_default_days: int = Field(90, ge=1, le=3650, description="Default token lifetime.")
    db_pool_size: int = Field(20, ge=1, le=200)
    db_max_overflow: int = Field(10, ge=0, le=200)
    db_statement_timeout_ms: int = Field(30_000, ge=100)
    db_plan_cache_mode: Literal["auto", "force_generic_plan", "force_custom_plan"] = Field(
        "force_generic_plan",
        description="PostgreSQL's plan_cache_mode for Takt's connections (see core/db.py).",
    )
    sqlite_busy_timeout_ms: int = Field(30_000, ge=100)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_import_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Body limit of `POST /api/v1/projects/import` alone (an export can be big).",
    )
    bench_endpoints: bool = Field(False, description="Enables /bench/ping for benchmarks.")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        max_length=500,
        description="Where people reach Takt; links in Slack messages point here.",
    )
    web_dist: Path = Field(
        Path("frontend/dist"),
        description="The built web app (`make web`) served at `/`; a relative path is taken from"
        " the working directory. Without an `index.html` there, `/` says how to build it.",
    )
    # The worker (docs/operations in the README)
    embedded_worker: bool = Field(
        True,
        description="`takt serve` runs a worker in each API process (`--no-worker` turns it"
        " off, e.g. when separate `takt worker` processes run).",
    )
    worker_concurrency: int = Field(
        32, ge=1, le=1000, description="Jobs one worker process runs at once."
    )
    worker_group_concurrency: int = Field(
        4,
        ge=1,
        le=1000,
        description="Jobs of one group (one webhook endpoint) one worker runs at once, so a"
        " slow endpoint can't hold every slot.",
    )
    worker_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="Longest wait between looks at the queue without a wake-up."
    )
    job_lease_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="How long a claimed job stays a worker's without a heartbeat; a killed"
        " worker's jobs go to another worker after this.",
    )
    # Outbound webhooks
    webhook_allow_private: bool = Field(
        False,
        description="Allow webhook URLs on loopback and private networks (self-hosting on a"
        " private network, tests). Link-local and metadata addresses stay refused.",
    )
    webhook_timeout_seconds: float = Field(15.0, gt=0, le=60)
    # The live stream
    sse_heartbeat_seconds: float = Field(15.0, gt=0, le=300)
    sse_queue_size: int = Field(
        1000,
        ge=10,
        le=100_000,
        description="Events held for one slow stream client before it is dropped (it resumes"
        " with Last-Event-ID).",
    )
    sse_max_streams_per_user: int = Field(
        10,
        ge=1,
        le=1000,
        description="Live streams one user (all of their tokens together) may hold open at once"
        " in one API process; one more is refused with 429 `too-many-streams`.",
    )

    @model_validator(mode="before")
    @classmethod
    def _split_comma_lists(cls, values: dict[str, object]) -> dict[str, object]:
        for name in ("cors_origins", "forwarded_allow_ips"):
            listed = values.get(name)
            if isinstance(listed, str):
                values[name] = [o.strip() for o in listed.split(",") if o.strip()]
        return values

    @model_validator(mode="after")
    def _default_database_in_data_dir(self) -> Settings:
        # Derived, not a fixed `./data/takt.db`: moving the data directory moves the database too.
        if not self.database_url:
            self.database_url = default_database_url(self.data_dir)
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def signup_open(self) -> bool:
        return self.allow_signup if self.allow_signup is not None else not self.is_production

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The secret key to use, or a clear error when production has none worth the name.

        In development a random key is generated once and kept in the data directory so that
        tokens survive a restart.
        """
        if len(self.secret_key.encode()) >= MIN_SECRET_KEY_BYTES:
            return self.secret_key
        if self.is_production:
            raise ConfigError(
                "TAKT_SECRET_KEY is missing or shorter than 32 bytes; production refuses to start. "
                'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        if self.secret_key:
            raise ConfigError("TAKT_SECRET_KEY is shorter than 32 bytes; use a longer one.")
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


def default_database_url(data_dir: Path) -> str:
    """The SQLite file Takt uses when TAKT_DATABASE_URL is unset: `takt.db` in `data_dir`."""
    return f"sqlite+aiosqlite:///{data_dir / 'takt.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
