"""`Idempotency-Key` on POST: the same key and body replays the first response.

Implemented as ASGI middleware so every POST route gets it without code of its own. The key is
scoped to the caller's identity (see `CallerScope`), kept 24 hours, and claimed in its own short
transaction before the request runs: a concurrent duplicate sees the claim and gets 409, a retry
after the response was stored gets the stored response, and a retry with another body gets 422.

What is stored, and when:
- Only a request that ran to completion, i.e. a success (below 400): only a handler that
  returned, with its transaction committed, answers one. A refusal answered before the handler
  ran (401, 403 scope, 422 validation, 429), a domain error and any 5xx changed nothing (the
  request's transaction rolled back), so the claim is released and a retry runs again.
- The response is stored and committed *before* it is sent: a client that retries the moment it
  sees the first answer gets the replay, never `idempotency-key-in-use`.
- A response that carries a secret (a route declares it with `CARRIES_SECRET`) is recorded
  without its body; a retry answers 409 `idempotency-response-withheld` instead of handing the
  secret out a second time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import orjson
from fastapi import Depends, Request
from sqlalchemy import (
    Boolean,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    false,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from takt.core.db import Database
from takt.core.errors import (
    AppError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IdempotencyResponseWithheld,
    ValidationFailed,
)
from takt.core.models import Base, IdMixin, JSONType, UTCDateTime
from takt.core.problems import problem_response
from takt.core.time import utcnow

log = logging.getLogger("takt.idempotency")

KEY_TTL = timedelta(hours=24)
# A claim whose request died without storing a response is released after this long.
CLAIM_TTL = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
_REPLAYED_HEADERS = {b"content-type", b"location", b"etag"}
# Key of the ASGI scope's "state": set by `CARRIES_SECRET`, read by the middleware.
_SECRET = "takt.idempotency.secret"

CallerScope = Callable[[Scope], Awaitable[str | None]]
"""The identity a key is scoped to (e.g. user and token id), or None for a caller whose
credentials are missing or invalid: such a request is passed through undeduplicated and gets
its 401 from the route, so nothing is ever replayed to a revoked credential."""


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key", name="uq_idempotency_keys_caller_key"),)

    caller: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSONType, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The response carried a secret: its body was not kept and is never replayed.
    secret_withheld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


async def _declare_secret(request: Request) -> None:
    request.scope.setdefault("state", {})[_SECRET] = True


CARRIES_SECRET = Depends(_declare_secret)
"""Put in the `dependencies` of a route whose response carries a secret (a new token, a
webhook signing secret): that response is never stored, so never replayed."""


async def purge_expired_keys(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Delete the keys older than `KEY_TTL`, which `_claim` already treats as gone (the
    worker's hourly sweep). Returns how many went."""
    cutoff = (now or utcnow()) - KEY_TTL
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


class IdempotencyMiddleware:
    def __init__(
        self, app: ASGIApp, *, database: Callable[[], Database], caller: CallerScope
    ) -> None:
        self.app = app
        self.database = database
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, b"idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send, key)
        except AppError as error:
            await problem_response(error, scope["path"])(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ValidationFailed.at(
                "/headers/Idempotency-Key",
                "1 to 255 chars",
                detail="Idempotency-Key must be 1 to 255 characters.",
            )
        caller = await self.caller(scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        request_hash = hashlib.sha256(
            orjson.dumps([scope["method"], scope["path"], scope.get("query_string", b"").decode()])
            + body
        ).hexdigest()
        stored = await self._claim(caller, key, request_hash)
        if stored is not None:
            await _replay(stored, send)
            return

        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        state = scope.setdefault("state", {})
        try:
            await self.app(scope, _replaying(body, more, receive), hold)
        except Exception:
            await self._release(caller, key)
            raise
        status = next((m["status"] for m in held if m["type"] == "http.response.start"), 500)
        if status < 400:
            await self._store(caller, key, held, secret=bool(state.get(_SECRET)))
        else:
            await self._release(caller, key)
        for message in held:
            await send(message)

    async def _claim(self, caller: str, key: str, request_hash: str) -> IdempotencyRecord | None:
        """Claim the key, or return the stored response to replay; raise on conflicts."""
        now = utcnow()
        db = self.database()
        try:
            async with db.transaction() as session:
                record = await session.scalar(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
                    )
                )
                if record is not None and record.created_at < now - KEY_TTL:
                    await session.delete(record)
                    await session.flush()
                    record = None
                if record is None:
                    session.add(
                        IdempotencyRecord(
                            caller=caller,
                            key=key,
                            request_hash=request_hash,
                            claimed_until=now + CLAIM_TTL,
                        )
                    )
                    return None
                if record.request_hash != request_hash:
                    raise IdempotencyKeyReused.at(
                        "/headers/Idempotency-Key",
                        "used with another request body or path",
                        detail="This Idempotency-Key was used with a different request body or "
                        "path.",
                    )
                if record.status_code is not None:
                    return record
                if record.claimed_until > now:
                    raise IdempotencyKeyInUse()
                record.claimed_until = now + CLAIM_TTL  # the first attempt died; take over
                return None
        except IntegrityError as exc:  # a concurrent twin claimed it first
            raise IdempotencyKeyInUse() from exc

    async def _store(self, caller: str, key: str, held: list[Message], *, secret: bool) -> None:
        """Keep the response (committed before the caller sees it). If that fails the write
        still happened: the caller gets its answer, and a retry finds the claim in use until
        it lapses."""
        start = next(m for m in held if m["type"] == "http.response.start")
        headers = [
            [n.decode("latin-1"), v.decode("latin-1")]
            for n, v in start.get("headers", [])
            if n.lower() in _REPLAYED_HEADERS
        ]
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        condition = (IdempotencyRecord.caller == caller) & (IdempotencyRecord.key == key)
        try:
            async with self.database().transaction() as session:
                record = await session.scalar(select(IdempotencyRecord).where(condition))
                if record is not None:
                    record.status_code = start["status"]
                    record.response_headers = headers
                    record.response_body = None if secret else body
                    record.secret_withheld = secret
        except Exception:
            log.exception("could not store an idempotent response", extra={"key": key})

    async def _release(self, caller: str, key: str) -> None:
        """Nothing was done (the request was refused or rolled back): let a retry run again.
        If even that fails, the claim lapses after CLAIM_TTL."""
        condition = (IdempotencyRecord.caller == caller) & (IdempotencyRecord.key == key)
        try:
            async with self.database().transaction() as session:
                await session.execute(delete(IdempotencyRecord).where(condition))
        except Exception:
            log.exception("could not release an idempotency key", extra={"key": key})


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope.get("headers", []):
        if header == name:
            # Surrounding whitespace is not part of a header's value (RFC 9110 5.5).
            return str(value.decode("latin-1")).strip()
    return None


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body (the body-size limit sits outside and has already bounded it)."""
    chunks: list[bytes] = []
    extra: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            extra.append(message)
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), extra


def _replaying(body: bytes, extra: list[Message], receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if extra:
            return extra.pop(0)
        return await receive()

    return replay


async def _replay(record: IdempotencyRecord, send: Send) -> None:
    headers = {name.lower(): value for name, value in record.response_headers or []}
    if record.secret_withheld:
        where = f" It created {headers['location']}." if "location" in headers else ""
        raise IdempotencyResponseWithheld(
            f"The request with this Idempotency-Key already succeeded ({record.status_code});"
            f" its response carried a secret, which is never kept, so it can't be replayed.{where}"
        )
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers.items()]
    raw.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": record.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": record.response_body or b""})
