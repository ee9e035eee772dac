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
from takt.items.views import project_key_of
from takt.projects import service as projects
from takt.projects.policies import ProjectAccess

ItemKeyPath = Annotated[
    str, Path(min_length=3, max_length=24, description="`PROJECT-N`.", examples=["API-42"])
]


@dataclass(frozen=True)
class ItemContext:
    access: ProjectAccess
    item: Item


async def get_item_context(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> ItemContext:
    if "-" not in item_key:
        raise NotFound(f"No item {item_key}.")
    try:
        access = await projects.access(session, principal, project_key_of(item_key))
    except NotFound as exc:
        raise NotFound(f"No item {item_key}.") from exc
    item = await repo.get_item(session, access.project.id, item_key)
    if item is None:
        raise NotFound(f"No item {item_key}.")
    return ItemContext(access=access, item=item)


ItemContextDep = Annotated[ItemContext, Depends(get_item_context)]
