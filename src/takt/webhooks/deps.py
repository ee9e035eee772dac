"""`WebhookContextDep` and `DeliveryContextDep`: the webhook or delivery in the path, found only
inside a project the caller sees; `WebhookConfigDep`: the sealing key and the SSRF setting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.deps import CurrentPrincipal
from takt.auth.principal import Principal
from takt.core.deps import SessionDep
from takt.projects.service import load_in_project
from takt.webhooks import repository as repo
from takt.webhooks.service import DeliveryContext, WebhookConfig, WebhookContext

WebhookIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The webhook's id.")]
DeliveryIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The delivery's id.")]


async def get_webhook_config(request: Request) -> WebhookConfig:
    """Built once per app: the sealing key is derived from TAKT_SECRET_KEY (in development read
    from the data directory), which doesn't change while the app runs."""
    state = request.app.state
    config: WebhookConfig | None = getattr(state, "webhook_config", None)
    if config is None:
        config = WebhookConfig.from_settings(state.settings)
        state.webhook_config = config
    return config


WebhookConfigDep = Annotated[WebhookConfig, Depends(get_webhook_config)]


async def _webhook(
    webhook_id: str, principal: Principal, session: AsyncSession, *, lock: bool
) -> WebhookContext:
    found = await load_in_project(
        session, principal, repo.WEBHOOK_BY_ID, webhook_id, missing="No such webhook.", lock=lock
    )
    return WebhookContext(access=found.access, webhook=found.child)


async def get_webhook_context(
    webhook_id: WebhookIdPath, principal: CurrentPrincipal, session: SessionDep
) -> WebhookContext:
    return await _webhook(webhook_id, principal, session, lock=False)


async def get_webhook_for_update(
    webhook_id: WebhookIdPath, principal: CurrentPrincipal, session: SessionDep
) -> WebhookContext:
    """The webhook read `FOR UPDATE` (PostgreSQL) for a write of it, so `If-Match` is compared
    with the version no other write can change before this one commits."""
    return await _webhook(webhook_id, principal, session, lock=True)


async def _delivery(
    delivery_id: str, principal: Principal, session: AsyncSession, *, lock: bool
) -> DeliveryContext:
    found = await load_in_project(
        session,
        principal,
        repo.DELIVERY_BY_ID,
        delivery_id,
        missing="No such delivery.",
        lock=lock,
    )
    (webhook,) = found.extras
    return DeliveryContext(access=found.access, delivery=found.child, webhook=webhook)


async def get_delivery_context(
    delivery_id: DeliveryIdPath, principal: CurrentPrincipal, session: SessionDep
) -> DeliveryContext:
    return await _delivery(delivery_id, principal, session, lock=False)


async def get_delivery_for_update(
    delivery_id: DeliveryIdPath, principal: CurrentPrincipal, session: SessionDep
) -> DeliveryContext:
    return await _delivery(delivery_id, principal, session, lock=True)


WebhookContextDep = Annotated[WebhookContext, Depends(get_webhook_context)]
WebhookForUpdateDep = Annotated[WebhookContext, Depends(get_webhook_for_update)]
DeliveryContextDep = Annotated[DeliveryContext, Depends(get_delivery_context)]
DeliveryForUpdateDep = Annotated[DeliveryContext, Depends(get_delivery_for_update)]
