"""The HTTP calls of webhook deliveries: one POST each, over HTTP/1.1 connections kept alive per
endpoint, framed and parsed by h11 (the HTTP/1.1 engine httpx itself runs on).

Why not httpx's client: a delivery's call is one small POST whose answer only needs its status
and the first 4 KiB of its body, and httpx's layers around it (redirects, auth, cookies, the
connection pool's bookkeeping, separate writes for the head and the body) cost about 0.45 ms of
CPU per call against 0.15 ms here, measured (bench/RESULTS.md, integrations): a third of what a
delivery costs the worker in all.

What each call keeps (docs/webhooks.md, Which URLs Takt calls):

- It connects to the address that was checked (`core.netguard`), never to the host name again,
  and names the host in `Host` and, over TLS, in SNI and the certificate check.
- A kept connection is reused only for the same scheme, host name, port and checked address:
  a connection verified for one host's name never carries another host's call.
- Redirects are not followed (the status is the answer); no proxy is used; the body is asked
  for uncompressed and read up to 4 KiB (an answer longer than that closes the connection).
- A connection idle for `IDLE_SECONDS` is closed before the common servers' own idle limits
  (Node's 5 s). A kept connection found closed by the server before any answer came is
  replaced by a new one for one more try: the receiver may then see the delivery twice, with
  the same `webhook-id`, as after any retry.

The caller bounds the whole call with its timeout (`asyncio.timeout`); a connection whose call
was interrupted is closed, never reused.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import cast

import h11

from takt.core.netguard import Target

EXCERPT_BYTES = 4096
IDLE_SECONDS = 4.0
# Hosts whose idle connections are kept (per worker); the least recently used go first.
HOSTS_KEPT = 256
# Read no further ahead than this before the answer so far is parsed.
_READ_AHEAD = 64 * 1024

Key = tuple[str, str, int, str]


class CallFailed(Exception):
    """No answer: `connecting` when nothing was sent (the connection failed), so the call may
    go to the host's next address without delivering twice."""

    def __init__(self, message: str, *, connecting: bool) -> None:
        super().__init__(message)
        self.connecting = connecting


@dataclass(frozen=True)
class Answer:
    status: int
    # The start of the body, at most 4 KiB, as text (None when empty).
    excerpt: str | None


def destination(target: Target, address: str) -> tuple[str, int, str | None, str]:
    """Where a call to `target` at its checked `address` goes: the address and port to connect
    to, the name TLS must verify (None for plain http), and the `Host` header (the host name
    again, with the port when the URL has one)."""
    server_name = target.host if target.url.scheme == "https" else None
    return address, target.port, server_name, target.url.netloc.decode("ascii")


class _Wire(asyncio.Protocol):
    """One connection's bytes: what arrived and whether it ended. Data that comes while no call
    is waiting for an answer (a server's goodbye) marks the connection as not reusable."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.ended = False
        self.busy = True
        self.spoiled = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's, under `takt serve`, is not an asyncio.Transport
        # subclass, but has the same methods).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            self.spoiled = True
        self.received += data
        if len(self.received) > _READ_AHEAD and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self) -> bytes:
        """What arrived since the last read, waiting for some; b"" once the connection ended."""
        while not self.received and not self.ended:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = bytes(self.received)
        self.received.clear()
        if self.transport is not None and not self.ended:
            self.transport.resume_reading()
        return data


@dataclass(eq=False)
class _Connection:
    wire: _Wire
    http: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    idle_since: float = 0.0

    def reusable(self, now: float) -> bool:
        transport = self.wire.transport
        return (
            now - self.idle_since < IDLE_SECONDS
            and not self.wire.ended
            and not self.wire.spoiled
            and transport is not None
            and not transport.is_closing()
        )

    def close(self) -> None:
        if self.wire.transport is not None:
            self.wire.transport.close()


class _Stale(Exception):
    """A kept connection the server had closed: nothing came back."""


class Sender:
    """The calls of one worker (or of one delivery run by hand), with the connections it keeps
    alive: up to `keep` idle ones per (scheme, host, port, address), for `HOSTS_KEPT` hosts."""

    def __init__(self, tls: ssl.SSLContext, *, keep: int) -> None:
        self.tls = tls
        self.keep = keep
        self._idle: OrderedDict[Key, list[_Connection]] = OrderedDict()

    async def post(
        self, target: Target, address: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        """POST `body` to `target` at `address`, with `headers` and those the call needs
        (`host`, `content-length`, `accept-encoding`, basic auth from the URL's userinfo)."""
        key: Key = (target.url.scheme, target.host, target.port, address)
        request = request_head(target, headers, body)
        connection = self._take(key)
        if connection is not None:
            try:
                return await self._exchange(key, connection, request, body)
            except _Stale:
                pass  # closed by the server meanwhile: once more on a new connection
        connection = await self._connect(target, address)
        try:
            return await self._exchange(key, connection, request, body)
        except _Stale as exc:
            raise CallFailed(
                "request failed: the server closed the connection without answering",
                connecting=False,
            ) from exc

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _take(self, key: Key) -> _Connection | None:
        connections = self._idle.get(key)
        now = time.monotonic()
        while connections:
            connection = connections.pop()
            if connection.reusable(now):
                return connection
            connection.close()
        return None

    def _give_back(self, key: Key, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        connection.wire.busy = False
        connections = self._idle.pop(key, [])
        self._idle[key] = connections  # the most recently used last
        if len(connections) < self.keep:
            connections.append(connection)
        else:
            connection.close()
        while len(self._idle) > HOSTS_KEPT:
            _key, dropped = self._idle.popitem(last=False)
            for each in dropped:
                each.close()

    async def _connect(self, target: Target, address: str) -> _Connection:
        host, port, server_name, _host_header = destination(target, address)
        loop = asyncio.get_running_loop()
        try:
            _transport, wire = await loop.create_connection(
                _Wire,
                host=host,
                port=port,
                ssl=self.tls if server_name is not None else None,
                server_hostname=server_name,
            )
        except OSError as exc:  # refused, unreachable, TLS (ssl.SSLError is an OSError)
            raise CallFailed(f"could not connect: {_detail(exc)}", connecting=True) from exc
        return _Connection(wire)

    async def _exchange(
        self, key: Key, connection: _Connection, request: h11.Request, body: bytes
    ) -> Answer:
        """Send the request and read the answer; the connection goes back to the pool when the
        exchange ended cleanly and the server keeps it open, and is closed otherwise (also when
        the call is cancelled or times out)."""
        wire, http = connection.wire, connection.http
        wire.busy = True
        reuse = False
        answered = False
        try:
            assert wire.transport is not None
            # The head and the body in one write.
            sent = [
                http.send(request),
                http.send(h11.Data(data=body)),
                http.send(h11.EndOfMessage()),
            ]
            wire.transport.write(b"".join(part for part in sent if part))
            status = 0
            excerpt = bytearray()
            while True:
                try:
                    event = http.next_event()
                    if event is h11.NEED_DATA:
                        http.receive_data(await wire.read())
                        continue
                except h11.RemoteProtocolError as exc:
                    if not answered and wire.ended and not excerpt:
                        raise _Stale from exc
                    raise CallFailed(f"request failed: {exc}", connecting=False) from exc
                if isinstance(event, h11.Response):
                    status, answered = event.status_code, True
                elif isinstance(event, h11.Data):
                    excerpt += event.data
                    if len(excerpt) >= EXCERPT_BYTES:
                        break  # no further: the connection closes with the rest unread
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    reuse = http.our_state is h11.DONE and http.their_state is h11.DONE
                    break
            if reuse:
                http.start_next_cycle()
            return Answer(status, _text(excerpt))
        finally:
            if reuse:
                self._give_back(key, connection)
            else:
                connection.close()


def request_head(target: Target, headers: dict[str, str], body: bytes) -> h11.Request:
    """The request's line and headers: `headers` with those the call needs."""
    _host, _port, _name, host_header = destination(target, "")
    fields: list[tuple[str, str]] = [("host", host_header)]
    url = target.url
    if url.username or url.password:
        # Credentials in the URL are sent as basic auth, as HTTP clients do.
        pair = f"{url.username}:{url.password}".encode()
        fields.append(("authorization", "Basic " + base64.b64encode(pair).decode("ascii")))
    fields += [(name, value) for name, value in headers.items() if name.lower() != "host"]
    # Uncompressed: only the excerpt is read, and decompressing could blow a few bytes up
    # into a lot.
    fields += [("accept-encoding", "identity"), ("content-length", str(len(body)))]
    return h11.Request(method="POST", target=url.raw_path, headers=fields)


def _text(excerpt: bytearray) -> str | None:
    # Bytes that aren't UTF-8 (a character cut at the 4 KiB mark, a binary body) are dropped;
    # so is NUL, which PostgreSQL text can't hold.
    text = bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", "ignore").replace("\x00", "")
    return text or None


def _detail(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


__all__ = ["EXCERPT_BYTES", "Answer", "CallFailed", "Sender", "destination", "request_head"]
