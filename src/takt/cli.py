"""The `takt` command: serve the API, migrate the database, manage users, print the schema."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated, Any

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
    # uvicorn stops gracefully on SIGTERM, then raises it again with the handler it found in
    # place: with the default one the process dies by the signal (status 143) after a clean stop.
    signal.signal(signal.SIGTERM, _exit_cleanly)
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


def _exit_cleanly(signum: int, frame: object) -> None:
    raise typer.Exit(0)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from takt.core.migrations import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"Database migrated to {revision}.", err=True)


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(prompt=True, help="Login name.")],
    email: Annotated[str, typer.Option(prompt=True, help="Email address.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="TAKT_ADMIN_PASSWORD",
            help="At least 10 characters (or TAKT_ADMIN_PASSWORD).",
        ),
    ],
    display_name: Annotated[str | None, typer.Option(help="Name shown to others.")] = None,
) -> None:
    """Create an instance administrator account."""
    from pydantic import ValidationError

    from takt.auth.schemas import RegisterRequest

    settings = _settings()
    try:
        data = RegisterRequest(
            username=username, email=email, password=password, display_name=display_name
        )
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    try:
        user_id = asyncio.run(_create_admin(settings, data))
    except Exception as exc:  # shown to the operator as one line, not a traceback
        typer.echo(f"Could not create the admin: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created instance admin {data.username} ({user_id}).")


async def _create_admin(settings: Settings, data: object) -> str:
    from takt.auth.schemas import RegisterRequest
    from takt.auth.service import create_admin as create
    from takt.core.db import Database
    from takt.main import build_security

    assert isinstance(data, RegisterRequest)
    db = Database.from_settings(settings)
    security = build_security(settings, settings.resolved_secret_key())
    try:
        async with db.transaction() as session:
            user = await create(session, security, data)
            return user.id
    finally:
        await db.dispose()


@app.command()
def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if the database has users already.")
    ] = False,
) -> None:
    """Load demo data (people, a project, its work) and print the demo logins."""
    settings = _settings()
    if settings.is_production:
        typer.echo(
            "Refusing to load demo data (known passwords) with TAKT_ENV=production.", err=True
        )
        raise typer.Exit(2)
    problem = asyncio.run(_migration_problem(settings))
    if problem:
        typer.echo(f"Cannot load demo data: {problem}. Run `takt migrate` first.", err=True)
        raise typer.Exit(1)
    loaded = asyncio.run(_load_demo(settings, if_empty=if_empty))
    if loaded is None:
        typer.echo("The database already has users; demo data not loaded.", err=True)
        return
    from takt.demo.loader import DEMO_PASSWORD, DEMO_PROJECT

    typer.echo(f"Demo data loaded: project {DEMO_PROJECT}. Log in with password {DEMO_PASSWORD!r}:")
    for person in loaded:
        typer.echo(f"  {person.username:<8} {person.display_name:<18} {person.role}")


async def _load_demo(settings: Settings, *, if_empty: bool) -> list[Any] | None:
    from takt.core.db import Database
    from takt.demo.loader import is_empty, load_demo
    from takt.main import build_security

    db = Database.from_settings(settings)
    security = build_security(settings, settings.resolved_secret_key())
    try:
        async with db.transaction() as session:
            if if_empty and not await is_empty(session):
                return None
            return list(await load_demo(session, security))
    finally:
        await security.counters.close()
        await db.dispose()


@app.command()
def openapi() -> None:
    """Print the OpenAPI schema as JSON."""
    from takt.main import create_app

    schema = create_app(_settings()).openapi()
    sys.stdout.write(orjson.dumps(schema, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    app()
