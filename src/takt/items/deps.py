"""`ItemContextDep`: the item named in the path, found only inside a project the caller sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.core.errors import NotFound
from takt.items import repository as repo
from takt.items.models import Item
from takt.items.repository import ItemRow
from takt.projects.policies import ProjectAccess

ItemKeyPath = Annotated[
    str, Path(min_length=3, max_length=24, description="`PROJECT-N`.", examples=["API-42"])
]


@dataclass(frozen=True)
class ItemContext:
    access: ProjectAccess
    item: Item
    row: ItemRow  # everything a read shows, loaded with the item


async def get_item_context(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> ItemContext:
    """One query: the item's row, its project and the caller's role, through the visibility
    rule, so an item of a project the caller can't see is simply not found."""
    row = await repo.get_visible_row(session, principal, item_key)
    if row is None:
        raise NotFound(f"No item {item_key}.")
    project, role = row[-2], row[-1]
    return ItemContext(
        access=ProjectAccess(project=project, principal=principal, member_role=role),
        item=row[0],
        row=row,
    )


ItemContextDep = Annotated[ItemContext, Depends(get_item_context)]
