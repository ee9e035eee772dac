"""Readiness endpoints: the checklist (`/projects/{key}/readiness`), the project's policy
(`/projects/{key}/readiness/policy`) and the promotion timeline of an item
(`/items/{key}/promotion`) or a pull request (`/pull-requests/{id}/promotion`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from takt.core.concurrency import (
    may_name_a_representation,
    representation_etag,
    representation_response,
    resolve_if_match,
)
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, SessionDep
from takt.core.openapi import problems
from takt.projects.deps import ProjectAccessDep
from takt.projects.policies import ProjectAccess
from takt.readiness import service, views
from takt.readiness.deps import ItemInPathDep, PullRequestInPathDep
from takt.readiness.schemas import (
    MAX_ITEMS,
    PromotionTimeline,
    ReadinessAnswer,
    ReadinessPolicyRead,
    ReadinessPolicyWrite,
)

router = APIRouter(tags=["readiness"])

KEY = r"[A-Za-z][A-Za-z0-9]{1,9}-[0-9]{1,9}"


@router.get("/projects/{project_key}/readiness", responses=problems(401, 404, 422))
async def evaluate_readiness(
    access: ProjectAccessDep,
    session: SessionDep,
    environment: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="Where it would go: an environment of the project, by name (ignoring "
            "case).",
            examples=["production"],
        ),
    ],
    ref: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9a-fA-F]{7,64}$",
            description="A commit SHA, as pushed (the full SHA: commits are known by it). Its "
            "items are those its message names, those of the pull requests whose head it is or "
            "whose branch received it, and those its successful deployments shipped. Give "
            "exactly one of `ref` or `items`.",
            examples=["9fceb02d0ae598e95dc970b74767f19372d61af8"],
        ),
    ] = None,
    items: Annotated[
        str | None,
        Query(
            pattern=rf"^{KEY}(,{KEY})*$",
            max_length=5000,
            description=f"Comma-separated item keys, at most {MAX_ITEMS}. Give exactly one of "
            "`ref` or `items`.",
            examples=["API-1,API-2"],
        ),
    ] = None,
) -> ReadinessAnswer:
    """Is this commit (or are these items) ready to go to that environment? Each check of the
    project's policy with its result and the reason, failing ones first, and `ready` overall."""
    evaluation = await service.evaluate(
        session, access, environment=environment, ref=ref, items=items
    )
    return views.readiness_read(evaluation)


def _policy_body(policy: service.PolicyView) -> bytes:
    return views.policy_read(policy).model_dump_json().encode()


async def _policy_if_match(
    if_match: str | None, session: SessionDep, access: ProjectAccess
) -> str | None:
    """`If-Match` as the version the write checks: the policy's current ETag stands for it. The
    tag shows environments' names, so naming it costs a read of the policy as it stands (a
    version tag, `"v<version>"`, doesn't)."""
    if not may_name_a_representation(if_match):
        return if_match
    current = await service.get_policy(session, access)
    return resolve_if_match(
        if_match,
        current.version,
        lambda: representation_etag(current.version, _policy_body(current)),
    )


@router.get(
    "/projects/{project_key}/readiness/policy",
    response_model=ReadinessPolicyRead,
    responses={**problems(401, 404), 304: {"description": "Not modified."}},
)
async def get_readiness_policy(
    access: ProjectAccessDep, session: SessionDep, if_none_match: IfNoneMatchHeader = None
) -> Response:
    """The project's readiness policy: which checks run, which environment must come first,
    which incidents block."""
    policy = await service.get_policy(session, access)
    # Tagged by its body: it names environments, which are renamed without the policy's
    # version moving (`concurrency.representation_etag`).
    return representation_response(
        _policy_body(policy), policy.version, if_none_match=if_none_match
    )


@router.put(
    "/projects/{project_key}/readiness/policy",
    response_model=ReadinessPolicyRead,
    responses=problems(401, 403, 404, 412, 422),
)
async def put_readiness_policy(
    body: ReadinessPolicyWrite,
    access: ProjectAccessDep,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Replace the project's readiness policy (project admins); checks left out take their
    defaults (on; the previous environment first; sev2 or worse blocks)."""
    policy = await service.put_policy(
        session, access, body, if_match=await _policy_if_match(if_match, session, access)
    )
    return representation_response(_policy_body(policy), policy.version)


@router.get("/items/{item_key}/promotion", tags=["items"], responses=problems(401, 404))
async def get_item_promotion(item: ItemInPathDep, session: SessionDep) -> PromotionTimeline:
    """The item's promotion timeline: first commit, pull request ready, first review, merged,
    then deployed to each environment in promotion order, with the time spent in each stage."""
    return views.timeline_read(await service.item_timeline(session, item))


@router.get(
    "/pull-requests/{pull_request_id}/promotion",
    tags=["delivery"],
    responses=problems(401, 404),
)
async def get_pull_request_promotion(
    pull_request: PullRequestInPathDep, session: SessionDep
) -> PromotionTimeline:
    """The pull request's promotion timeline: first commit, ready, first review, merged, then
    deployed to each environment in promotion order, with the time spent in each stage."""
    return views.timeline_read(await service.pull_request_timeline(session, pull_request))
