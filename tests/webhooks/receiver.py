"""A real HTTP endpoint for webhook tests: a threaded server on 127.0.0.1 that records every
request and answers each path as told (a status, a hang, a redirect, a big body), over plain
HTTP or TLS; and helpers that point webhooks at it and run the delivery engine by hand."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import event

from takt.config import Settings
from takt.core import jobs
from takt.core.crypto import SecretBox
from takt.core.db import Database
from takt.core.jobs import Attempted, Job, JobContext, RetryJob, Verdict
from takt.core.time import utcnow
from takt.webhooks.jobs import DELIVER, JOB_KINDS, delivery_job_key
from takt.webhooks.models import Webhook
from takt.webhooks.relay import relay_batch


@dataclass
class Answer:
    """How the receiver answers a path."""

    status: int = 200
    body: bytes = b"ok"
    # Seconds to wait before answering (a hanging endpoint).
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    # The address the request came in on, and the name TLS was asked for (None: plain HTTP or
    # no SNI).
    local_address: str
    sni: str | None
    # The sender's end of the connection (address, port): two requests with the same came over
    # one kept-alive connection.
    peer: tuple[str, int] = ("", 0)

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """`with Receiver() as receiver:` or `start()`/`stop()`; `url(path)`; `answer(path, …)`;
    `requests` (or `received(path)`) once they arrived."""

    def __init__(self, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self._answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self.requests: list[Received] = []
        self._sni: dict[int, str | None] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up on a hanging answer

        self._server = Server((host, 0), Handler)
        if tls is not None:
            tls.sni_callback = self._remember_sni
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _remember_sni(
        self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _ctx: Any
    ) -> None:
        self._sni[id(sock)] = name

    # Setting up --------------------------------------------------------------------------------

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def answer(
        self,
        path: str,
        status: int = 200,
        *,
        body: bytes = b"ok",
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self._answers[path] = Answer(status, body, delay, headers or {})

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.answer(path, status, body=b"", headers={"Location": location})

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return self._of(path)

    def wait_for(self, path: str | None, count: int, timeout: float = 20.0) -> list[Received]:
        """Block until `count` requests to `path` arrived (fails after `timeout`); call it with
        `asyncio.to_thread` from a test."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self._of(path)) >= count, timeout)
            assert arrived, f"{len(self._of(path))} of {count} requests to {path} arrived"
            return self._of(path)

    def _of(self, path: str | None) -> list[Received]:
        return [r for r in self.requests if path is None or r.path == path]

    # Answering -------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        if len(body) < length:
            return  # the sender died mid-request: nothing arrived, as for any real endpoint
        sock = handler.connection
        local = sock.getsockname()[0]
        request = Received(
            path=handler.path,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            local_address=local,
            sni=self._sni.get(id(sock)),
            peer=(str(handler.client_address[0]), int(handler.client_address[1])),
        )
        with self._arrived:
            self.requests.append(request)
            answer = self._answers.get(handler.path, Answer())
            self._arrived.notify_all()
        deadline = time.monotonic() + answer.delay
        while time.monotonic() < deadline and not self._stopping.is_set():
            time.sleep(0.02)
        handler.send_response(answer.status)
        for name, value in answer.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body)


@contextmanager
def receiving(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    with Receiver(tls) as receiver:
        yield receiver


# Webhooks that call it, and the engine run by hand ------------------------------------------------


def engine_settings(settings: Settings, **changes: Any) -> Settings:
    """The test settings with private targets allowed (the receiver is on loopback)."""
    return settings.model_copy(update={"webhook_allow_private": True, **changes})


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def add_webhook(
    db: Database,
    settings: Settings,
    project_id: str,
    url: str,
    *,
    event_types: Sequence[str] = ("*",),
    kind: str = "standard",
    created_at: datetime | None = None,
    enabled: bool = True,
) -> tuple[str, str]:
    """A webhook row as the API would store it (URL and secret sealed): (its id, its secret)."""
    box = SecretBox(settings.resolved_secret_key())
    secret = new_secret()
    async with db.transaction() as session:
        webhook = Webhook(
            project_id=project_id,
            kind=kind,
            url_encrypted=box.seal(url),
            url_display=url,
            event_types=list(event_types),
            enabled=enabled,
            secret_encrypted=box.seal(secret),
            created_at=created_at or utcnow(),
        )
        session.add(webhook)
    return webhook.id, secret


async def relay_all(db: Database) -> int:
    """Run the relay until it has caught up; the batches it ran."""
    batches = 0
    while True:
        async with db.transaction() as session:
            more = await relay_batch(session)
        batches += 1
        if not more:
            return batches


@dataclass(frozen=True)
class Ran:
    job: Job
    retry: RetryJob | None


async def run_deliveries(ctx: JobContext) -> list[Ran]:
    """Claim the delivery jobs that are due and run each once, recording its outcome as the
    worker does (deleted on success, ready again or dead on `RetryJob`)."""
    (kind,) = JOB_KINDS
    async with ctx.database.transaction() as session:
        claimed = await jobs.claim(
            session,
            worker_id=ctx.worker_id,
            limit=100,
            lease=timedelta(seconds=60),
            kinds=[DELIVER],
        )
    ran = []
    for job in claimed:
        retry = None
        try:
            await kind.run(ctx, job)
        except RetryJob as exc:
            retry = exc
        async with ctx.database.transaction() as session:
            if retry is None:
                await jobs.complete(session, job.id, ctx.worker_id)
            else:
                await jobs.fail(session, job, ctx.worker_id, error=str(retry), retry_at=retry.at)
        ran.append(Ran(job, retry))
    return ran


@dataclass(frozen=True)
class Batch:
    """What `run_batch` did: the jobs it claimed, each one's verdict (None: succeeded), and the
    statements the settling transaction ran (their first word)."""

    jobs: list[Job]
    verdicts: dict[str, Verdict]
    statements: list[str]


async def run_batch(ctx: JobContext, *, limit: int = 100) -> Batch:
    """The delivery jobs that are due, as one batch the way the worker runs one: claimed with
    what they send loaded in one transaction, every call at once, then every attempt settled
    and every job completed or failed in one transaction."""
    (kind,) = JOB_KINDS
    batch = kind.batch
    assert batch is not None
    async with ctx.database.transaction() as session:
        claimed = await jobs.claim(
            session,
            worker_id=ctx.worker_id,
            limit=limit,
            lease=timedelta(seconds=60),
            kinds=[DELIVER],
        )
        prepared = await batch.load(session, ctx, claimed)
    results = await asyncio.gather(*(batch.run(ctx, job, prepared.get(job.id)) for job in claimed))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    engine = ctx.database.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with ctx.database.transaction() as session:
            verdicts = dict(
                await batch.settle(
                    session,
                    ctx,
                    [
                        Attempted(job, prepared.get(job.id), result)
                        for job, result in zip(claimed, results, strict=True)
                    ],
                )
            )
            done = [job.id for job in claimed if verdicts.get(job.id) is None]
            await jobs.complete_many(session, done, ctx.worker_id)
            for job in claimed:
                verdict = verdicts.get(job.id)
                if verdict is not None:
                    await jobs.fail(
                        session, job, ctx.worker_id, error=verdict.error, retry_at=verdict.retry_at
                    )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return Batch(claimed, {job.id: verdicts.get(job.id) for job in claimed}, statements)


async def due_now(db: Database, delivery_id: str) -> None:
    """Make a delivery's waiting job due at once (its retry time "has come")."""
    async with db.transaction() as session:
        assert await jobs.requeue(session, delivery_job_key(delivery_id)) == "requeued"
