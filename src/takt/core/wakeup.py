"""Wake-ups: tell waiting loops (the live stream, the webhook relay, the worker) that events or
jobs were committed, so they read the tables at once instead of on their next poll.

The tables stay the source of truth; a wake-up only says "look now". Two sources feed it:
- this process's own commits (`Database.commit_listeners`): a session that emitted events or
  enqueued jobs flags itself (`session.info`), and its commit signals here;
- on PostgreSQL, every process's commits: statement triggers on `events` and `jobs` NOTIFY the
  channels `takt_events` and `takt_jobs` (delivered only at commit, never for a rollback), and
  one LISTEN connection per process signals here.
A lost wake-up (the LISTEN connection reconnecting) costs at most one poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Literal

from sqlalchemy.engine import make_url

from takt.core.events import EVENTS_EMITTED
from takt.core.jobs import JOBS_ENQUEUED

log = logging.getLogger("takt.wakeup")

Channel = Literal["events", "jobs"]
CHANNELS: tuple[Channel, ...] = ("events", "jobs")
_POSTGRES_CHANNELS: dict[str, Channel] = {"takt_events": "events", "takt_jobs": "jobs"}
_FLAGS: dict[str, Channel] = {EVENTS_EMITTED: "events", JOBS_ENQUEUED: "jobs"}


class Wakeups:
    """Per process (per app or worker): `waiter(channel)` before reading, then `await
    wait(waiter, timeout)`; a commit in between sets it, so nothing committed after the read
    can be missed for longer than the timeout."""

    def __init__(self) -> None:
        self._events: dict[Channel, asyncio.Event] = {}
        self._listener: asyncio.Task[None] | None = None

    def waiter(self, channel: Channel) -> asyncio.Event:
        """The event the next signal of `channel` sets. Take it *before* reading the table."""
        current = self._events.get(channel)
        if current is None or current.is_set():
            current = self._events[channel] = asyncio.Event()
        return current

    def signal(self, channel: Channel) -> None:
        current = self._events.pop(channel, None)
        if current is not None:
            current.set()

    @staticmethod
    async def wait(waiter: asyncio.Event, timeout: float) -> bool:
        """True when woken, False when the timeout passed first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout)
            return True
        return False

    def on_commit(self, info: dict[str, Any]) -> None:
        """A `Database.commit_listeners` entry: signal what the committed session flagged."""
        for flag, channel in _FLAGS.items():
            if info.pop(flag, False):
                self.signal(channel)

    def listen_postgres(self, database_url: str) -> None:
        """Start the LISTEN connection (PostgreSQL only; SQLite has one process)."""
        if make_url(database_url).get_backend_name() != "postgresql" or self._listener:
            return
        self._listener = asyncio.create_task(self._listen(database_url), name="takt-listen")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _listen(self, database_url: str) -> None:
        import asyncpg

        url = make_url(database_url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        delay = 0.5
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(dsn)
                for name in _POSTGRES_CHANNELS:
                    await connection.add_listener(name, self._notified)
                delay = 0.5
                # Anything committed while we were not listening: look now.
                for channel in CHANNELS:
                    self.signal(channel)
                while not connection.is_closed():
                    await asyncio.sleep(5)
                    await connection.execute("SELECT 1")  # notices a dropped connection
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection lost, reconnecting", extra={"error": str(exc)})
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

    def _notified(self, _connection: Any, _pid: int, channel: str, _payload: str) -> None:
        self.signal(_POSTGRES_CHANNELS[channel])
