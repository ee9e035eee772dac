"""The live event stream: one broadcaster per API process reads each newly committed event once
and hands it to every open stream that may see it (server-sent events, docs/events.md).

The event table stays the source of truth; the broadcaster only saves every stream from reading
it on every commit:
- it wakes on this process's commits and, on PostgreSQL, every process's (`core.wakeup`:
  LISTEN/NOTIFY), with a short poll behind them, and reads what is new in ONE statement for all
  projects, in cursor order below the committed horizon;
- it writes each event's frame once (the cursor as `id`, the envelope as `data`) and puts the
  same bytes on the bounded queue of each stream of that project whose type filter takes it;
- a stream whose queue is full is dropped, never buffered without bound: it ends, and the
  client resumes with `Last-Event-ID` (what it missed is in the table);
- a new stream registers first, then catches up from the table from its own cursor, then
  drains its queue skipping what the catch-up already sent: nothing lost, nothing repeated;
- every few seconds (`TAKT_PRINCIPAL_CACHE_SECONDS`, within 0.5 to 5) each stream's bearer token
  and visible projects are read again; a revoked token, a disabled account or a removed member
  ends the stream. Events that change who sees a project (joining, leaving, creating, deleting)
  take effect at once, so a stream over every project misses nothing of one just joined;
- one user holds at most `TAKT_SSE_MAX_STREAMS_PER_USER` streams open in this process (all of
  their tokens together): one more is a 429 before its response starts. The slot is taken and
  given back with the stream's registration, so every way a stream ends gives it back.
A stream holds no database connection between these short reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from takt.auth.principal import Principal
from takt.auth.service import Security, resolve_bearer
from takt.config import Settings
from takt.core.db import Database
from takt.core.errors import RateLimited, Unauthorized
from takt.core.events import Event
from takt.core.pagination import CursorCodec
from takt.core.wakeup import Wakeups
from takt.events import service
from takt.events.repository import Position
from takt.events.views import HEARTBEAT, closing_comment, event_frame

log = logging.getLogger("takt.stream")

# A look at the log without a wake-up: a NOTIFY lost while LISTEN reconnects, or an event held
# back by the committed horizon (a long write elsewhere) that no later commit announces.
POLL_SECONDS = 1.0
# Events read per statement; at most half a queue, so one batch can't drop a stream that keeps up.
MAX_BATCH = 500
# How often access is re-checked: the principal cache's lifetime, within these bounds.
CHECK_SECONDS = (0.5, 5.0)
# A stream that ended but is still stuck writing to a client that doesn't read is cut after this.
DROP_GRACE_SECONDS = 1.0
# A refused stream's Retry-After: a slot is free the moment one of the caller's streams ends, so
# there is no window to wait out; a short pause keeps a client that retries in a loop cheap.
RETRY_AFTER_SECONDS = 5

SLOW = "too slow: resume with Last-Event-ID"
SIGNED_OUT = "the token was revoked or expired, or the account disabled"
NOT_VISIBLE = "the project is no longer visible to you"
SHUTDOWN = "the server is stopping: reconnect with Last-Event-ID"
UNAVAILABLE = "the log can't be read right now: reconnect with Last-Event-ID"
LEFT = "the client left"
CLOSED = "closed"


class TooManyStreams(RateLimited):
    """You already have as many live event streams open as one user may
    (`TAKT_SSE_MAX_STREAMS_PER_USER`, 10 unless the operator changed it; counted per API process,
    over all of your tokens). Close a stream you no longer read: each open tab or client holds
    one, and `GET /api/v1/events/stream` carries every project you can see in one. Then try
    again after `Retry-After`."""

    code = "too-many-streams"
    title = "Too many open streams"


@dataclass(frozen=True, slots=True)
class Frame:
    """One event as every stream sends it, written once."""

    position: Position
    project_id: str
    type: str
    data: bytes


class Subscriber:
    """One open stream: who watches (and the token to re-check), which projects and types it
    shows, the frames waiting to be sent (at most `limit`), and why it ended."""

    __slots__ = (
        "bearer",
        "ended",
        "frames",
        "limit",
        "notes",
        "on_end",
        "owner",
        "principal",
        "project_id",
        "projects",
        "ready",
        "types",
    )

    def __init__(
        self,
        principal: Principal,
        bearer: str,
        *,
        project_id: str | None,
        types: Iterable[str] | None,
        limit: int,
    ) -> None:
        self.principal = principal
        # The user whose allowance of streams it uses (the principal may be read again later).
        self.owner = principal.id
        self.bearer = bearer
        self.project_id = project_id  # None: every project the principal can see
        self.types = frozenset(types) if types else None
        self.limit = limit
        self.projects: frozenset[str] = frozenset()
        self.frames: deque[Frame] = deque()
        self.ready = asyncio.Event()
        # Called once when it ends (its response then makes sure it finishes).
        self.on_end: Callable[[], object] | None = None
        self.ended: str | None = None
        # One per access check in progress: what events said about visibility meanwhile.
        self.notes: list[dict[str, bool]] = []

    def offer(self, frame: Frame) -> bool:
        """Queue a frame of one of its projects; False when the queue was full (dropped)."""
        if self.types is not None and frame.type not in self.types:
            return True
        if len(self.frames) >= self.limit:
            self.end(SLOW)
            return False
        self.frames.append(frame)
        self.ready.set()
        return True

    def end(self, reason: str) -> None:
        if self.ended is None:
            self.ended = reason
            self.frames.clear()
            self.ready.set()
            if self.on_end is not None:
                self.on_end()


class Broadcaster:
    """The process's one reader of new events and its open streams (see the module's doc)."""

    def __init__(
        self,
        database: Database,
        wakeups: Wakeups,
        codec: CursorCodec,
        security: Security,
        settings: Settings,
    ) -> None:
        self.database = database
        self.wakeups = wakeups
        self.codec = codec
        self.security = security
        self.heartbeat = settings.sse_heartbeat_seconds
        self.queue_size = settings.sse_queue_size
        self.max_streams = settings.sse_max_streams_per_user
        self.batch = max(1, min(MAX_BATCH, settings.sse_queue_size // 2))
        low, high = CHECK_SECONDS
        self.check_every = min(max(settings.principal_cache_seconds, low), high)
        self.position: Position = service.START
        self.subscribers: set[Subscriber] = set()
        # Open streams per user (`Subscriber.owner`): exactly those in `subscribers`.
        self._open_by_owner: dict[str, int] = {}
        self._by_project: dict[str, set[Subscriber]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._stopping = False
        self._signals: list[tuple[int, Any, Any]] = []

    # Life -------------------------------------------------------------------------------------

    async def start(self, session: AsyncSession) -> None:
        """Start reading (once): from the log's current end, in two tasks, the reader and the
        access checks (so a long check never delays a delivery). The end is read with the
        first stream request's own session: requests waiting here hold theirs, and a start
        that needed one more connection could wait for them forever."""
        async with self._lock:
            if self._tasks:
                return
            self.position = await service.last_position(session)
            self._tasks = [
                asyncio.create_task(self._read_loop(), name="takt-stream-reader"),
                asyncio.create_task(self._check_loop(), name="takt-stream-checks"),
            ]
            self._end_streams_on_exit_signals()

    def end_all(self, reason: str = SHUTDOWN) -> None:
        """End every stream (the server stops); new ones end at once too."""
        self._stopping = True
        for subscriber in list(self.subscribers):
            self._drop(subscriber, reason)

    async def close(self) -> None:
        self.end_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for signum, previous, ours in self._signals:
            if signal.getsignal(signum) is ours:
                signal.signal(signum, previous)
        self._signals = []

    def _end_streams_on_exit_signals(self) -> None:
        """uvicorn waits for open requests to finish (up to its graceful timeout) before it
        stops the app, and a stream never finishes by itself; so on the signal that stops the
        server the streams end at once (clients reconnect with Last-Event-ID), then the
        server's own handler runs as before."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if not callable(previous):
                continue  # nobody stops gracefully on it: nothing to wait for
            ours = _chained(loop, self.end_all, previous)
            signal.signal(signum, ours)
            self._signals.append((signum, previous, ours))

    # One stream -------------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber, after: Position | None) -> Position:
        """Register a new stream before its response starts, so everything committed from
        here on reaches it; answers where it starts (`after`, or now when None). Raises
        `TooManyStreams` when its user already has `max_streams` open here: the count is
        checked and taken with no await in between, so concurrent opens can't pass it together."""
        held = self._open_by_owner.get(subscriber.owner, 0)
        if held >= self.max_streams:
            raise TooManyStreams(
                f"You have {held} live streams open on this server, as many as one user may:"
                " close one, then try again.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._open_by_owner[subscriber.owner] = held + 1
        self.subscribers.add(subscriber)
        if self._stopping:
            subscriber.end(SHUTDOWN)
        return self.position if after is None else after

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._drop(subscriber, CLOSED)

    def open_streams(self, owner: str) -> int:
        """How many streams the user `owner` has open in this process."""
        return self._open_by_owner.get(owner, 0)

    async def frames(self, subscriber: Subscriber, position: Position) -> AsyncGenerator[bytes]:
        """What a subscribed stream sends: its events after `position` from the table, then
        live ones from its queue, heartbeats in quiet times, and a closing comment."""
        try:
            try:
                if subscriber.ended is None:
                    await self._check_one(subscriber)
                if subscriber.ended is None:
                    catching_up = self._catch_up(subscriber, position)
                    async with contextlib.aclosing(catching_up) as backlog:
                        async for chunk, position in backlog:  # noqa: B007 (moves the loop on)
                            yield chunk
            except Exception:
                log.exception("a live stream could not read the log")
                subscriber.end(UNAVAILABLE)
            while subscriber.ended is None:
                if not subscriber.frames:
                    subscriber.ready.clear()
                    if not await _woken(subscriber.ready, self.heartbeat):
                        yield HEARTBEAT
                    continue
                chunk, position = _newer(subscriber.frames, position)
                if chunk:
                    yield chunk
            yield closing_comment(subscriber.ended)
        finally:
            self._drop(subscriber, CLOSED)

    async def _catch_up(
        self, subscriber: Subscriber, position: Position
    ) -> AsyncGenerator[tuple[bytes, Position]]:
        """From the table: the stream's events after `position`, batch by batch, until the
        reads come back short (the live queue holds the rest)."""
        while subscriber.ended is None and subscriber.projects:
            async with self.database.transaction(write=False) as session:
                rows = await service.events_after(
                    session,
                    position,
                    project_ids=sorted(subscriber.projects),
                    types=sorted(subscriber.types) if subscriber.types else None,
                    limit=self.batch,
                )
            if rows:
                frames = [self._frame(event, username, key) for event, username, key in rows]
                position = frames[-1].position
                yield b"".join(f.data for f in frames), position
            if len(rows) < self.batch:
                return

    # The reader -------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            waiter = self.wakeups.waiter("events")  # before reading: no commit slips between
            try:
                more = await self._read()
            except Exception:
                log.exception("the live stream could not read new events")
                more = False
            if not more:
                await Wakeups.wait(waiter, POLL_SECONDS)

    async def _read(self) -> bool:
        """Read the next batch of new events and hand them out; True if more may be waiting."""
        async with self.database.transaction(write=False) as session:
            rows = await service.events_after(session, self.position, limit=self.batch)
        for event, username, key in rows:
            self._publish(event, key, self._frame(event, username, key))
        return len(rows) == self.batch

    def _frame(self, event: Event, username: str | None, key: str) -> Frame:
        position = (event.tx, event.seq)
        cursor = service.cursor_of(self.codec, position)
        data = event_frame(cursor, event, username, key)
        return Frame(position, event.project_id or "", event.type, data)

    def _publish(self, event: Event, key: str, frame: Frame) -> None:
        losing: list[Subscriber] = []
        if event.type in service.SIGHT_EVENTS:
            losing = self._follow_sight(event, key)
        dropped = [s for s in self._by_project.get(frame.project_id, ()) if not s.offer(frame)]
        for subscriber in dropped:
            self._drop(subscriber, SLOW)
        for subscriber in losing:
            if subscriber.project_id is None:
                self._show(subscriber, subscriber.projects - {frame.project_id})
            else:
                self._drop(subscriber, NOT_VISIBLE)
        self.position = frame.position

    def _follow_sight(self, event: Event, key: str) -> list[Subscriber]:
        """Apply what `event` says about who sees its project: gains now (the event itself is
        then delivered to them), losses returned to apply once it is delivered."""
        project_id = event.project_id or ""
        losing = []
        for subscriber in list(self.subscribers):
            if subscriber.project_id not in (None, project_id):
                continue
            seen = service.sight_change(event, key, subscriber.principal)
            if seen is None:
                continue
            for note in subscriber.notes:
                note[project_id] = seen
            if not seen:
                losing.append(subscriber)
            elif subscriber.project_id is None:
                self._show(subscriber, subscriber.projects | {project_id})
        return losing

    # Access checks ----------------------------------------------------------------------------

    async def _check_loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_every)
            try:
                await self._check(list(self.subscribers))
            except Exception:
                log.exception("the live stream could not re-check its clients' access")

    async def _check(self, subscribers: list[Subscriber]) -> None:
        """Read each stream's token and visible projects again, once per token and per
        (viewer, scope) however many streams share them, in one short read."""
        notes: list[dict[str, bool]] = [{} for _ in subscribers]
        for subscriber, note in zip(subscribers, notes, strict=True):
            subscriber.notes.append(note)
        try:
            async with self.database.transaction(write=False) as session:
                principals: dict[str, Principal | None] = {}
                seen: dict[tuple[Any, ...], frozenset[str]] = {}
                for subscriber, note in zip(subscribers, notes, strict=True):
                    if subscriber.ended is not None:
                        continue
                    bearer = subscriber.bearer
                    if bearer not in principals:
                        principals[bearer] = await self._resolve(session, bearer)
                    principal = principals[bearer]
                    if principal is None:
                        self._drop(subscriber, SIGNED_OUT)
                        continue
                    viewer = (principal.id, principal.is_admin, principal.project_keys)
                    scope = (*viewer, subscriber.project_id)
                    if scope not in seen:
                        seen[scope] = await service.visible_projects(
                            session, principal, subscriber.project_id
                        )
                    subscriber.principal = principal
                    self._settle(subscriber, seen[scope], note)
        finally:
            for subscriber, note in zip(subscribers, notes, strict=True):
                with contextlib.suppress(ValueError):
                    subscriber.notes.remove(note)

    async def _check_one(self, subscriber: Subscriber) -> None:
        """A new stream's projects (its token was just resolved by the request)."""
        note: dict[str, bool] = {}
        subscriber.notes.append(note)
        try:
            async with self.database.transaction(write=False) as session:
                visible = await service.visible_projects(
                    session, subscriber.principal, subscriber.project_id
                )
        finally:
            subscriber.notes.remove(note)
        self._settle(subscriber, visible, note)

    async def _resolve(self, session: AsyncSession, bearer: str) -> Principal | None:
        try:
            return await resolve_bearer(session, self.security, bearer)
        except Unauthorized:
            return None

    def _settle(
        self, subscriber: Subscriber, visible: frozenset[str], note: dict[str, bool]
    ) -> None:
        """Visibility as read, corrected by the events that changed it while it was read."""
        projects = set(visible)
        for project_id, seen in note.items():
            if seen:
                projects.add(project_id)
            else:
                projects.discard(project_id)
        if subscriber.project_id is not None and subscriber.project_id not in projects:
            self._drop(subscriber, NOT_VISIBLE)
            return
        self._show(subscriber, frozenset(projects))

    # The index of streams by project -----------------------------------------------------------

    def _show(self, subscriber: Subscriber, projects: frozenset[str]) -> None:
        if subscriber.ended is not None:
            return
        for project_id in subscriber.projects - projects:
            self._unindex(project_id, subscriber)
        for project_id in projects - subscriber.projects:
            self._by_project.setdefault(project_id, set()).add(subscriber)
        subscriber.projects = projects

    def _unindex(self, project_id: str, subscriber: Subscriber) -> None:
        streams = self._by_project.get(project_id)
        if streams is not None:
            streams.discard(subscriber)
            if not streams:
                del self._by_project[project_id]

    def _drop(self, subscriber: Subscriber, reason: str) -> None:
        """End a stream and forget it; every way a stream ends comes here, once or more."""
        subscriber.end(reason)
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)
            left = self._open_by_owner[subscriber.owner] - 1
            if left:
                self._open_by_owner[subscriber.owner] = left
            else:
                del self._open_by_owner[subscriber.owner]
        for project_id in subscriber.projects:
            self._unindex(project_id, subscriber)
        subscriber.projects = frozenset()


def _chained(
    loop: asyncio.AbstractEventLoop,
    end_all: Callable[[], None],
    previous: Callable[[int, FrameType | None], Any],
) -> Callable[[int, FrameType | None], Any]:
    def handler(signum: int, frame: FrameType | None) -> Any:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(end_all)
        return previous(signum, frame)

    return handler


async def _woken(event: asyncio.Event, timeout: float) -> bool:
    """Wait for `event` up to `timeout` seconds; False if the time ran out."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


def _newer(frames: deque[Frame], position: Position) -> tuple[bytes, Position]:
    """Take the queued frames; keep those after `position` (the catch-up sent the others)."""
    chunk = []
    while frames:
        frame = frames.popleft()
        if frame.position > position:
            chunk.append(frame.data)
            position = frame.position
    return b"".join(chunk), position


# The HTTP side ----------------------------------------------------------------------------------


class EventStreamResponse(StreamingResponse):
    """A stream's response: `text/event-stream`, never cached nor buffered by a proxy. It ends
    when the client leaves or when the stream ends (dropped, cut off, the server stopping); a
    stream still stuck writing to a client that doesn't read a moment after it ended is cut.
    One task more than the request's own (it listens for the client leaving), so a thousand
    open streams stay light.

    The stream is registered when the response begins, and unregistered in the same call's
    `finally`: its user's slot (`Broadcaster.subscribe`) is held exactly while it runs, even if
    the request fails between the handler and the response. A refusal raised there, before
    anything is sent, is answered by the app's error handler like any other problem."""

    media_type = "text/event-stream"

    def __init__(
        self, broadcaster: Broadcaster, subscriber: Subscriber, after: Position | None
    ) -> None:
        # No body iterator yet: the frames are made once the stream is registered (__call__).
        super().__init__(
            (),
            media_type=self.media_type,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self.broadcaster = broadcaster
        self.subscriber = subscriber
        self.after = after
        self._task: asyncio.Task[Any] | None = None
        self._done = False
        self._cut = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = self.broadcaster.subscribe(self.subscriber, self.after)  # or 429, nothing sent
        task = self._task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        listener: asyncio.Task[None] | None = None
        try:
            self.subscriber.on_end = lambda: loop.call_later(DROP_GRACE_SECONDS, self._cut_if_stuck)
            listener = loop.create_task(self._until_the_client_leaves(receive))
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            frames = self.broadcaster.frames(self.subscriber, start)
            async with contextlib.aclosing(frames) as chunks:
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            if not self._cut or task is None:
                raise
            task.uncancel()  # our own cut: the server then closes the connection
        finally:
            self._done = True
            if listener is not None:
                listener.cancel()
            self.subscriber.on_end = None
            # However it ended, also when the frames never started (the client left at once):
            # this gives its user's slot back.
            self.broadcaster.unsubscribe(self.subscriber)

    async def _until_the_client_leaves(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.subscriber.end(LEFT)

    def _cut_if_stuck(self) -> None:
        if not self._done and self._task is not None:
            self._cut = True
            self._task.cancel()


def broadcaster_of(state: Any) -> Broadcaster:
    """The app's broadcaster (`app.state`), made on the first stream request."""
    found: Broadcaster | None = getattr(state, "broadcaster", None)
    if found is None:
        found = state.broadcaster = Broadcaster(
            state.db, state.wakeups, state.cursor_codec, state.security, state.settings
        )
    return found


async def close_broadcaster(state: Any) -> None:
    """At shutdown: end the streams and stop reading (if any stream was ever opened)."""
    found: Broadcaster | None = getattr(state, "broadcaster", None)
    if found is not None:
        await found.close()


async def open_stream(
    state: Any,
    session: AsyncSession,
    principal: Principal,
    bearer: str,
    *,
    project_id: str | None,
    types: Iterable[str] | None,
    cursor: str | None,
) -> EventStreamResponse:
    """A stream of the project's events (`project_id`) or of every project the principal sees,
    after `cursor` or from now on. A bad cursor is a 400 here, and one stream more than the
    principal's user may hold a 429 (`TooManyStreams`) when the response begins: both before
    the stream starts."""
    broadcaster = broadcaster_of(state)
    after = service.position_of(broadcaster.codec, cursor) if cursor else None
    await broadcaster.start(session)
    subscriber = Subscriber(
        principal, bearer, project_id=project_id, types=types, limit=broadcaster.queue_size
    )
    return EventStreamResponse(broadcaster, subscriber, after)
