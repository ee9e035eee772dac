"""FastAPI dependencies of readiness: the resources in its paths, loaded through the
visibility rule (`ItemInPathDep`: `/items/{item_key}/promotion`; `PullRequestInPathDep`:
`/pull-requests/{pull_request_id}/promotion`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.delivery.models import PullRequest
from takt.items import repository as items_repo
from takt.items.models import Item
from takt.items.schemas import ItemKeyPath
from takt.projects.service import InProject, load_in_project
from takt.readiness import repository as repo

PullRequestIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The pull request's id (in Takt).")
]


async def get_item_in_path(
    item_key: ItemKeyPath, principal: CurrentPrincipal, session: SessionDep
) -> InProject[Item]:
    return await load_in_project(
        session, principal, items_repo.ITEM_BY_KEY, item_key, missing=f"No item {item_key}."
    )


async def get_pull_request_in_path(
    pull_request_id: PullRequestIdPath, principal: CurrentPrincipal, session: SessionDep
) -> InProject[PullRequest]:
    return await load_in_project(
        session,
        principal,
        repo.PULL_REQUEST_BY_ID,
        pull_request_id,
        missing="No such pull request.",
    )


ItemInPathDep = Annotated[InProject[Item], Depends(get_item_in_path)]
PullRequestInPathDep = Annotated[InProject[PullRequest], Depends(get_pull_request_in_path)]
