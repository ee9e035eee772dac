"""Webhook rules the database decides (concurrent writes) and the service the delivery engine
calls to disable an endpoint."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.core.db import Database
from takt.core.events import Event
from takt.webhooks import service
from takt.webhooks.models import Webhook
from tests.support import team


async def _webhook(client: AsyncClient, headers: dict[str, str], **fields: object) -> str:
    made = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": "https://8.8.8.8/hook", "event_types": ["*"], **fields},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    webhook_id: str = made.json()["id"]
    return webhook_id


async def test_concurrent_patches_with_one_if_match_let_exactly_one_through(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    webhook_id = await _webhook(client, ada.headers)
    answers = await asyncio.gather(
        *(
            client.patch(
                f"/api/v1/webhooks/{webhook_id}",
                json={"description": f"writer {n}"},
                headers={**ada.headers, "If-Match": '"v1"'},
            )
            for n in range(12)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] + [412] * 11
    async with db.transaction(write=False) as session:
        row = await session.get(Webhook, webhook_id)
        updates = await session.scalars(select(Event).where(Event.type == "webhook.updated"))
        assert len(list(updates)) == 1
    assert row is not None
    assert row.version == 2


async def test_disable_stops_the_endpoint_and_tells_the_project_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    webhook_id = await _webhook(client, ada.headers)
    for expected in (True, False):
        async with db.transaction() as session:
            webhook = await session.get(Webhook, webhook_id)
            assert webhook is not None
            assert await service.disable(session, webhook, "the endpoint answered 410 Gone") is (
                expected
            )
    shown = (await client.get(f"/api/v1/webhooks/{webhook_id}", headers=ada.headers)).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "the endpoint answered 410 Gone"
    assert shown["version"] == 2
    async with db.transaction(write=False) as session:
        events = list(await session.scalars(select(Event).where(Event.type == "webhook.disabled")))
    assert len(events) == 1
    assert events[0].actor_id is None
    assert events[0].data == {
        "id": webhook_id,
        "kind": "standard",
        "url": "https://8.8.8.8/hook",
        "reason": "the endpoint answered 410 Gone",
    }
    # Enabled again by an admin, it forgets why it was off.
    on = await client.patch(
        f"/api/v1/webhooks/{webhook_id}", json={"enabled": True}, headers=ada.headers
    )
    assert on.json()["disabled_reason"] is None
