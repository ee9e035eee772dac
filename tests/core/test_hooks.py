"""In-transaction hooks (`takt.core.hooks`) and their start-up wiring (`takt.wiring`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt import wiring
from takt.config import Settings
from takt.core.db import Database
from takt.core.errors import Conflict
from takt.core.events import Event, emit
from takt.core.hooks import Handler, Hook, HookNotConnected, declared_hooks
from takt.main import create_app
from tests.support import Probe

NO_SESSION = cast(AsyncSession, object())  # the unit tests' handlers never touch it


@pytest.fixture
def unwired() -> Iterator[None]:
    """Every declared hook without its subscribers for the test (as in a process that never
    ran the wiring), given back afterwards."""
    wiring.connect()  # declare every domain's hook (their modules load with the wiring)
    saved: dict[Hook[Any], tuple[Handler[Any], ...]] = {h: h.handlers for h in declared_hooks()}
    for hook, handlers in saved.items():
        for handler in handlers:
            hook.unsubscribe(handler)
    try:
        yield
    finally:
        for hook, handlers in saved.items():
            for handler in handlers:
                hook.subscribe(handler)


async def test_handlers_run_in_subscription_order_with_the_callers_session_and_payload() -> None:
    hook = Hook[str]("test.ordered")
    calls: list[tuple[str, AsyncSession, str]] = []

    async def first(session: AsyncSession, payload: str) -> None:
        calls.append(("first", session, payload))

    async def second(session: AsyncSession, payload: str) -> None:
        calls.append(("second", session, payload))

    hook.subscribe(first)
    hook.subscribe(second)
    await hook.fire(NO_SESSION, "hello")
    assert calls == [("first", NO_SESSION, "hello"), ("second", NO_SESSION, "hello")]


async def test_subscribing_a_handler_twice_runs_it_once() -> None:
    hook = Hook[int]("test.idempotent")
    seen: list[int] = []

    async def handler(session: AsyncSession, payload: int) -> None:
        seen.append(payload)

    hook.subscribe(handler)
    hook.subscribe(handler)
    await hook.fire(NO_SESSION, 1)
    assert seen == [1]
    assert hook.handlers == (handler,)


async def test_a_required_hook_without_a_subscriber_raises_instead_of_skipping_work() -> None:
    hook = Hook[int]("test.required", required=True)
    with pytest.raises(HookNotConnected, match=r"test\.required"):
        await hook.fire(NO_SESSION, 1)


async def test_an_optional_hook_without_a_subscriber_does_nothing() -> None:
    await Hook[int]("test.optional").fire(NO_SESSION, 1)


def test_two_hooks_may_not_share_a_name() -> None:
    kept = Hook[int]("test.twice")
    with pytest.raises(ValueError, match=r"test\.twice"):
        Hook[int]("test.twice")
    assert kept.name == "test.twice"


async def test_a_handlers_error_rolls_back_the_callers_whole_change(db: Database) -> None:
    hook = Hook[str]("test.refusing")

    async def write_then_refuse(session: AsyncSession, label: str) -> None:
        await emit(session, Probe(label=f"{label}: the handler's write"), None, None)
        raise Conflict("The handler refuses.")

    async def change() -> None:
        async with db.transaction() as session:
            await emit(session, Probe(label="the caller's write"), None, None)
            await hook.fire(session, "refused")

    hook.subscribe(write_then_refuse)
    with pytest.raises(Conflict):
        await change()
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


@pytest.mark.usefixtures("unwired")
def test_create_app_connects_every_required_hook(settings: Settings, db: Database) -> None:
    required = [hook for hook in declared_hooks() if hook.required]
    assert {hook.name for hook in required} >= {
        "projects.project_created",
        "workflow.status_retired",
        "workflow.status_recategorised",
    }
    assert not any(hook.handlers for hook in required)
    create_app(settings, database=db)
    assert [hook.name for hook in required if not hook.handlers] == []


def test_connecting_again_changes_nothing() -> None:
    wiring.connect()
    before = {hook.name: hook.handlers for hook in declared_hooks()}
    wiring.connect()
    assert {hook.name: hook.handlers for hook in declared_hooks()} == before


@pytest.mark.usefixtures("unwired")
async def test_the_demo_loader_wires_the_hooks_it_needs_without_an_app(
    app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`takt demo` runs the services with no app built: the loader connects the hooks itself
    (here without the backlog, which would only take time)."""
    from takt.demo import loader
    from takt.workflow.models import Status

    async def no_backlog(*args: object) -> None:
        return None

    monkeypatch.setattr(loader, "load_backlog", no_backlog)
    async with db.transaction() as session:
        await loader.load_demo(session, app.state.security)
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 6
