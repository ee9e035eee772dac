"""`InboxContextDep`: the repository in the path (its inbox), found only inside a project the
caller sees; `InboundDeliveryDep`: one delivery of it; `HookConfigDep`: the key that opens
GitHub secrets."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.delivery import repository as delivery_repo
from takt.integrations import repository as repo
from takt.integrations.models import InboundDelivery
from takt.integrations.service import HookConfig, InboxContext
from takt.projects.service import InProject, load_in_project

RepositoryIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The repository's id (in Takt).")
]
InboundIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The delivery's id in Takt's inbox.")
]


async def get_hook_config(request: Request) -> HookConfig:
    """Built once per app (the key derivation is not repeated per delivery)."""
    state = request.app.state
    config: HookConfig | None = getattr(state, "hook_config", None)
    if config is None:
        config = HookConfig.from_settings(state.settings)
        state.hook_config = config
    return config


HookConfigDep = Annotated[HookConfig, Depends(get_hook_config)]


async def get_inbox_context(
    repository_id: RepositoryIdPath, principal: CurrentPrincipal, session: SessionDep
) -> InboxContext:
    found = await load_in_project(
        session,
        principal,
        delivery_repo.REPOSITORY_BY_ID,
        repository_id,
        missing="No such repository.",
    )
    return InboxContext(access=found.access, repository=found.child)


async def get_inbound_delivery(
    repository_id: RepositoryIdPath,
    inbound_delivery_id: InboundIdPath,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> InProject[InboundDelivery]:
    return await load_in_project(
        session,
        principal,
        repo.INBOUND_BY_ID,
        inbound_delivery_id,
        missing="No such delivery.",
        params={"repository_id": repository_id},
    )


InboxContextDep = Annotated[InboxContext, Depends(get_inbox_context)]
InboundDeliveryDep = Annotated[InProject[InboundDelivery], Depends(get_inbound_delivery)]
