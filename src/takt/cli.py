"""The `takt` command: serve the API, migrate the database, manage users, print the schema."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import orjson
import typer

from takt.config import ConfigError, Settings, get_settings

app = typer.Typer(
    help="Takt: the backend for how software teams deliver.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    try:
        settings = get_settings()
        settings.resolved_secret_key()
    except (ConfigError, ValueError) as exc:
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings


async def _migration_problem(settings: Settings) -> str | None:
    from takt.core.db import Database
    from takt.core.migrations import migration_state

    db = Database.from_settings(settings)
    try:
        return await migration_state(db.read_engine)
    except Exception as exc:
        return f"the database can't be reached ({type(exc).__name__}: {exc})"
    finally:
        await db.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (TAKT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (TAKT_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (refuses to start on an unmigrated database)."""
    import uvicorn

    settings = _settings()
    problem = asyncio.run(_migration_problem(settings))
    if problem:
        typer.echo(f"Cannot serve: {problem}. Run `takt migrate` first.", err=True)
        raise typer.Exit(1)
    host = host or settings.host
    port = port or settings.port
    typer.echo(f"Takt serves http://{host}:{port}  (API docs: http://{host}:{port}/docs)", err=True)
    uvicorn.run(
        "takt.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,
        proxy_headers=True,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from takt.core.migrations import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"Database migrated to {revision}.", err=True)


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema as JSON."""
    from takt.main import create_app

    schema = create_app(_settings()).openapi()
    sys.stdout.write(orjson.dumps(schema, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    app()
