"""`RepositoryContextDep`: the repository in the path, found only inside a project the caller
sees; `DeliveryConfigDep`: the sealing key and the public URL; `ItemInPathDep`: the item of
`/items/{item_key}/pull-requests`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from takt.auth.deps import CurrentPrincipal
from takt.auth.principal import Principal
from takt.core.deps import SessionDep
from takt.delivery import repository as repo
from takt.delivery.service import DeliveryConfig, RepositoryContext
from takt.items import repository as items_repo
from takt.items.models import Item
from takt.items.schemas import ItemKeyPath
from takt.projects.service import InProject, load_in_project

RepositoryIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The repository's id (in Takt).")
]


async def get_delivery_config(request: Request) -> DeliveryConfig:
    """Built once per app: the sealing key is derived from TAKT_SECRET_KEY, which doesn't
    change while the app runs."""
    state = request.app.state
    config: DeliveryConfig | None = getattr(state, "delivery_config", None)
    if config is None:
        config = DeliveryConfig.from_settings(state.settings)
        state.delivery_config = config
    return config


DeliveryConfigDep = Annotated[DeliveryConfig, Depends(get_delivery_config)]


async def _repository(
    repository_id: str, principal: Principal, session: SessionDep, *, lock: bool
) -> RepositoryContext:
    found = await load_in_project(
        session,
        principal,
        repo.REPOSITORY_BY_ID,
        repository_id,
        missing="No such repository.",
        lock=lock,
    )
    return RepositoryContext(access=found.access, repository=found.child)


async def get_repository_context(
    repository_id: RepositoryIdPath, principal: CurrentPrincipal, session: SessionDep
) -> RepositoryContext:
    return await _repository(repository_id, principal, session, lock=False)


async def get_repository_for_update(
    repository_id: RepositoryIdPath, principal: CurrentPrincipal, session: SessionDep
) -> RepositoryContext:
    """Read `FOR UPDATE` (PostgreSQL) for a write, so `If-Match` is compared with the version
    no other write can change before this one commits."""
    return await _repository(repository_id, principal, session, lock=True)


async def get_item_in_path(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> InProject[Item]:
    return await load_in_project(
        session, principal, items_repo.ITEM_BY_KEY, item_key, missing=f"No item {item_key}."
    )


RepositoryContextDep = Annotated[RepositoryContext, Depends(get_repository_context)]
RepositoryForUpdateDep = Annotated[RepositoryContext, Depends(get_repository_for_update)]
ItemInPathDep = Annotated[InProject[Item], Depends(get_item_in_path)]
