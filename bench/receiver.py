"""A webhook receiver for the integrations benchmark: a bare asyncio HTTP/1.1 server on
127.0.0.1 that answers every POST `204 No Content` at once and records, per request, when it
arrived (`time.time()`, the clock every process of the machine shares), its path, `webhook-id`
and body.

Kept this small (an `asyncio.Protocol`, no framework) so that receiving costs little of the
CPU the server and its workers are measured on. It parses only what Takt's sender sends: a
request line, headers, a `Content-Length` body. Connections stay open for the next request
(HTTP/1.1 keep-alive, as any web server does), unless the request says `connection: close`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

ANSWER = b"HTTP/1.1 204 No Content\r\n\r\n"
ANSWER_AND_CLOSE = b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
HEADER_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # time.time() when the whole request was in
    path: str
    webhook_id: str
    headers: dict[str, str]  # the webhook-* headers (id, timestamp, signature)
    body: bytes


class _Connection(asyncio.Protocol):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.receiver.connections.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.receiver.connections.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > HEADER_LIMIT:
                    self._answer(BAD, close=True)
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is on its way
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            parts = head[0].split(" ")
            path = parts[1] if len(parts) > 1 else "/"
            signed = {k: v for k, v in headers.items() if k.startswith("webhook-")}
            arrival = Arrival(time.time(), path, headers.get("webhook-id", ""), signed, body)
            self.receiver.arrived(arrival)
            close = headers.get("connection", "").lower() == "close"
            self._answer(ANSWER_AND_CLOSE if close else ANSWER, close=close)

    def _answer(self, response: bytes, *, close: bool) -> None:
        assert self.transport is not None
        self.transport.write(response)
        if close:
            self.transport.close()
            self.buffer.clear()


class Receiver:
    """`await start()`, `url(path)`, then `arrivals` as they come; `await stop()`."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.connections: set[asyncio.Transport] = set()
        self.changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), "127.0.0.1", 0, backlog=1024
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def arrived(self, arrival: Arrival) -> None:
        self.arrivals.append(arrival)
        self.changed.set()

    def clear(self) -> None:
        self.arrivals = []

    def duplicates(self) -> int:
        """Requests beyond the first for one (path, webhook-id): deliveries made twice."""
        counts = Counter((a.path, a.webhook_id) for a in self.arrivals)
        return sum(n - 1 for n in counts.values())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in list(self.connections):
                transport.close()  # kept-alive connections end with the receiver
            await self._server.wait_closed()
            self._server = None
