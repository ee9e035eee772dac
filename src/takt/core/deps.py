"""Request-scoped dependencies every domain shares: the database session and list paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from takt.config import Settings
from takt.core.db import Database
from takt.core.pagination import MAX_LIMIT, CursorCodec, PageRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies are `async def` even when they don't await: FastAPI runs a plain `def` dependency
# in a worker thread, a thread hop per dependency per request.
async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed after the handler returns and before the response
    is sent, so a commit failure becomes an error response and a client never sees a 2xx for a
    write that did not happen. Reads use the read engine and are rolled back."""
    db: Database = request.app.state.db
    write = request.method not in SAFE_METHODS
    factory = db.write_sessions if write else db.read_sessions
    async with factory() as session:
        try:
            yield session
            if write:
                await session.commit()
            else:
                await session.rollback()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the exit code runs before the response goes out (see get_session).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_cursor_codec(request: Request) -> CursorCodec:
    codec: CursorCodec = request.app.state.cursor_codec
    return codec


CodecDep = Annotated[CursorCodec, Depends(get_cursor_codec)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1 to 100.", examples=[50])
]
CURSOR_MAX = 1024
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=CURSOR_MAX,
        description="Opaque cursor from the previous page's `next_cursor`; omit for page one.",
    ),
]


async def get_page(
    codec: CodecDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> PageRequest:
    """A list's `limit` and `cursor` query parameters, with the codec that checks the cursor."""
    return PageRequest(codec=codec, limit=limit, cursor=cursor)


PageDep = Annotated[PageRequest, Depends(get_page)]

ETAG_HEADER_MAX = 256

IfMatchHeader = Annotated[
    str | None,
    Header(
        max_length=ETAG_HEADER_MAX,
        description='ETag from your last read, or `"v<version>"`; 412 if it is stale.',
    ),
]
IfNoneMatchHeader = Annotated[
    str | None,
    Header(max_length=ETAG_HEADER_MAX, description="ETag you hold; 304 if it is current."),
]
