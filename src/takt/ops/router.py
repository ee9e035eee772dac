"""`/healthz`, `/readyz`, `/metrics` and `/problems/{code}`: outside `/api/v1`, no auth."""

from __future__ import annotations

import html
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text

from takt.core.db import Database
from takt.core.errors import PROBLEM_CATALOGUE, NotFound, ServiceUnavailable
from takt.core.jobs import queue_stats
from takt.core.metrics import Metrics, queue_exposition
from takt.core.migrations import migration_state
from takt.core.problems import Problem

log = logging.getLogger("takt.ops")

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str = Field(description="`ok` when the check passed.", examples=["ok"])


class Readiness(Health):
    database: str = Field(description="Database dialect in use.", examples=["postgresql"])


@router.get("/healthz", summary="Liveness: the process is up", operation_id="get_health")
async def healthz() -> Health:
    """Answers 200 while the process can serve requests; checks nothing else."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: database reachable and migrated",
    operation_id="get_readiness",
    responses={503: {"model": Problem, "description": "Database unreachable or not migrated."}},
)
async def readyz(request: Request) -> Readiness:
    """200 when the database answers and is at the migration head, else a 503 problem."""
    db: Database = request.app.state.db
    try:
        async with db.read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        reason = await migration_state(db.read_engine)
    except Exception as exc:
        raise ServiceUnavailable(f"The database is unreachable: {type(exc).__name__}.") from exc
    if reason:
        raise ServiceUnavailable(f"Not ready: {reason}; run `takt migrate`.")
    return Readiness(status="ok", database=db.dialect)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    operation_id="get_metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition."}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status, database pool gauges, the jobs
    this process's worker ran, and the job queue (read from the database: every worker's)."""
    registry: Metrics = request.app.state.metrics
    body = generate_latest(registry.registry)
    db: Database = request.app.state.db
    try:
        async with db.transaction(write=False) as session:
            body += queue_exposition(await queue_stats(session))
    except Exception as exc:
        # The process's own figures still help when the database is what's wrong.
        log.warning("no queue figures for /metrics", extra={"error": f"{type(exc).__name__}"})
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/problems/{code}",
    summary="Explain an error code",
    operation_id="get_problem",
    response_class=HTMLResponse,
    responses={404: {"model": Problem, "description": "No such problem code."}},
)
async def problem_page(code: str) -> HTMLResponse:
    """A short page that explains a problem `code` and what to do about it."""
    entry = PROBLEM_CATALOGUE.get(code)
    if entry is None:
        raise NotFound(f"No problem type '{code}'.")
    status, title, explanation = entry
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1><p>HTTP {status} · code "
        f"<code>{html.escape(code)}</code></p><p>{html.escape(explanation)}</p></body></html>"
    )
    return HTMLResponse(page)


bench_router = APIRouter(tags=["operations"], include_in_schema=False)


@bench_router.get("/bench/ping")
async def bench_ping() -> Response:
    """The benchmark denominator: a bare JSON answer through the same middleware stack."""
    return Response(b'{"status":"ok"}', media_type="application/json")
