"""create_app(): settings, database, middleware, error handlers and routers in one place."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import Scope

import takt
from takt.api import API_PREFIX, API_ROUTES, DIRECT_READS, api_router
from takt.auth.cache import PrincipalCache
from takt.auth.service import Security, resolve_bearer
from takt.config import Settings, get_settings
from takt.core.db import Database
from takt.core.direct import DirectRoute
from takt.core.docs import install_docs
from takt.core.errors import Unauthorized
from takt.core.idempotency import CallerScope, IdempotencyMiddleware
from takt.core.logging import configure_logging
from takt.core.metrics import Metrics
from takt.core.middleware import (
    BodyLimitMiddleware,
    ProblemCORSMiddleware,
    RequestContextMiddleware,
)
from takt.core.openapi import polish_openapi
from takt.core.pagination import CursorCodec
from takt.core.problems import install_error_handlers
from takt.core.ratelimit import DatabaseCounterStore, counter_store
from takt.core.routes import RouteIndex
from takt.core.security import AccessTokens, Passwords
from takt.core.time import utcnow
from takt.core.wakeup import Wakeups
from takt.events.stream import close_broadcaster
from takt.integrations.router import HOOKS_PREFIX
from takt.integrations.service import MAX_HOOK_BYTES
from takt.ops.router import bench_router
from takt.ops.router import router as ops_router
from takt.ops.web import web_app_fallback
from takt.transfer.router import IMPORT_PATH
from takt.wiring import connect as connect_hooks
from takt.worker.runner import Worker

log = logging.getLogger("takt")

DESCRIPTION = """
Takt is a self-hostable, API-first backend for how software teams deliver: the backlog, sprints,
ceremonies, risks and blockers, code reviews and deployments, linked under one API.

* Authenticate with `Authorization: Bearer <token>` (the **Authorize** button takes your
  username and password).
* Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json`;
  `GET /problems/{code}` explains each `code`.
* Lists are cursor-paged: `{"data": [...], "next_cursor": "..."}`.
"""

TAGS = [
    {
        "name": "auth",
        "description": "Accounts, logins, refresh and personal access tokens; the web app's"
        " cookie session.",
    },
    {"name": "projects", "description": "Projects, their settings and members; finding people."},
    {"name": "workflow", "description": "A project's statuses (board columns) and labels."},
    {"name": "items", "description": "Work items: backlog, search, links, comments, history."},
    {"name": "sprints", "description": "Sprints: scope, capacity, burndown, velocity, forecasts."},
    {"name": "blockers", "description": "What blocks work items: age, escalation, suggestions."},
    {"name": "risks", "description": "The risk register: ratings, owners, reviews, the matrix."},
    {"name": "standups", "description": "Async daily stand-ups: config, entries, drafts, summary."},
    {"name": "retros", "description": "Retrospectives: anonymous cards, groups, votes, actions."},
    {"name": "estimation", "description": "Planning poker: hidden votes, reveal, calibration."},
    {
        "name": "delivery",
        "description": "Linked repositories, inbound GitHub and GitLab webhooks, pull requests.",
    },
    {
        "name": "deployments",
        "description": "Environments (the promotion path), deployments from CI, GitHub and "
        "GitLab, and what each shipped.",
    },
    {
        "name": "incidents",
        "description": "Incidents per environment, linked to the deployment that caused them.",
    },
    {
        "name": "readiness",
        "description": "Is it ready for production? Checks, the project's policy, promotion.",
    },
    {"name": "export and import", "description": "A whole project as one document, and back."},
    {"name": "events", "description": "The event log: every change, pulled by cursor."},
    {"name": "webhooks", "description": "Signed outbound webhooks, their delivery log, Slack."},
    {"name": "audit", "description": "Security-relevant actions: who, what, when, from where."},
    {
        "name": "operations",
        "description": "Health, readiness, metrics, the job queue and error explanations.",
    },
]


def build_security(
    settings: Settings, secret_key: str, database: Database | None = None
) -> Security:
    counters = counter_store(settings.redis_url)
    # Failed logins must be counted across every worker process: in Redis when there is one,
    # else in the database (logins are rare enough for a write each).
    login_counters = (
        counters if settings.redis_url or database is None else DatabaseCounterStore(database)
    )
    return Security(
        passwords=Passwords(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        access_tokens=AccessTokens(
            secret_key, lifetime=timedelta(minutes=settings.access_token_minutes)
        ),
        counters=counters,
        login_counters=login_counters,
        refresh_lifetime=timedelta(days=settings.refresh_token_days),
        pat_default_lifetime=timedelta(days=settings.pat_default_days),
        login_max_failures=settings.login_max_failures,
        principals=PrincipalCache(settings.principal_cache_seconds),
        login_window_seconds=settings.login_window_seconds,
        csrf_key=hashlib.sha256(b"takt-csrf:" + secret_key.encode()).digest(),
    )


def idempotency_caller(db: Database, security: Security) -> CallerScope:
    """What an `Idempotency-Key` is scoped to: the account, and the personal access token when
    one is used (a token is a credential of its own, with its own scopes and projects), not the
    header text. Access tokens from logins act as the account itself, so a client that
    refreshes its access token between two attempts still gets its replay. A missing, invalid
    or revoked credential gives None: the request runs undeduplicated and gets its 401."""

    async def caller(scope: Scope) -> str | None:
        scheme, token = get_authorization_scheme_param(Headers(scope=scope).get("authorization"))
        if scheme.lower() != "bearer" or not token:
            return None
        cache = security.principals
        cache_key = cache.key(token)
        principal = cache.get(cache_key)
        if principal is None:
            epoch = cache.epoch
            try:
                async with db.transaction(write=False) as session:
                    principal = await resolve_bearer(session, security, token)
            except Unauthorized:
                return None
            expires = principal.token_expires_at
            cache.put(cache_key, principal, token_expires=expires, now=utcnow(), epoch=epoch)
        if principal.via == "pat":
            return f"user:{principal.id}/pat:{principal.token_id}"
        return f"user:{principal.id}"

    return caller


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    embedded_worker: bool = False,
) -> FastAPI:
    """The app. `embedded_worker`: run a job worker in this process while it serves (what
    `takt serve` does unless told otherwise; apps built by tests and scripts run none)."""
    settings = settings or get_settings()
    secret_key = settings.resolved_secret_key()  # fails fast on a weak production key
    configure_logging(settings.log_level)
    metrics = Metrics()
    owns_database = database is None
    db = database or Database.from_settings(settings)
    security = build_security(settings, secret_key, db)
    connect_hooks()
    # Commits of this process, and on PostgreSQL of every process, wake the live stream and
    # the embedded worker (takt.core.wakeup).
    wakeups = Wakeups()
    db.commit_listeners.append(wakeups.on_commit)

    worker = Worker(db, settings, wakeups=wakeups, metrics=metrics) if embedded_worker else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("takt started", extra={"database": db.dialect, "version": takt.__version__})
        wakeups.listen_postgres(db.url)
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            await worker.stop()  # finishes or releases its running jobs
        await close_broadcaster(app.state)  # ends the live streams still open
        await wakeups.close()
        await security.counters.close()
        metrics.close()
        if owns_database:
            await db.dispose()
        log.info("takt stopped")

    app = FastAPI(
        title="Takt API",
        version=takt.__version__,
        summary="Backlog, sprints, ceremonies, risks, reviews and deployments under one API.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
        docs_url=None,  # served by install_docs, without CDNs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.metrics = metrics
    app.state.cursor_codec = CursorCodec(secret_key)
    app.state.security = security
    app.state.wakeups = wakeups
    metrics.watch_pools(db.pools)

    install_error_handlers(app)
    app.include_router(ops_router)
    if settings.bench_endpoints:
        app.include_router(bench_router)
    if db.direct is not None:
        # First of all routes (none of the others shares their paths): the GETs they can answer
        # skip the framework (takt.core.direct).
        app.router.routes[0:0] = [
            DirectRoute(API_PREFIX + path, handler, app.router, db.direct)
            for path, handler in DIRECT_READS
        ]
    # Just before the API's router: finds a request's route by its path (takt.core.routes).
    app.router.routes.append(RouteIndex(API_PREFIX, API_ROUTES, app.router))
    app.include_router(api_router, prefix=API_PREFIX)
    install_docs(app)
    # The web app answers what no route matched (a GET outside the API): takt.ops.web.
    app.router.default = web_app_fallback(settings.web_dist, app.router.not_found)

    # Added last = outermost: the request id and the 500 fallback wrap everything else.
    app.add_middleware(
        IdempotencyMiddleware, database=lambda: db, caller=idempotency_caller(db, security)
    )
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger={("POST", f"{API_PREFIX}{IMPORT_PATH}"): settings.max_import_bytes},
        larger_under={("POST", f"{API_PREFIX}{HOOKS_PREFIX}"): MAX_HOOK_BYTES},
    )
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "X-Request-ID", "Retry-After", "Location"],
        )
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics, access_log_enabled=settings.access_log
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            app.openapi_schema = polish_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
