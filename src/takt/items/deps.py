"""`ItemContextDep`: the item named in the path, found only inside a project the caller sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.core.errors import NotFound
from takt.items import repository as repo
from takt.items.models import Item
from takt.items.repository import ItemRow
from takt.items.schemas import ItemKeyPath
from takt.items.views import Shown
from takt.projects.policies import ProjectAccess
from takt.projects.service import load_in_project


@dataclass(frozen=True)
class ItemContext:
    access: ProjectAccess
    item: Item
    shown: Shown  # what the item shows besides its own columns, for a write's answer


async def _item_context(
    item_key: str, principal: CurrentPrincipal, session: AsyncSession, *, lock: bool
) -> ItemContext:
    found = await load_in_project(
        session, principal, repo.ITEM_BY_KEY, item_key, missing=f"No item {item_key}.", lock=lock
    )
    return ItemContext(access=found.access, item=found.child, shown=Shown(*found.extras))


async def get_item_context(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> ItemContext:
    """One query: the item, its project, what it shows and the caller's role, through the
    visibility rule, so an item of a project the caller can't see is simply not found."""
    return await _item_context(item_key, principal, session, lock=False)


async def get_item_for_update(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> ItemContext:
    """The same query, reading the item `FOR UPDATE` (PostgreSQL) for a write of the item itself
    (PATCH, DELETE, move): `claim` then needs no second read (PATCH stays at 4 statements). Not
    for writes that lock other items too (links): each claims its items in id order instead, so
    two of them can't deadlock."""
    return await _item_context(item_key, principal, session, lock=True)


async def get_item_detail(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> ItemRow:
    """The row `GET /items/{key}` shows, through the same visibility rule, as columns (no
    entities): reading one item is the hottest request there is, so it skips
    `load_in_project` (see docs/architecture.md, performance-specialised code)."""
    row = await repo.get_visible_detail(session, principal, item_key)
    if row is None:
        raise item_not_found(item_key)
    return row


def item_not_found(item_key: str) -> NotFound:
    return NotFound(f"No item {item_key}.")


ItemContextDep = Annotated[ItemContext, Depends(get_item_context)]
ItemForUpdateDep = Annotated[ItemContext, Depends(get_item_for_update)]
ItemDetailDep = Annotated[ItemRow, Depends(get_item_detail)]
