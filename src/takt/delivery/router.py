"""Delivery endpoints: a project's repositories (`/projects/{key}/repositories`,
`/repositories/{id}` with its secret rotation), your linked provider logins
(`/users/me/identities`), and pull requests (`/projects/{key}/pull-requests`,
`/items/{key}/pull-requests`). The inbound webhooks and the inbox are `takt.integrations`'."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from takt.auth.deps import ClientDep, CurrentPrincipal, UnlimitedPrincipal
from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.idempotency import CARRIES_SECRET
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.delivery import service, views
from takt.delivery.deps import (
    DeliveryConfigDep,
    ItemInPathDep,
    RepositoryContextDep,
    RepositoryForUpdateDep,
)
from takt.delivery.schemas import (
    IdentityList,
    IdentityRead,
    IdentityWrite,
    Provider,
    PullRequestFilters,
    PullRequestRead,
    PullRequestState,
    RepositoryCreate,
    RepositoryRead,
    RepositoryUpdate,
    RepositoryWithSecret,
)
from takt.projects.deps import ProjectAccessDep

router = APIRouter(tags=["delivery"])

ProviderPath = Annotated[Provider, Path(description="`github` or `gitlab`.")]


# Repositories -------------------------------------------------------------------------------------


@router.get("/projects/{project_key}/repositories", responses=problems(400, 401, 403, 404, 422))
async def list_repositories(
    access: ProjectAccessDep, session: SessionDep, page: PageDep, config: DeliveryConfigDep
) -> Page[RepositoryRead]:
    """The project's linked repositories, oldest first (project admins)."""
    rows, next_cursor = await service.list_repositories(session, access, page=page)
    key = access.project.key
    return Page[RepositoryRead](
        data=[views.repository_read(r, key, config.webhook_url(r)) for r in rows],
        next_cursor=next_cursor,
    )


@router.post(
    "/projects/{project_key}/repositories",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
    dependencies=[CARRIES_SECRET],
)
async def create_repository(
    body: RepositoryCreate,
    access: ProjectAccessDep,
    session: SessionDep,
    config: DeliveryConfigDep,
    client: ClientDep,
    response: Response,
) -> RepositoryWithSecret:
    """Link a GitHub or GitLab repository: the answer has the webhook URL to paste into the
    provider and its secret, shown this once."""
    repository, secret = await service.create_repository(
        session, access, body, config=config, client=client
    )
    response.headers["Location"] = f"/api/v1/repositories/{repository.id}"
    response.headers["ETag"] = etag_for(repository.version)
    return views.repository_with_secret(
        repository, access.project.key, config.webhook_url(repository), secret
    )


@router.get(
    "/repositories/{repository_id}",
    responses={**problems(401, 403, 404), 304: {"description": "Not modified."}},
)
async def get_repository(
    context: RepositoryContextDep,
    config: DeliveryConfigDep,
    response: Response,
    if_none_match: IfNoneMatchHeader = None,
) -> RepositoryRead:
    """One linked repository (never its secret)."""
    repository = service.get_repository(context)
    if is_not_modified(if_none_match, repository.version):
        return not_modified_response(repository.version)  # type: ignore[return-value]
    response.headers["ETag"] = etag_for(repository.version)
    return views.repository_read(
        repository, context.access.project.key, config.webhook_url(repository)
    )


@router.patch("/repositories/{repository_id}", responses=problems(401, 403, 404, 409, 412, 422))
async def update_repository(
    body: RepositoryUpdate,
    context: RepositoryForUpdateDep,
    session: SessionDep,
    config: DeliveryConfigDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> RepositoryRead:
    """Change a repository's full name (after a rename on the provider) or default branch."""
    repository = await service.update_repository(session, context, body, if_match=if_match)
    response.headers["ETag"] = etag_for(repository.version)
    return views.repository_read(
        repository, context.access.project.key, config.webhook_url(repository)
    )


@router.delete(
    "/repositories/{repository_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412),
)
async def delete_repository(
    context: RepositoryForUpdateDep,
    session: SessionDep,
    client: ClientDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Unlink a repository, with its pull requests, commits and inbox."""
    await service.delete_repository(session, context, if_match=if_match, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/repositories/{repository_id}/rotate-secret",
    responses=problems(401, 403, 404, 412),
    dependencies=[CARRIES_SECRET],
)
async def rotate_repository_secret(
    context: RepositoryForUpdateDep,
    session: SessionDep,
    config: DeliveryConfigDep,
    client: ClientDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> RepositoryWithSecret:
    """Give the repository a new webhook secret (in this answer only); deliveries signed with
    the old one are refused from now on, so paste the new one into the provider at once."""
    repository, secret = await service.rotate_secret(
        session, context, if_match=if_match, config=config, client=client
    )
    response.headers["ETag"] = etag_for(repository.version)
    return views.repository_with_secret(
        repository, context.access.project.key, config.webhook_url(repository), secret
    )


# Linked identities --------------------------------------------------------------------------------


@router.get("/users/me/identities", tags=["auth"], responses=problems(401))
async def list_identities(principal: CurrentPrincipal, session: SessionDep) -> IdentityList:
    """The provider logins you linked to your account."""
    rows = await service.list_identities(session, principal)
    return IdentityList(data=[views.identity_read(i) for i in rows])


@router.put(
    "/users/me/identities/{provider}", tags=["auth"], responses=problems(401, 403, 409, 422)
)
async def link_identity(
    provider: ProviderPath, body: IdentityWrite, principal: UnlimitedPrincipal, session: SessionDep
) -> IdentityRead:
    """Link your login on GitHub or GitLab to your account (replacing the one linked there):
    pull requests, reviews and commits by it become yours (their author, your stand-up
    drafts). Not with a project-limited token."""
    identity = await service.link_identity(session, principal, provider, body.login)
    return views.identity_read(identity)


@router.delete(
    "/users/me/identities/{provider}",
    tags=["auth"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 422),
)
async def unlink_identity(
    provider: ProviderPath, principal: UnlimitedPrincipal, session: SessionDep
) -> Response:
    """Unlink your login on that provider."""
    await service.unlink_identity(session, principal, provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Pull requests ------------------------------------------------------------------------------------


@router.get("/projects/{project_key}/pull-requests", responses=problems(400, 401, 404, 422))
async def list_pull_requests(
    access: ProjectAccessDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[
        PullRequestState | None, Query(description="Only pull requests in this state.")
    ] = None,
    author: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            description="Only those by this author: a provider login, or a Takt username or id "
            "(through their linked identity).",
            examples=["octocat"],
        ),
    ] = None,
    reviewer: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            description="Only those this person was asked to review or reviewed (a provider "
            "login, or a Takt username or id).",
        ),
    ] = None,
    item: Annotated[
        str | None,
        Query(
            min_length=3,
            max_length=24,
            description="Only those that name this item (key).",
            examples=["API-42"],
        ),
    ] = None,
    waiting_for_review_hours: Annotated[
        float | None,
        Query(
            ge=0,
            le=100000,
            description="Only those waiting for a review for longer than this many hours "
            "(ready or re-requested, and not reviewed since).",
            examples=[24],
        ),
    ] = None,
    repository_id: Annotated[
        str | None,
        Query(min_length=1, max_length=36, description="Only those of this repository."),
    ] = None,
) -> Page[PullRequestRead]:
    """The project's pull requests, latest opened first, with reviewers and linked items."""
    filters = PullRequestFilters(
        state=state,
        author=author,
        reviewer=reviewer,
        item=item,
        waiting_for_review_hours=waiting_for_review_hours,
        repository_id=repository_id,
    )
    rows, next_cursor = await service.list_pull_requests(
        session, access, filters=filters, page=page
    )
    key = access.project.key
    return Page[PullRequestRead](
        data=[views.pull_request_read(row, key) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/items/{item_key}/pull-requests", tags=["items"], responses=problems(400, 401, 404, 422)
)
async def list_item_pull_requests(
    item: ItemInPathDep, session: SessionDep, page: PageDep
) -> Page[PullRequestRead]:
    """The pull requests that name the item (in their branch, title or description), latest
    opened first."""
    rows, next_cursor = await service.list_item_pull_requests(session, item.child, page=page)
    key = item.access.project.key
    return Page[PullRequestRead](
        data=[views.pull_request_read(row, key) for row in rows], next_cursor=next_cursor
    )
