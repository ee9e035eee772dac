"""Every real payload of the shared fixture folders is accepted (202) and processed without
error: read, or ignored when its event or action isn't one Takt uses."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.config import Settings
from takt.core.db import Database
from tests.delivery.support import (
    FIXTURES,
    GITLAB_EVENTS,
    fixture,
    github_event_of,
    inbox,
    link_repository,
    process_inbox,
    send_github,
    send_gitlab,
)
from tests.support import team

GITHUB = sorted(p.name for p in (FIXTURES / "github").glob("*.json"))
GITLAB = sorted(p.name for p in (FIXTURES / "gitlab").glob("*.json"))
# What Takt reads; the rest is accepted and ignored. (The Pipeline Hook is read too, but the
# fixture's one deployment job was skipped: it is ignored with that reason.)
GITHUB_READ = {"pull_request", "pull_request_review", "push", "deployment", "deployment_status"}
GITLAB_READ = {"Merge Request Hook", "Note Hook", "Push Hook", "Deployment Hook"}


def test_the_fixture_folders_are_there() -> None:
    assert len(GITHUB) >= 15
    assert len(GITLAB) >= 7
    assert set(GITLAB) == set(GITLAB_EVENTS)


@pytest.mark.parametrize("name", GITHUB)
async def test_each_github_fixture_is_accepted_and_processed(
    name: str, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    payload = fixture("github", name)
    full_name = (payload.get("repository") or {}).get("full_name", "Codertocat/Hello-World")
    repository = await link_repository(client, people["ada"], "github", full_name)
    event = github_event_of(name)
    response = await send_github(client, repository, event, payload)
    assert response.status_code == 202, response.text
    await process_inbox(db, settings)
    (delivery,) = await inbox(db)
    expected = "processed" if event in GITHUB_READ else "ignored"
    assert delivery.state == expected, delivery.reason
    if expected == "processed":
        assert delivery.reason is None


@pytest.mark.parametrize("name", GITLAB)
async def test_each_gitlab_fixture_is_accepted_and_processed(
    name: str, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    payload = fixture("gitlab", name)
    full_name = payload.get("project", {}).get("path_with_namespace", "group/project")
    repository = await link_repository(client, people["ada"], "gitlab", full_name)
    event = GITLAB_EVENTS[name]
    response = await send_gitlab(client, repository, event, payload)
    assert response.status_code == 202, response.text
    await process_inbox(db, settings)
    (delivery,) = await inbox(db)
    expected = "processed" if event in GITLAB_READ else "ignored"
    assert delivery.state == expected, delivery.reason
    if expected == "processed":
        assert delivery.reason is None


def _variants() -> list[tuple[str, str, str, object]]:
    """Real payloads with what varies in the wild: null bodies, missing optional objects, bots
    as authors, force-pushes, organisation and installation objects present or absent."""

    def pr(change: object) -> tuple[str, str, str, object]:
        return ("github", "pull_request.opened.json", "pull_request", change)

    def drop(*path: str) -> object:
        def apply(payload: dict) -> None:  # type: ignore[type-arg]
            target = payload
            for key in path[:-1]:
                target = target[key]
            target.pop(path[-1], None)

        return apply

    def put(value: object, *path: str) -> object:
        def apply(payload: dict) -> None:  # type: ignore[type-arg]
            target = payload
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return apply

    bot = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}
    return [
        pr(put(None, "pull_request", "body")),
        pr(drop("installation")),
        pr(put({"login": "acme", "id": 1}, "organization")),
        pr(put(bot, "pull_request", "user")),
        pr(put(bot, "sender")),
        pr(drop("pull_request", "requested_reviewers")),
        pr(drop("pull_request", "head")),
        pr(drop("pull_request", "draft")),
        pr(drop("pull_request", "additions")),
        pr(put(None, "pull_request", "user")),
        (
            "github",
            "pull_request_review.submitted.json",
            "pull_request_review",
            put(None, "review", "body"),
        ),
        (
            "github",
            "pull_request_review.submitted.json",
            "pull_request_review",
            put("APPROVED", "review", "state"),
        ),
        ("github", "push.with-new-branch.json", "push", put(True, "forced")),
        ("github", "push.with-new-branch.json", "push", drop("head_commit")),
        ("github", "push.with-new-branch.json", "push", put(None, "commits")),
        ("github", "push.json", "push", drop("installation")),
        ("gitlab", "merge_request.json", "Merge Request Hook", drop("reviewers")),
        ("gitlab", "merge_request.json", "Merge Request Hook", drop("changes")),
        (
            "gitlab",
            "merge_request.json",
            "Merge Request Hook",
            put(None, "object_attributes", "description"),
        ),
        (
            "gitlab",
            "merge_request.json",
            "Merge Request Hook",
            put("approved", "object_attributes", "action"),
        ),
        (
            "gitlab",
            "merge_request.json",
            "Merge Request Hook",
            put("merge", "object_attributes", "action"),
        ),
        ("gitlab", "note_merge_request.json", "Note Hook", drop("merge_request", "last_commit")),
        ("gitlab", "push.json", "Push Hook", put([], "commits")),
    ]


VARIANTS = _variants()


@pytest.mark.parametrize("variant", range(len(VARIANTS)))
async def test_payloads_as_they_vary_in_the_wild_are_processed(
    variant: int, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    provider, name, event, change = VARIANTS[variant]
    people = await team(app, db)
    payload = fixture(provider, name)
    change(payload)  # type: ignore[operator]
    if provider == "github":
        full_name = payload["repository"]["full_name"]
        repository = await link_repository(client, people["ada"], provider, full_name)
        response = await send_github(client, repository, event, payload)
    else:
        full_name = payload["project"]["path_with_namespace"]
        repository = await link_repository(client, people["ada"], provider, full_name)
        response = await send_gitlab(client, repository, event, payload)
    assert response.status_code == 202
    await process_inbox(db, settings)
    (delivery,) = await inbox(db)
    assert delivery.state == "processed", delivery.reason
