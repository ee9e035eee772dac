"""Helpers that build test data quickly (straight through the services, not the API)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import JSON, Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import JSONB

from takt.auth import service as auth_service
from takt.auth.models import User
from takt.auth.principal import Principal
from takt.auth.schemas import RegisterRequest, TokenCreate
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database
from takt.core.events import EventData
from takt.core.jobs import Job
from takt.core.statement_log import StatementLog
from takt.core.time import clock_at, utcnow
from takt.demo.loader import load_demo
from takt.main import create_app
from takt.models_registry import metadata
from takt.projects import service as project_service
from takt.projects.models import ProjectMember
from takt.projects.schemas import ProjectCreate

PASSWORD = "correct-horse-battery"
CLIENT = ClientContext(address="127.0.0.1")


@dataclass
class Account:
    user: User
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def app_for_module_data(settings: Settings, database: Database) -> FastAPI:
    """An app that makes a module-scoped fixture's data (a live server's users), whose access
    tokens last a day: under xdist a module's tests can run far apart, and on CI a stream
    module's 15-minute tokens ran out before its last tests."""
    longer = settings.model_copy(update={"access_token_minutes": 24 * 60})
    return create_app(longer, database=database)


async def make_user(app: FastAPI, db: Database, username: str, *, admin: bool = False) -> Account:
    security = app.state.security
    data = RegisterRequest(username=username, email=f"{username}@example.com", password=PASSWORD)
    async with db.transaction() as session:
        user = await auth_service._create_user(session, security, data, is_admin=admin)
    token, _ = security.access_tokens.issue(user.id)
    return Account(user=user, token=token, headers=bearer(token))


async def make_pat(
    app: FastAPI,
    db: Database,
    account: Account,
    scopes: list[str],
    projects: list[str] | None = None,
) -> tuple[str, str]:
    """A personal access token for `account`: (token id, secret)."""
    async with db.transaction() as session:
        pat, secret = await auth_service.create_pat(
            session,
            app.state.security,
            Principal.of(account.user),
            TokenCreate(name="test", scopes=scopes, projects=projects),
            client=CLIENT,
        )
    return pat.id, secret


async def make_project(db: Database, owner: Account, key: str = "API") -> str:
    async with db.transaction() as session:
        access = await project_service.create_project(
            session,
            Principal.of(owner.user),
            ProjectCreate(key=key, name=f"Project {key}"),
            client=CLIENT,
        )
    return access.project.id


async def add_member(db: Database, project_id: str, account: Account, role: str) -> None:
    async with db.transaction() as session:
        session.add(ProjectMember(project_id=project_id, user_id=account.id, role=role))


async def login(client: AsyncClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def seed_work(
    app: FastAPI, db: Database, admin: Account, member: Account, key: str
) -> dict[str, str]:
    """Two items (the first blocks the second), a label, an unused status and the admin's comment
    on the first item; returns the placeholders the authorization matrix uses."""
    from datetime import timedelta

    from takt.blockers import service as blockers
    from takt.blockers.schemas import BlockerCreate, WaitingOnItem
    from takt.core.time import utcnow
    from takt.items import relations
    from takt.items import service as items
    from takt.items.schemas import ItemCreate
    from takt.risks import service as risks
    from takt.risks.schemas import RiskCreate
    from takt.sprints import service as sprints
    from takt.sprints.schemas import CompleteRequest, SprintCreate
    from takt.webhooks import service as webhooks
    from takt.webhooks.schemas import WebhookCreate
    from takt.workflow import service as workflow
    from takt.workflow.schemas import LabelCreate, StatusCreate

    async with db.transaction() as session:
        access = await project_service.access(session, Principal.of(admin.user), key)
        label = await workflow.create_label(session, access, LabelCreate(name="lab"))
        status = await workflow.create_status(
            session, access, StatusCreate(name="Extra", category="todo")
        )
        first = (
            await items.create_item(
                session, access, ItemCreate(title="First", labels=["lab"], assignee=member.username)
            )
        ).item
        second = (await items.create_item(session, access, ItemCreate(title="Second"))).item
        await relations.create_link(session, access, first, "blocks", second.key)
        comment, _ = await relations.add_comment(session, access, first, "Note from the admin")
        # The second item waits on the first: an open blocker, and a risk of the register.
        blocker = await blockers.raise_blocker(
            session,
            access,
            BlockerCreate(
                item_key=second.key,
                reason="Needs the first",
                waiting_on=WaitingOnItem(kind="item", item_key=first.key),
            ),
        )
        risk = await risks.create_risk(
            session, access, RiskCreate(title="Late", likelihood=2, impact=3)
        )
        planned = await sprints.create_sprint(session, access, SprintCreate(name="Next"))
        await sprints.add_items(
            session, sprints.SprintContext(access=access, sprint=planned), [first.key]
        )
        done = await sprints.create_sprint(session, access, SprintCreate(name="Done"))
        done_ctx = sprints.SprintContext(access=access, sprint=done)
        await sprints.start_sprint(session, done_ctx)
        await sprints.complete_sprint(session, done_ctx, CompleteRequest())
        # A job out of attempts, for an instance admin to retry (/admin/jobs/{job_id}/retry).
        dead_job = Job(kind="test.seeded", state="dead", attempts=3, max_attempts=3)
        session.add(dead_job)
        # A webhook with a queued test ping (to a closed local port: nothing answers).
        private = app.state.settings.model_copy(update={"webhook_allow_private": True})
        webhook, _ = await webhooks.create_webhook(
            session,
            access,
            WebhookCreate(url="http://127.0.0.1:9/takt", event_types=["item.*"]),
            config=webhooks.WebhookConfig.from_settings(private),
            client=CLIENT,
        )
        ping = await webhooks.send_test(session, webhooks.WebhookContext(access, webhook))
    # The latest stand-up day up to today (Monday to Friday in UTC: the project's defaults).
    today = utcnow().date()
    standup_day = today - timedelta(days=max(0, today.weekday() - 4))
    return {
        "item_key": first.key,
        "other_key": second.key,
        "label_id": label.id,
        "status_id": status.id,
        "comment_id": comment.id,
        "sprint_id": planned.id,
        "done_sprint_id": done.id,
        "member_id": member.id,
        "blocker_id": blocker.blocker.id,
        "risk_id": risk.risk.id,
        "dead_job_id": dead_job.id,
        "webhook_id": webhook.id,
        "delivery_id": ping.id,
        "date": standup_day.isoformat(),
    }


async def team(app: FastAPI, db: Database, key: str = "API") -> dict[str, Account]:
    """ada (admin), bob (member), vic (viewer), sam (stranger) and project `key`."""
    people = {name: await make_user(app, db, name) for name in ("ada", "bob", "vic", "sam")}
    project_id = await make_project(db, people["ada"], key)
    await add_member(db, project_id, people["bob"], "member")
    await add_member(db, project_id, people["vic"], "viewer")
    return people


async def new_item(
    client: AsyncClient, who: Account, key: str = "API", **fields: object
) -> dict[str, Any]:
    """Create an item through the API; its JSON answer (what a client would get)."""
    body = {"title": "Something to do", **fields}
    response = await client.post(f"/api/v1/projects/{key}/items", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


class QueryCounter(StatementLog):
    """Counts SQL statements sent on the database's engines while active."""

    @property
    def count(self) -> int:
        return len(self.statements)


class Probe(EventData):
    """A test's own event: platform tests write it where any event would do."""

    event_type: ClassVar[str] = "test.probe"
    label: str = ""
    writer: int | None = None
    number: int | None = None


@contextmanager
def on_a_weekday() -> Iterator[None]:
    """The clock (`utcnow`) moved back to the latest Friday when the test runs on a Saturday or
    Sunday: the demo's history is laid out on working days up to "now", and tests that count
    what it holds expect the week it has on a working day."""
    now = utcnow()
    with clock_at(now - timedelta(days=max(0, now.weekday() - 4))):
        yield


async def load_demo_on_a_weekday(app: FastAPI, db: Database) -> None:
    """`make run`'s demo data, laid out as on a working day (`on_a_weekday`)."""
    with on_a_weekday():
        async with db.transaction() as session:
            await load_demo(session, app.state.security)


@dataclass(frozen=True)
class KeptRows:
    """Every table's rows at one moment (`keep_rows`), to put back into the emptied database
    (`put_back`): a seed that many tests share is made once instead of before each of them.
    Only rows: in-memory state of the app (its caches) is the caller's to set again."""

    tables: list[tuple[Table, list[dict[str, Any]]]]


def _json_columns(table: Table) -> list[str]:
    return [column.key for column in table.columns if isinstance(column.type, JSON)]


def parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` ordered so that a row referring to another of its table (a retro's previous
    retro, an item's parent) comes after it: they are inserted one by one, each checked."""
    links = [
        (element.parent.key, element.column.key)
        for constraint in table.foreign_key_constraints
        if constraint.referred_table is table
        for element in constraint.elements
    ]
    if not links:
        return rows
    by_key = {(referred, row[referred]): row for _, referred in links for row in rows}
    ordered: list[dict[str, Any]] = []
    placed: set[int] = set()

    def place(row: dict[str, Any]) -> None:
        if id(row) in placed:
            return
        placed.add(id(row))
        for column, referred in links:
            parent = by_key.get((referred, row[column]))
            if parent is not None:
                place(parent)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


async def keep_rows(db: Database) -> KeptRows:
    """Every table's rows, read in one transaction. A JSON column's SQL NULL and its JSON
    `null` both read as None: SQL NULL is kept as None, JSON `null` as `JSON.NULL`."""
    async with db.transaction() as session:
        kept = []
        for table in metadata.sorted_tables:
            json_columns = _json_columns(table)
            is_sql_null = [
                table.c[name].is_(None).label(f"{name}__is_null") for name in json_columns
            ]
            rows = []
            for found in await session.execute(select(table, *is_sql_null)):
                row = dict(found._mapping)
                for name in json_columns:
                    if row.pop(f"{name}__is_null"):
                        row[name] = None
                    elif row[name] is None:
                        row[name] = JSON.NULL
                rows.append(row)
            if rows:
                kept.append((table, parents_first(table, rows)))
    return KeptRows(kept)


# Binds None as SQL NULL (`JSON.NULL` as JSON `null`), on both databases.
_JSON_NONE_AS_NULL = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


async def put_back(db: Database, kept: KeptRows) -> None:
    """The kept rows inserted again, parents first, as they were (ids, times, sequence numbers:
    the sequences have moved past them, so later inserts don't collide; SQLite's search index
    follows through its triggers)."""
    async with db.transaction() as session:
        for table, rows in kept.tables:
            values = {
                name: bindparam(name, type_=_JSON_NONE_AS_NULL) for name in _json_columns(table)
            }
            statement = insert(table).values(values) if values else insert(table)
            await session.execute(statement, rows)
