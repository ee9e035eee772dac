"""Webhook endpoints: `/projects/{key}/webhooks`, `/webhooks/{id}` with its secret rotation,
delivery log and test ping, and `/deliveries/{id}` with manual retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from takt.auth.deps import ClientDep
from takt.core.concurrency import etag_for, is_not_modified, not_modified_response
from takt.core.deps import IfMatchHeader, IfNoneMatchHeader, PageDep, SessionDep
from takt.core.idempotency import CARRIES_SECRET
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.projects.deps import ProjectAccessDep
from takt.webhooks import service, views
from takt.webhooks.deps import (
    DeliveryContextDep,
    DeliveryForUpdateDep,
    WebhookConfigDep,
    WebhookContextDep,
    WebhookForUpdateDep,
)
from takt.webhooks.schemas import (
    DEFAULT_OVERLAP_SECONDS,
    DeliveryFilters,
    DeliveryRead,
    DeliveryState,
    SecretRotation,
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(tags=["webhooks"])


@router.get("/projects/{project_key}/webhooks", responses=problems(400, 401, 403, 404, 422))
async def list_webhooks(
    access: ProjectAccessDep, session: SessionDep, page: PageDep
) -> Page[WebhookRead]:
    """The project's webhooks, oldest first (project admins)."""
    rows, next_cursor = await service.list_webhooks(session, access, page=page)
    key = access.project.key
    return Page[WebhookRead](
        data=[views.webhook_read(w, key) for w in rows], next_cursor=next_cursor
    )


@router.post(
    "/projects/{project_key}/webhooks",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 422),
    dependencies=[CARRIES_SECRET],
)
async def create_webhook(
    body: WebhookCreate,
    access: ProjectAccessDep,
    session: SessionDep,
    config: WebhookConfigDep,
    client: ClientDep,
    response: Response,
) -> WebhookWithSecret:
    """Add a webhook (at most 20 per project); its signing secret is in this response only."""
    webhook, secret = await service.create_webhook(
        session, access, body, config=config, client=client
    )
    response.headers["Location"] = f"/api/v1/webhooks/{webhook.id}"
    response.headers["ETag"] = etag_for(webhook.version)
    return views.webhook_with_secret(webhook, access.project.key, secret)


@router.get(
    "/webhooks/{webhook_id}",
    responses={**problems(401, 403, 404), 304: {"description": "Not modified."}},
)
async def get_webhook(
    context: WebhookContextDep, response: Response, if_none_match: IfNoneMatchHeader = None
) -> WebhookRead:
    """One webhook (never its secret)."""
    webhook = service.get_webhook(context)
    if is_not_modified(if_none_match, webhook.version):
        return not_modified_response(webhook.version)  # type: ignore[return-value]
    response.headers["ETag"] = etag_for(webhook.version)
    return views.webhook_read(webhook, context.access.project.key)


@router.patch("/webhooks/{webhook_id}", responses=problems(401, 403, 404, 412, 422))
async def update_webhook(
    body: WebhookUpdate,
    context: WebhookForUpdateDep,
    session: SessionDep,
    config: WebhookConfigDep,
    client: ClientDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> WebhookRead:
    """Change a webhook's URL, event filter or description, or switch it off or on."""
    webhook = await service.update_webhook(
        session, context, body, if_match=if_match, config=config, client=client
    )
    response.headers["ETag"] = etag_for(webhook.version)
    return views.webhook_read(webhook, context.access.project.key)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 412),
)
async def delete_webhook(
    context: WebhookForUpdateDep,
    session: SessionDep,
    client: ClientDep,
    if_match: IfMatchHeader = None,
) -> Response:
    """Delete a webhook and its delivery log."""
    await service.delete_webhook(session, context, if_match=if_match, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    responses=problems(401, 403, 404, 412, 422),
    dependencies=[CARRIES_SECRET],
)
async def rotate_webhook_secret(
    context: WebhookForUpdateDep,
    session: SessionDep,
    config: WebhookConfigDep,
    client: ClientDep,
    response: Response,
    body: Annotated[SecretRotation | None, Body()] = None,
    if_match: IfMatchHeader = None,
) -> WebhookWithSecret:
    """Give the webhook a new signing secret (in this response only); the previous one keeps
    signing beside it for the overlap."""
    overlap = body.overlap_seconds if body else DEFAULT_OVERLAP_SECONDS
    webhook, secret = await service.rotate_secret(
        session, context, overlap, if_match=if_match, config=config, client=client
    )
    response.headers["ETag"] = etag_for(webhook.version)
    return views.webhook_with_secret(webhook, context.access.project.key, secret)


@router.get("/webhooks/{webhook_id}/deliveries", responses=problems(400, 401, 403, 404, 422))
async def list_deliveries(
    context: WebhookContextDep,
    session: SessionDep,
    page: PageDep,
    state: Annotated[
        DeliveryState | None, Query(description="Only deliveries in this state.")
    ] = None,
) -> Page[DeliveryRead]:
    """The webhook's delivery log, newest first, each delivery with its attempts."""
    rows, next_cursor = await service.list_deliveries(
        session, context, filters=DeliveryFilters(state=state), page=page
    )
    return Page[DeliveryRead](
        data=[views.delivery_read(d, attempts) for d, attempts in rows], next_cursor=next_cursor
    )


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 404, 409),
)
async def ping_webhook(context: WebhookContextDep, session: SessionDep) -> DeliveryRead:
    """Queue a signed test ping (`webhook.test`) to the endpoint; follow it in the delivery log."""
    delivery = await service.send_test(session, context)
    return views.delivery_read(delivery, [])


@router.get("/deliveries/{delivery_id}", responses=problems(401, 403, 404))
async def get_delivery(context: DeliveryContextDep, session: SessionDep) -> DeliveryRead:
    """One delivery with its attempts."""
    delivery, attempts = await service.get_delivery(session, context)
    return views.delivery_read(delivery, attempts)


@router.post(
    "/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(401, 403, 404, 409),
)
async def retry_delivery(context: DeliveryForUpdateDep, session: SessionDep) -> DeliveryRead:
    """Send a delivery again now (failed, or succeeded and lost by the receiver), with the same
    `webhook-id`."""
    delivery, attempts = await service.retry_delivery(session, context)
    return views.delivery_read(delivery, attempts)
