"""Many live-stream (server-sent events) clients in one process, as cheap as they can be:
`BENCH_TOKEN=<bearer> python -m bench.sse_clients --port P --path /api/v1/projects/K/events
--clients 500`.

Each client is a raw asyncio connection: it sends one GET with `Accept: text/event-stream`, reads
the chunked answer chunk by chunk and notes, for each event whose `data` starts with an item key
(`item.created`), when it arrived (`time.time()`). No HTTP library, no JSON parsing: 1,000 of
them must not take the CPU the server is measured on.

Protocol with the parent (stdin/stdout, one line each): the process prints `ready N` once N
clients got their `200` (or `failed N <reason>` when one didn't), then reads stdin; a `stop` line
(or the end of stdin) closes every connection and prints one line of JSON: `{"arrivals": {key:
[t, ...]}, "ended": n, "errors": [...], "cpu_seconds": s}` (`ended`: streams the server closed
before `stop`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import time
from collections import defaultdict

import orjson

KEY = re.compile(rb'"data":\{"key":"([^"]+)"')
CONNECT_BATCH = 50  # connections opened at once: the server's accept queue stays short


class Clients:
    def __init__(self, port: int, path: str, token: str) -> None:
        self.port = port
        self.request = (
            f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
            f"authorization: Bearer {token}\r\naccept: text/event-stream\r\n\r\n"
        ).encode()
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.ended = 0
        self.errors: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, count: int) -> int:
        """Open `count` streams; the number that answered 200."""
        ready = 0
        for first in range(0, count, CONNECT_BATCH):
            batch = min(CONNECT_BATCH, count - first)
            started: list[asyncio.Future[bool]] = []
            for _ in range(batch):
                answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
                started.append(answered)
                self.tasks.append(asyncio.create_task(self._stream(answered)))
            ready += sum(await asyncio.gather(*started))
        return ready

    async def _stream(self, answered: asyncio.Future[bool]) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(self.request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            answered.set_result(status == b"200")
            if status != b"200":
                self.errors.append(head.decode("latin-1").splitlines()[0])
                writer.close()
                return
            await self._read(reader)
            self.ended += 1
            writer.close()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not answered.done():
                answered.set_result(False)
            self.errors.append(f"{type(exc).__name__}: {exc}")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        """Chunked transfer encoding: a size line, that many bytes, CRLF; 0 ends it."""
        arrivals = self.arrivals
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                return
            chunk = await reader.readexactly(size + 2)
            now = time.time()
            for key in KEY.findall(chunk):
                arrivals[key.decode()].append(now)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def main(args: argparse.Namespace) -> None:
    clients = Clients(args.port, args.path, os.environ["BENCH_TOKEN"])
    ready = await clients.open(args.clients)
    if ready == args.clients:
        print(f"ready {ready}", flush=True)
    else:
        print(f"failed {ready} {clients.errors[:3]}", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() == "stop":
            break
    ended = clients.ended
    await clients.close()
    times = os.times()
    result = {
        "arrivals": clients.arrivals,
        "ended": ended,
        "errors": clients.errors[:20],
        "error_count": len(clients.errors),
        "cpu_seconds": round(times.user + times.system, 2),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sse_clients", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--clients", type=int, default=500)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # the standard loop works too, at a little more CPU per read
        asyncio.run(main(args))
    else:
        uvloop.run(main(args))


if __name__ == "__main__":
    cli()
