"""JSON log lines, and one access-log record per request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.logging import JsonFormatter, request_id_var

ClientFor = Callable[[FastAPI], AbstractAsyncContextManager[AsyncClient]]


class ListHandler(logging.Handler):
    """Keeps each record formatted as it is emitted, while its request id is current."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("takt.test.json")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)


@pytest.fixture
def access_log() -> Iterator[ListHandler]:
    log = logging.getLogger("takt.access")
    handler = ListHandler()
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    yield handler
    log.removeHandler(handler)
    log.setLevel(level)
    log.propagate = propagate


def test_json_formatter_writes_one_object_per_record_with_extras(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    token = request_id_var.set("req-9")
    try:
        log.warning("sprint %s started", "S-1", extra={"project_id": "p-1", "items": 12})
    finally:
        request_id_var.reset(token)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry == {
        "time": entry["time"],
        "level": "warning",
        "logger": "takt.test.json",
        "message": "sprint S-1 started",
        "request_id": "req-9",
        "project_id": "p-1",
        "items": 12,
    }
    assert entry["time"].endswith("Z")


def test_json_formatter_leaves_out_request_id_outside_requests(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.info("background job ran")
    entry = json.loads(stream.getvalue())
    assert "request_id" not in entry
    assert entry["level"] == "info"


def test_json_formatter_keeps_a_multiline_traceback_on_one_line(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("job failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert "ValueError: boom" in entry["exception"]
    assert entry["level"] == "error"


def test_json_formatter_writes_unserialisable_extras_as_text(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.info("file written", extra={"path": Path("/tmp/export.json")})
    assert json.loads(stream.getvalue())["path"] == "/tmp/export.json"


async def test_access_log_has_one_record_per_request_with_route_template(
    make_quiet_app: Callable[..., FastAPI], client_for: ClientFor, access_log: ListHandler
) -> None:
    async with client_for(make_quiet_app(access_log=True)) as client:
        response = await client.get(
            "/problems/version-conflict", headers={"X-Request-ID": "req-42"}
        )
    assert response.status_code == 200
    [entry] = access_log.entries()
    assert entry["logger"] == "takt.access"
    assert entry["method"] == "GET"
    assert entry["route"] == "/problems/{code}"
    assert entry["path"] == "/problems/version-conflict"
    assert entry["status"] == 200
    assert isinstance(entry["duration_ms"], int | float)
    assert entry["duration_ms"] >= 0
    assert entry["request_id"] == "req-42"


async def test_access_log_records_error_status_and_unmatched_route(
    make_quiet_app: Callable[..., FastAPI], client_for: ClientFor, access_log: ListHandler
) -> None:
    async with client_for(make_quiet_app(access_log=True)) as client:
        response = await client.get("/no/such/path")
    [entry] = access_log.entries()
    assert entry["status"] == 404
    assert entry["route"] == "<unmatched>"
    assert entry["request_id"] == response.headers["x-request-id"]


async def test_access_log_off_writes_nothing(
    make_quiet_app: Callable[..., FastAPI], client_for: ClientFor, access_log: ListHandler
) -> None:
    async with client_for(make_quiet_app(access_log=False)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert access_log.lines == []
