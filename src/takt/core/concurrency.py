"""ETags and If-Match / If-None-Match for versioned resources, and claiming a row for a write.

A write first claims its row (`claim`): the row is locked and read again, so the write applies to
the version that is current, whatever the request read before. Then `If-Match`, when the client
sent one, is compared with that version: 412 only when the client asked for the precondition;
without one the last writer wins (each write recorded in history). Models with `VersionedMixin`
still issue `UPDATE … WHERE id = ? AND version = ?`; a claimed row can't lose that race, so a
StaleDataError (rendered as 412) is left only to a write that skipped its claim.

An ETag names one representation: two answers with the same tag have the same body. A resource
whose body shows only its own row is tagged by its version (`etag_for`). One whose body also
shows other rows (an item's status name, its labels, its assignee's display name; a project's
role of the caller) is tagged by its version and a digest of the body (`representation_etag`), so
a renamed status gives the item a new tag although the item's version stays. `If-Match` on such
a resource takes its current tag, or the version tag `"v<version>"` (what lists carry), which
names the row alone: `resolve_if_match` turns the first into the second, and the write checks
the version under the row's lock as for any other resource.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Sequence
from hashlib import blake2b
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.orm.exc import StaleDataError
from starlette.responses import Response

from takt.core.errors import PreconditionFailed
from takt.core.models import VersionedMixin

# session.info key: (class, id) of the rows this session's transaction has claimed.
_CLAIMED = "takt.claimed"
# A tag that names a version alone (`etag_for`).
_VERSION_TAG = re.compile(r'"v[0-9]+"')


def etag_for(version: int) -> str:
    return f'"v{version}"'


def representation_etag(version: int, body: bytes) -> str:
    """The strong ETag of a body that shows rows besides the resource's own: its version, then
    a digest of the body (8 bytes of BLAKE2b: a few µs for an item's body, next to the
    milliseconds of its request), so any change the body shows changes the tag. Costs no
    statement: the body is built anyway."""
    return f'"v{version}-{blake2b(body, digest_size=8).hexdigest()}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def names_current(header: str | None, etag: str) -> bool:
    """Whether a conditional header (`If-None-Match`) is `*` or names `etag`."""
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or etag in tags


def may_name_a_representation(if_match: str | None) -> bool:
    """Whether `If-Match` holds a tag other than `*` and version tags (`"v<version>"`): only
    then does `resolve_if_match` need the current representation's tag."""
    if if_match is None:
        return False
    return not all(tag == "*" or _VERSION_TAG.fullmatch(tag) for tag in _tags(if_match))


def resolve_if_match(if_match: str | None, version: int, current: Callable[[], str]) -> str | None:
    """`If-Match` for a resource tagged by `representation_etag`, as the version tags that
    `claim` checks under the row's lock: a tag naming the current representation (`current()`,
    built only when a tag could be one) stands for the `version` it shows; the others stay as
    sent, so a tag of an earlier representation (the item as it was before a status was
    renamed) matches no version and the write answers 412, after its access checks, as any
    stale `If-Match` does. `*` and version tags (`"v<version>"`) pass unchanged."""
    if if_match is None or not may_name_a_representation(if_match):
        return if_match
    tags = _tags(if_match)
    shown = current()
    if shown not in tags:
        return if_match
    return ", ".join(etag_for(version) if tag == shown else tag for tag in tags)


def check_if_match(if_match: str | None, version: int) -> None:
    """Raise 412 unless `If-Match` is absent, `*`, or names the current version."""
    if if_match is None:
        return
    tags = _tags(if_match)
    if "*" in tags or etag_for(version) in tags:
        return
    raise PreconditionFailed(
        f"If-Match {if_match} does not match the current version {etag_for(version)}."
    )


def is_not_modified(if_none_match: str | None, version: int) -> bool:
    return names_current(if_none_match, etag_for(version))


def stale_to_precondition(exc: StaleDataError) -> PreconditionFailed:
    return PreconditionFailed("The resource was changed by another request; read it again.")


def not_modified_response(version: int) -> Response:
    return Response(status_code=304, headers={"ETag": etag_for(version)})


def representation_response(
    body: bytes,
    version: int,
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON answer tagged by `representation_etag`, or 304 when `If-None-Match` names it."""
    etag = representation_etag(version, body)
    if names_current(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(
        body,
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag, **(headers or {})},
    )


def _identity(row: VersionedMixin) -> tuple[type, Any]:
    return type(row), row.id  # type: ignore[attr-defined]


def _claims(session: AsyncSession) -> tuple[set[tuple[type, Any]], set[tuple[type, Any]]]:
    """(rows claimed by this transaction or the ones around it, the set that records new claims).

    Claims are kept per transaction: a savepoint rolled back releases the locks taken inside it,
    and so forgets its claims with it (a savepoint released keeps them, claimed again at worst).
    """
    store: weakref.WeakKeyDictionary[SessionTransaction, set[tuple[type, Any]]]
    store = session.info.setdefault(_CLAIMED, weakref.WeakKeyDictionary())
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    current: set[tuple[type, Any]] = set()
    if transaction is None:
        return current, current
    own = store.setdefault(transaction, set())
    while transaction is not None:
        current |= store.get(transaction, set())
        transaction = transaction.parent
    return current, own


async def claim_all(session: AsyncSession, rows: Sequence[VersionedMixin]) -> None:
    """Lock `rows` for this transaction and load their current state (one query per class, in id
    order, so two requests claiming overlapping rows can't deadlock).

    On SQLite a write transaction begins with `BEGIN IMMEDIATE`: it holds the database's one
    write lock from its first statement, so what it read is already current and nothing is done.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    claimed, _ = _claims(session)
    todo = [r for r in rows if _identity(r) not in claimed]
    by_class: dict[type, list[Any]] = {}
    for row in todo:
        by_class.setdefault(type(row), []).append(row.id)  # type: ignore[attr-defined]
    for cls, ids in by_class.items():
        await session.execute(
            select(cls)
            .where(cls.id.in_(ids))  # type: ignore[attr-defined]
            .order_by(cls.id)  # type: ignore[attr-defined]
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    # Recorded once the transaction exists (the SELECT above began it if nothing had).
    _, own = _claims(session)
    own.update(_identity(r) for r in todo)


def loaded_locked(session: AsyncSession, rows: Sequence[VersionedMixin]) -> None:
    """Record that `rows` were just read with `FOR UPDATE` in this transaction (a write's own
    load of its path resource): claiming them later costs no second read."""
    _, own = _claims(session)
    own.update(_identity(r) for r in rows)


async def claim(session: AsyncSession, row: VersionedMixin, if_match: str | None) -> None:
    """Make `row` this transaction's to write, at its current version; then 412 if the client
    sent `If-Match` and it names another version."""
    await claim_all(session, [row])
    check_if_match(if_match, row.version)
