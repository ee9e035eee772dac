"""How live streams end on a real server: a client that stops reading is dropped (its queue is
bounded) while the others keep up, and stopping the server ends every open stream at once."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from takt.config import Settings
from takt.core.db import Database
from tests.conftest import empty_all_tables
from tests.events.test_stream import ALL_EVENTS, API_EVENTS, STREAM, EventReader, opened
from tests.live import live_server
from tests.support import Account, app_for_module_data, make_project, make_user

QUEUE_SIZE = 10
SERVER_ENV = {
    "TAKT_EMBEDDED_WORKER": "false",
    "TAKT_SSE_HEARTBEAT_SECONDS": "0.5",
    "TAKT_SSE_QUEUE_SIZE": str(QUEUE_SIZE),
    "TAKT_RATE_LIMIT_PER_MINUTE": "1000000",
}
# Events big enough (an item's description changed, old and new, ~120 KB each) that a few dozen
# fill the socket buffers between the server and a client that doesn't read, and then its queue.
DESCRIPTION = "x" * 60_000
WRITES = 40


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(database_url, tmp_path_factory.mktemp("stream-ends"), **SERVER_ENV) as base:
        yield base


@pytest.fixture(scope="module")
async def ada(settings: Settings, server: str) -> AsyncIterator[Account]:
    database = Database.from_settings(settings)
    app = app_for_module_data(settings, database)
    ada = await make_user(app, database, "ada")
    await make_project(database, ada, "API")
    yield ada
    await empty_all_tables(database)
    await database.dispose()


def open_without_reading(base: str, headers: dict[str, str]) -> socket.socket:
    """A stream on a socket with a tiny receive buffer that is then never read; returns once
    the response has begun (the stream is subscribed)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.connect((host, int(port)))
    head = [f"GET {API_EVENTS} HTTP/1.1", f"Host: {host}", f"Accept: {STREAM}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sock.settimeout(10)
    assert sock.recv(12, socket.MSG_PEEK) == b"HTTP/1.1 200"
    return sock


def read_to_the_end(sock: socket.socket, within: float = 30.0) -> bytes | None:
    """Everything the server still sends, or None if the stream didn't end in time."""
    received = bytearray()
    deadline = time.monotonic() + within
    sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 16)
        except TimeoutError:
            continue
        if not chunk:
            return bytes(received)
        received += chunk
    return None


async def test_a_client_that_stops_reading_is_dropped_while_others_keep_up(
    server: str, ada: Account
) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        created = await client.post(
            "/api/v1/projects/API/items", json={"title": "Big"}, headers=ada.headers
        )
        key = created.json()["key"]
        stalled = await asyncio.to_thread(open_without_reading, server, ada.headers)
        try:
            async with opened(client, API_EVENTS, ada.headers) as keeping_up:
                for n in range(WRITES):
                    response = await client.patch(
                        f"/api/v1/items/{key}",
                        json={"description": f"{n} {DESCRIPTION}"},
                        headers=ada.headers,
                    )
                    assert response.status_code == 200, response.text
                got = await keeping_up.events(WRITES)
            rest = await asyncio.to_thread(read_to_the_end, stalled)
        finally:
            stalled.close()
    assert [e["data"]["changes"]["description"][1].split()[0] for e in got] == [
        str(n) for n in range(WRITES)
    ]
    assert rest is not None, "the stalled stream was never dropped"
    assert rest.count(b"event: item.updated") < WRITES


async def test_stopping_the_server_ends_open_streams(
    database_url: str, tmp_path: Path, ada: Account
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        with live_server(database_url, tmp_path, **SERVER_ENV) as base:
            streaming = opened(client, f"{base}{ALL_EVENTS}", ada.headers)
            stream: EventReader = await streaming.__aenter__()
            assert await stream.block() == [": keep-alive"]
        # The server has stopped (SIGTERM) while the stream was open.
        try:
            comments = await stream.comments_until_the_end()
        finally:
            await streaming.__aexit__(None, None, None)
    assert comments[-1] == ": closed: the server is stopping: reconnect with Last-Event-ID"
