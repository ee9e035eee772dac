"""Times in GitHub and GitLab deliveries keep to the API's instants (1970-01-01 to 9000-12-31):
a deployment, status, pull request, review, note or pipeline time outside them fails the
delivery as a wrong shape, with the reason, and records nothing; a commit dated after them
fails it too, one dated before 1970 (imported history) is kept without its time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.db import Database
from takt.core.jobs import Job
from takt.delivery.models import Commit, PullRequest, Review
from takt.deployments.models import Deployment
from tests.delivery.support import (
    fixture,
    inbox,
    link_repository,
    process_inbox,
    send_github,
    send_gitlab,
)
from tests.support import Account, team

RANGE = "is not a timestamp from 1970-01-01T00:00:00Z to 9000-12-31T00:00:00Z"
# Valid ISO 8601 times outside the range, each way: far out, just out, just out through an
# offset, and (0001 at +05:00, 9999 at -05:00) out of Python's years once in UTC.
AFTER = (
    "9999-12-31T23:59:59Z",
    "9000-12-31T00:00:01Z",
    "9000-12-30T23:00:00-01:01",
    "9999-12-31T23:59:59-05:00",
)
BEFORE = (
    "1969-12-31T23:59:59Z",
    "1970-01-01T04:59:59+05:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
)
Payload = dict[str, Any]


@dataclass(frozen=True)
class Field:
    """One time in one real fixture: where it is, and how to set it."""

    provider: str
    event: str
    name: str
    path: str
    put: Callable[[Payload, str], None]


def _set(*keys: str | int) -> Callable[[Payload, str], None]:
    def put(payload: Payload, value: str) -> None:
        found: Any = payload
        for key in keys[:-1]:
            found = found[key]
        found[keys[-1]] = value

    return put


def _ran(key: str) -> Callable[[Payload, str], None]:
    """Sets `key` of the fixture pipeline's production job, made a job that ran (the fixture's
    was skipped, which records nothing)."""

    def put(payload: Payload, value: str) -> None:
        build = payload["builds"][0]
        build.update(
            status="success",
            started_at="2016-08-12 15:26:30 UTC",
            finished_at="2016-08-12 15:27:30 UTC",
        )
        build[key] = value

    return put


FIELDS = [
    Field(
        "github",
        "deployment",
        "deployment.created.json",
        "deployment.created_at",
        _set("deployment", "created_at"),
    ),
    Field(
        "github",
        "deployment_status",
        "deployment_status.created.json",
        "deployment_status.created_at",
        _set("deployment_status", "created_at"),
    ),
    Field(
        "github",
        "pull_request",
        "pull_request.opened.json",
        "pull_request.created_at",
        _set("pull_request", "created_at"),
    ),
    Field(
        "github",
        "pull_request",
        "pull_request.closed.json",
        "pull_request.closed_at",
        _set("pull_request", "closed_at"),
    ),
    Field(
        "github",
        "pull_request_review",
        "pull_request_review.submitted.json",
        "review.submitted_at",
        _set("review", "submitted_at"),
    ),
    Field(
        "gitlab",
        "Deployment Hook",
        "deployment.json",
        "status_changed_at",
        _set("status_changed_at"),
    ),
    Field(
        "gitlab",
        "Pipeline Hook",
        "pipeline.json",
        "builds[0].started_at",
        _ran("started_at"),
    ),
    Field(
        "gitlab",
        "Pipeline Hook",
        "pipeline.json",
        "builds[0].finished_at",
        _ran("finished_at"),
    ),
    Field(
        "gitlab",
        "Merge Request Hook",
        "merge_request.json",
        "object_attributes.updated_at",
        _set("object_attributes", "updated_at"),
    ),
    Field(
        "gitlab",
        "Note Hook",
        "note_merge_request.json",
        "object_attributes.created_at",
        _set("object_attributes", "created_at"),
    ),
]
COMMITS = [
    Field(
        "github",
        "push",
        "push.with-new-branch.json",
        "commits[0].timestamp",
        _set("commits", 0, "timestamp"),
    ),
    Field(
        "gitlab", "Push Hook", "push.json", "commits[1].timestamp", _set("commits", 1, "timestamp")
    ),
]


def _id(field: Field) -> str:
    return f"{field.provider}-{field.path}"


async def _deliver(
    client: AsyncClient, db: Database, settings: Settings, who: Account, field: Field, value: str
) -> dict[str, Any]:
    """Link the fixture's repository, send the fixture with the time set, process the inbox;
    the delivery as the repository's inbox lists it."""
    payload = fixture(field.provider, field.name)
    field.put(payload, value)
    if field.provider == "github":
        full_name = payload["repository"]["full_name"]
    else:
        full_name = payload["project"]["path_with_namespace"]
    repository = await link_repository(client, who, field.provider, full_name)
    send = send_github if field.provider == "github" else send_gitlab
    response = await send(client, repository, field.event, payload)
    assert response.status_code == 202, response.text
    await process_inbox(db, settings)
    listed = await client.get(
        f"/api/v1/repositories/{repository['id']}/deliveries", headers=who.headers
    )
    assert listed.status_code == 200, listed.text
    (delivery,) = listed.json()["data"]
    found: dict[str, Any] = delivery
    return found


async def _count(db: Database, model: type[Any]) -> int:
    async with db.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _assert_failed_and_nothing_stored(
    db: Database, delivery: dict[str, Any], field: Field, value: str
) -> None:
    assert delivery["state"] == "failed", delivery
    assert delivery["reason"] == (
        f"wrong shape for `{field.event}`: `{field.path}` {RANGE}: {value!r}"
    )
    for model in (Deployment, PullRequest, Review, Commit):
        assert await _count(db, model) == 0, model.__name__
    # A wrong shape is not retried: it would fail the same way.
    assert await _count(db, Job) == 0
    (kept,) = await inbox(db)
    assert kept.attempts == 1


@pytest.mark.parametrize("value", AFTER + BEFORE)
async def test_a_deployment_dated_outside_the_instants_fails_with_the_reason(
    value: str, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    delivery = await _deliver(client, db, settings, people["ada"], FIELDS[0], value)
    await _assert_failed_and_nothing_stored(db, delivery, FIELDS[0], value)


@pytest.mark.parametrize("field", FIELDS, ids=_id)
@pytest.mark.parametrize("late", [True, False], ids=["after-9000", "before-1970"])
async def test_each_provider_time_outside_the_instants_fails_the_delivery(
    field: Field,
    late: bool,
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
) -> None:
    gitlab = field.provider == "gitlab"
    if late:
        value = "9999-12-31 23:59:59 UTC" if gitlab else "9999-12-31T23:59:59Z"
    else:
        value = "1969-12-31 23:59:59 UTC" if gitlab else "0001-01-01T00:00:00+05:00"
    people = await team(app, db)
    delivery = await _deliver(client, db, settings, people["ada"], field, value)
    await _assert_failed_and_nothing_stored(db, delivery, field, value)


@pytest.mark.parametrize("field", COMMITS, ids=_id)
@pytest.mark.parametrize("value", AFTER[:2])
async def test_a_commit_dated_after_the_instants_fails_the_push(
    field: Field,
    value: str,
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
) -> None:
    people = await team(app, db)
    delivery = await _deliver(client, db, settings, people["ada"], field, value)
    await _assert_failed_and_nothing_stored(db, delivery, field, value)


async def _commit_times(db: Database) -> dict[str, datetime | None]:
    async with db.transaction(write=False) as session:
        rows = await session.execute(select(Commit.sha, Commit.committed_at))
        return {sha[:7]: at for sha, at in rows}


@pytest.mark.parametrize("value", BEFORE)
async def test_a_commit_dated_before_1970_is_kept_without_its_time(
    value: str, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    """Imported history may predate 1970: the push is recorded, and the commit with no time,
    as Takt keeps no instant before 1970; the push's other commit keeps its own."""
    people = await team(app, db)
    delivery = await _deliver(client, db, settings, people["ada"], COMMITS[1], value)
    assert (delivery["state"], delivery["reason"]) == ("processed", None)
    assert await _commit_times(db) == {
        "b6568db": datetime(2011, 12, 12, 12, 27, 31, tzinfo=UTC),
        "da15608": None,
    }


async def test_a_github_commit_dated_before_1970_is_kept_without_its_time(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    delivery = await _deliver(
        client, db, settings, people["ada"], COMMITS[0], "1969-07-20T20:17:40Z"
    )
    assert (delivery["state"], delivery["reason"]) == ("processed", None)
    assert await _commit_times(db) == {"6113728": None}


# The edges of the range are in it: a time exactly at either one is recorded as it was given.
FIRST = "1970-01-01T00:00:00Z"
LAST = "9000-12-30T23:00:00-01:00"  # 9000-12-31T00:00:00Z


@pytest.mark.parametrize("field", FIELDS, ids=_id)
@pytest.mark.parametrize("value", [FIRST, LAST], ids=["first", "last"])
async def test_a_provider_time_at_the_edges_of_the_instants_is_recorded(
    field: Field,
    value: str,
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
) -> None:
    people = await team(app, db)
    delivery = await _deliver(client, db, settings, people["ada"], field, value)
    assert (delivery["state"], delivery["reason"]) == ("processed", None)


async def test_a_deployment_at_the_edges_shows_those_times(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", "Codertocat/Hello-World")
    payload = fixture("github", "deployment_status.created.json")
    payload["deployment"]["created_at"] = FIRST
    payload["deployment_status"]["created_at"] = LAST
    response = await send_github(client, repository, "deployment_status", payload)
    assert response.status_code == 202
    await process_inbox(db, settings)
    listed = await client.get("/api/v1/projects/API/deployments", headers=people["ada"].headers)
    assert listed.status_code == 200, listed.text
    ((started, finished),) = [(d["started_at"], d["finished_at"]) for d in listed.json()["data"]]
    assert (started, finished) == ("1970-01-01T00:00:00Z", "9000-12-31T00:00:00Z")


@pytest.mark.parametrize("field", COMMITS, ids=_id)
async def test_a_commit_at_the_last_instant_keeps_its_time(
    field: Field, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    delivery = await _deliver(client, db, settings, people["ada"], field, LAST)
    assert (delivery["state"], delivery["reason"]) == ("processed", None)
    assert datetime(9000, 12, 31, tzinfo=UTC) in (await _commit_times(db)).values()
