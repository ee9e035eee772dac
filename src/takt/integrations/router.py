"""Inbound webhooks: `POST /hooks/github/{repository_id}` and `POST /hooks/gitlab/{repository_id}`
(outside bearer auth: the provider proves itself with the repository's secret), and the inbox
of a repository for its project admins (`/repositories/{id}/deliveries`, with redelivery)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, status

from takt.core.deps import PageDep, SessionDep
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.integrations import service, views
from takt.integrations.deps import HookConfigDep, InboundDeliveryDep, InboxContextDep
from takt.integrations.schemas import HookAccepted, InboundDeliveryRead, InboxState
from takt.integrations.service import MAX_HOOK_BYTES, HookHeaders

router = APIRouter(tags=["delivery"])

HOOKS_PREFIX = "/hooks/"
HookRepositoryPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=36,
        description="The repository's id in Takt (the webhook URL Takt gave ends with it).",
    ),
]
# The raw body is what is signed: it is read as bytes, never parsed before the check.
RAW_JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"The provider's JSON payload, as it sent it (at most {MAX_HOOK_BYTES} "
        "bytes).",
        "content": {"application/json": {"schema": {"type": "object", "maxProperties": 1000}}},
    }
}


@router.post(
    "/hooks/github/{repository_id}",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(400, 401, 413, 422),
    openapi_extra=RAW_JSON_BODY,
)
async def receive_github(
    repository_id: HookRepositoryPath,
    request: Request,
    config: HookConfigDep,
    x_github_event: Annotated[
        str | None,
        Header(
            max_length=100, description="The event (`pull_request`, `push`…).", examples=["push"]
        ),
    ] = None,
    x_github_delivery: Annotated[
        str | None,
        Header(max_length=200, description="The delivery's id: the same delivery is taken once."),
    ] = None,
    x_hub_signature_256: Annotated[
        str | None,
        Header(
            max_length=100,
            description="`sha256=` and the hex HMAC-SHA256 of the body under the secret.",
        ),
    ] = None,
) -> HookAccepted:
    """GitHub's webhook for a linked repository: checked against its secret, deduplicated by
    `X-GitHub-Delivery`, queued for processing (202 at once)."""
    body = await request.body()
    received = await service.accept(
        request.app.state.db,
        "github",
        repository_id,
        body,
        HookHeaders(
            event=x_github_event, delivery_id=x_github_delivery, signature=x_hub_signature_256
        ),
        config=config,
    )
    return views.accepted(received)


@router.post(
    "/hooks/gitlab/{repository_id}",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(400, 401, 413, 422),
    openapi_extra=RAW_JSON_BODY,
)
async def receive_gitlab(
    repository_id: HookRepositoryPath,
    request: Request,
    config: HookConfigDep,
    x_gitlab_event: Annotated[
        str | None,
        Header(
            max_length=100,
            description="The event (`Merge Request Hook`, `Push Hook`…).",
            examples=["Push Hook"],
        ),
    ] = None,
    x_gitlab_event_uuid: Annotated[
        str | None,
        Header(max_length=200, description="The delivery's id: the same delivery is taken once."),
    ] = None,
    x_gitlab_token: Annotated[
        str | None, Header(max_length=255, description="The repository's secret token.")
    ] = None,
) -> HookAccepted:
    """GitLab's webhook for a linked project: checked against its secret token, deduplicated by
    `X-Gitlab-Event-UUID`, queued for processing (202 at once)."""
    body = await request.body()
    received = await service.accept(
        request.app.state.db,
        "gitlab",
        repository_id,
        body,
        HookHeaders(
            event=x_gitlab_event, delivery_id=x_gitlab_event_uuid, signature=x_gitlab_token
        ),
        config=config,
    )
    return views.accepted(received)


@router.get("/repositories/{repository_id}/deliveries", responses=problems(400, 401, 403, 404, 422))
async def list_inbound_deliveries(
    context: InboxContextDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[InboxState | None, Query(description="Only deliveries in this state.")] = None,
) -> Page[InboundDeliveryRead]:
    """The repository's inbox, newest first: what each delivery was, whether it was processed,
    ignored or failed, and why (project admins)."""
    rows, next_cursor = await service.list_deliveries(session, context, state=state, page=page)
    return Page[InboundDeliveryRead](
        data=[views.inbound_delivery_read(d) for d in rows], next_cursor=next_cursor
    )


@router.post(
    "/repositories/{repository_id}/deliveries/{inbound_delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 404, 409),
)
async def redeliver_inbound_delivery(
    found: InboundDeliveryDep, session: SessionDep
) -> InboundDeliveryRead:
    """Process a failed, retrying or ignored delivery again now, from the body kept in the
    inbox (after fixing what it failed on, such as the repository's full name)."""
    delivery = await service.redeliver(session, found.access, found.child)
    return views.inbound_delivery_read(delivery)
