"""Helpers of planning poker's tests: a team of voters, sessions and votes through the API,
finished items with known cycle times, and the sessions the authorization matrix and the
contract test seed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.time import clock_at
from takt.estimation import service as poker
from takt.estimation.models import EstimationSession
from takt.estimation.schemas import EstimationCreate, VoteWrite
from takt.projects import service as project_service
from tests.support import Account, add_member, make_project, make_user, new_item

PROJECT = "API"
SESSIONS = f"/api/v1/projects/{PROJECT}/estimations"


async def poker_team(
    app: FastAPI, db: Database, extra_members: tuple[str, ...] = ()
) -> dict[str, Account]:
    """ada (admin), bob and cal (members, and any `extra_members`), vic (viewer), sam
    (stranger) and project API."""
    names = ("ada", "bob", "cal", "vic", "sam", *extra_members)
    people = {name: await make_user(app, db, name) for name in names}
    project_id = await make_project(db, people["ada"], PROJECT)
    for name in ("bob", "cal", *extra_members):
        await add_member(db, project_id, people[name], "member")
    await add_member(db, project_id, people["vic"], "viewer")
    return people


def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def items(client: AsyncClient, who: Account, count: int) -> list[str]:
    return [str((await new_item(client, who, title=f"Story {n}"))["key"]) for n in range(count)]


async def start(client: AsyncClient, who: Account, keys: list[str], **body: Any) -> dict[str, Any]:
    """A session over `keys`; its JSON answer."""
    return ok(
        await client.post(SESSIONS, json={"item_keys": keys, **body}, headers=who.headers), 201
    )


def url(session: dict[str, Any] | str, key: str | None = None, act: str = "") -> str:
    sid = session if isinstance(session, str) else session["id"]
    base = f"/api/v1/estimations/{sid}"
    if key is None:
        return base + (f"/{act}" if act else "")
    return f"{base}/items/{key}" + (f"/{act}" if act else "")


async def vote(
    client: AsyncClient, who: Account, session: dict[str, Any], key: str, card: str
) -> Response:
    return await client.put(url(session, key, "vote"), json={"card": card}, headers=who.headers)


async def act(
    client: AsyncClient, who: Account, session: dict[str, Any], key: str, what: str, **body: Any
) -> Response:
    return await client.post(url(session, key, what), json=body or None, headers=who.headers)


async def finished_item(
    client: AsyncClient, who: Account, estimate: float, cycle: timedelta, *, at: datetime
) -> str:
    """An item with `estimate`, started at `at` and done `cycle` later (its cycle time)."""
    with clock_at(at - timedelta(hours=1)):
        key = str((await new_item(client, who, estimate=estimate))["key"])
    for status, moment in (("In Progress", at), ("Done", at + cycle)):
        with clock_at(moment):
            answer = await client.patch(
                f"/api/v1/items/{key}", json={"status": status}, headers=who.headers
            )
            assert answer.status_code == 200, answer.text
    return key


BASE_MOMENT = datetime(2026, 10, 1, 9, tzinfo=UTC)


async def seed_estimation(
    app: FastAPI, db: Database, admin: Account, member: Account, key: str, item_key: str
) -> dict[str, str]:
    """Two sessions of the admin over `item_key` (the admin and `member` vote): `session_id`
    with the member's vote in its open round, `revealed_session_id` with that round revealed.
    The placeholders of the authorization matrix and the contract test."""
    found: dict[str, str] = {}
    for name in ("session_id", "revealed_session_id"):
        async with db.transaction() as session:
            lead = await project_service.access(session, Principal.of(admin.user), key)
            ctx = await poker.create_session(
                session, lead, EstimationCreate(title="Seeded", item_keys=[item_key])
            )
            found[name] = ctx.estimation.id
        async with db.transaction() as session:
            voter = await project_service.access(session, Principal.of(member.user), key)
            ctx = poker.EstimationContext(voter, ctx.estimation, ctx.facilitator)
            ctx = await _reloaded(session, ctx)
            await poker.cast_vote(session, ctx, item_key, VoteWrite(card="3"))
        if name == "revealed_session_id":
            async with db.transaction() as session:
                lead = await project_service.access(session, Principal.of(admin.user), key)
                ctx = await _reloaded(session, poker.EstimationContext(lead, ctx.estimation, None))
                await poker.reveal(session, ctx, item_key)
    return found


async def _reloaded(session: Any, ctx: poker.EstimationContext) -> poker.EstimationContext:
    """The context's session row read in this database session (each write reads its own)."""
    row = await session.get(EstimationSession, ctx.estimation.id)
    return poker.EstimationContext(ctx.access, row, ctx.facilitator)
