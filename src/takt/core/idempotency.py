"""`Idempotency-Key` on POST: the same key and body replays the first response.

Implemented as ASGI middleware so every POST route gets it without code of its own. The key is
scoped to the caller (see `CallerScope`), kept 24 hours, and claimed in its own short transaction
before the request runs: a concurrent duplicate sees the claim and gets 409, a retry after the
response was stored gets the stored response, and a retry with another body gets 422.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from takt.core.db import Database
from takt.core.errors import (
    AppError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
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

CallerScope = Callable[[Scope], Awaitable[str | None]]


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


async def caller_from_authorization(scope: Scope) -> str | None:
    """Default caller scope: a hash of the credentials. Anonymous POSTs are not deduplicated,
    since two strangers must never see each other's responses."""
    for name, value in scope["headers"]:
        if name == b"authorization" and value:
            return "auth:" + hashlib.sha256(value).hexdigest()[:40]
    return None


class IdempotencyMiddleware:
    def __init__(
        self, app: ASGIApp, *, database: Callable[[], Database], caller: CallerScope
    ) -> None:
        self.app = app
        self.database = database
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key")
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send, key)
        except AppError as error:
            await problem_response(error, scope["path"])(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ValidationFailed(
                "Idempotency-Key must be 1 to 255 characters.",
                errors=[{"pointer": "/headers/Idempotency-Key", "message": "1 to 255 chars"}],
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

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [
                    [n.decode("latin-1"), v.decode("latin-1")]
                    for n, v in message.get("headers", [])
                    if n.lower() in _REPLAYED_HEADERS
                ]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, _replaying(body, more, receive), capture)
        finally:
            await self._finish(caller, key, captured)

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
                    raise IdempotencyKeyReused(
                        "This Idempotency-Key was used with a different request body or path."
                    )
                if record.status_code is not None:
                    return record
                if record.claimed_until > now:
                    raise IdempotencyKeyInUse()
                record.claimed_until = now + CLAIM_TTL  # the first attempt died; take over
                return None
        except IntegrityError as exc:  # a concurrent twin claimed it first
            raise IdempotencyKeyInUse() from exc

    async def _finish(self, caller: str, key: str, captured: dict[str, Any]) -> None:
        db = self.database()
        async with db.transaction() as session:
            condition = (IdempotencyRecord.caller == caller) & (IdempotencyRecord.key == key)
            if captured["status"] >= 500:
                # Nothing was done (the transaction rolled back): let a retry run again.
                await session.execute(delete(IdempotencyRecord).where(condition))
                return
            record = await session.scalar(select(IdempotencyRecord).where(condition))
            if record is not None:
                record.status_code = captured["status"]
                record.response_headers = captured["headers"]
                record.response_body = captured["body"]


def _header(scope: Scope, name: bytes) -> str | None:
    for header, value in scope.get("headers", []):
        if header == name:
            return str(value.decode("latin-1"))
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
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in record.response_headers or []]
    headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": record.response_body or b""})
