"""A lean HTTP/1.1 client for the integrations benchmark's writes: keep-alive connections to one
loopback server, at most `connections` of them, each carrying one request at a time.

httpx spent about 4 ms of CPU per request here (and far more once requests queue in its pool),
as much as the server spends on the write itself: on a 2-core machine the client would take the
CPU the server is measured on. This one only writes the request and reads a `Content-Length`
or chunked answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

# uvicorn closes a keep-alive connection idle for 5 s; one idle this long is not used again (a
# request sent as the server closes it would fail without having been read).
IDLE_SECONDS = 2.0


class Connections:
    def __init__(self, port: int, token: str, *, connections: int = 64) -> None:
        self.port = port
        self.head = f"host: 127.0.0.1:{port}\r\nauthorization: Bearer {token}\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.slots = asyncio.Semaphore(connections)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(status, body) of a JSON POST. A request cancelled midway (a timeout) closes its
        connection: a half-read answer can't be left on one that is used again."""
        async with self.slots:
            reader, writer = await self._connection()
            try:
                writer.write(
                    b"POST %b HTTP/1.1\r\n%bcontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%b" % (path.encode(), self.head, len(body), body)
                )
                status, answer, keep = await _response(reader)
            except BaseException:
                writer.close()
                raise
            if keep:
                self.idle.append((reader, writer, time.monotonic()))
            else:
                writer.close()
            return status, answer

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self.idle:
            reader, writer, since = self.idle.pop()
            if time.monotonic() - since < IDLE_SECONDS:
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def close(self) -> None:
        for _, writer, _since in self.idle:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self.idle = []


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        body = bytearray()
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
        answer = bytes(body)
    else:
        answer = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, answer, headers.get("connection") != "close"
