"""Deployments from GitHub and GitLab deliveries, through the real hook endpoints and the inbox's
processing: each fixture records (or moves on) the right deployment, in any order, once however
often it comes; an environment Takt doesn't know is added at the end of the promotion path; a
payload of the wrong shape fails with the reason, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from takt.config import Settings
from takt.core.db import Database
from takt.core.errors import ValidationFailed
from takt.core.jobs import Job
from takt.deployments import service as deployments_service
from takt.deployments.models import Deployment
from takt.integrations import service as integrations_service
from tests.delivery.support import (
    fixture,
    inbox,
    link_repository,
    process_inbox,
    send_github,
    send_gitlab,
)
from tests.support import Account, team

GITHUB_REPO = "Codertocat/Hello-World"
GITLAB_DEPLOYMENTS_REPO = "root/test-deployment-webhooks"
GITLAB_PIPELINES_REPO = "gitlab-org/gitlab-test"
GITHUB_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
# What a deployment's answer says that doesn't depend on when Takt processed it.
STABLE = (
    "environment",
    "source",
    "external_id",
    "ref",
    "sha",
    "state",
    "started_at",
    "finished_at",
    "succeeded_at",
    "triggered_by",
    "url",
    "description",
    "repository_id",
)


async def deployments(client: AsyncClient, who: Account, key: str = "API") -> list[dict[str, Any]]:
    """The project's deployments as `GET /projects/{key}/deployments` shows them."""
    response = await client.get(f"/api/v1/projects/{key}/deployments", headers=who.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def environments(client: AsyncClient, who: Account, key: str = "API") -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/projects/{key}/environments", headers=who.headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def deployment_events(client: AsyncClient, who: Account) -> list[str]:
    response = await client.get(
        "/api/v1/projects/API/events",
        params={"types": "deployment.created,deployment.started,deployment.succeeded"},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text
    return sorted(event["type"] for event in response.json()["data"])


async def count_deployments(db: Database) -> int:
    async with db.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Deployment)) or 0)


def stable(deployment: dict[str, Any]) -> dict[str, Any]:
    found = {key: deployment[key] for key in STABLE}
    found["environment"] = deployment["environment"]["name"]
    return found


async def github(
    client: AsyncClient,
    db: Database,
    settings: Settings,
    repository: dict[str, Any],
    *sent: tuple[str, dict[str, Any]],
) -> None:
    """Send each (event, payload) as GitHub does, then let the worker process the inbox."""
    for event, payload in sent:
        response = await send_github(client, repository, event, payload)
        assert response.status_code == 202, response.text
    await process_inbox(db, settings)


async def gitlab(
    client: AsyncClient,
    db: Database,
    settings: Settings,
    repository: dict[str, Any],
    *sent: tuple[str, dict[str, Any]],
) -> None:
    for event, payload in sent:
        response = await send_gitlab(client, repository, event, payload)
        assert response.status_code == 202, response.text
    await process_inbox(db, settings)


def created() -> tuple[str, dict[str, Any]]:
    return "deployment", fixture("github", "deployment.created.json")


def status(state: str = "success", **fields: Any) -> tuple[str, dict[str, Any]]:
    payload = fixture("github", "deployment_status.created.json")
    payload["deployment_status"].update(state=state, **fields)
    return "deployment_status", payload


# GitHub -------------------------------------------------------------------------------------------


async def test_a_github_deployment_then_its_status_record_one_deployment(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", GITHUB_REPO)
    await github(client, db, settings, repository, created())
    (deployment,) = await deployments(client, people["bob"])
    assert stable(deployment) == {
        "environment": "production",
        "source": "github",
        "external_id": "145988746",
        "ref": "master",
        "sha": GITHUB_SHA,
        "state": "pending",
        "started_at": "2019-05-15T15:20:53Z",
        "finished_at": None,
        "succeeded_at": None,
        "triggered_by": "Codertocat",
        "url": None,
        "description": "",
        "repository_id": repository["id"],
    }
    await github(client, db, settings, repository, status())
    (deployment,) = await deployments(client, people["bob"])
    assert deployment["state"] == "success"
    assert deployment["started_at"] == "2019-05-15T15:20:53Z"
    assert deployment["finished_at"] == deployment["succeeded_at"] == "2019-05-15T15:20:55Z"
    assert [(d.state, d.action, d.reason) for d in await inbox(db)] == [
        ("processed", "created", None),
        ("processed", "created", None),
    ]
    assert await deployment_events(client, people["ada"]) == [
        "deployment.created",
        "deployment.succeeded",
    ]


async def test_a_status_before_its_deployment_gives_the_same_deployment(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", GITHUB_REPO)
    await github(client, db, settings, repository, created(), status("in_progress"), status())
    # The same deliveries in reverse order, about another deployment (GitHub id 2).
    backwards = [created(), status("in_progress"), status()]
    for _, payload in backwards:
        payload["deployment"]["id"] = 2
    await github(client, db, settings, repository, *reversed(backwards))
    in_order, reverse = sorted(await deployments(client, people["ada"]), key=lambda d: d["id"])
    if in_order["external_id"] == "2":
        in_order, reverse = reverse, in_order
    assert reverse["external_id"] == "2"
    assert {**stable(reverse), "external_id": None} == {**stable(in_order), "external_id": None}
    assert reverse["state"] == "success"
    assert reverse["finished_at"] == "2019-05-15T15:20:55Z"
    assert await count_deployments(db) == 2


async def test_a_redelivered_deployment_is_recorded_once(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", GITHUB_REPO)
    event, payload = status()
    first = await send_github(client, repository, event, payload, delivery="d-1")
    again = await send_github(client, repository, event, payload, delivery="d-1")
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    await process_inbox(db, settings)
    # The same report under a new delivery id (a resend, not GitHub's Redeliver) changes
    # nothing either: the deployment is found by GitHub's id.
    await github(client, db, settings, repository, status(), created())
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "success"
    assert await count_deployments(db) == 1
    assert [d.state for d in await inbox(db)] == ["processed"] * 3
    assert await deployment_events(client, people["ada"]) == [
        "deployment.created",
        "deployment.succeeded",
    ]


async def test_an_inactive_status_leaves_the_deployment_as_it_was(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", GITHUB_REPO)
    await github(client, db, settings, repository, created(), status())
    await github(client, db, settings, repository, status("inactive"))
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "success"
    last = (await inbox(db))[-1]
    assert last.state == "ignored"
    assert "inactive" in (last.reason or "")


async def test_a_failed_github_deployment_is_a_failure(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", GITHUB_REPO)
    log = "https://github.com/Codertocat/Hello-World/actions/runs/1"
    await github(client, db, settings, repository, created(), status("error", log_url=log))
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "failure"
    assert deployment["url"] == log
    assert deployment["succeeded_at"] is None


async def test_an_unknown_environment_is_added_at_the_end_of_the_promotion_path(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "github", GITHUB_REPO)
    before = await environments(client, people["ada"])
    live = fixture("github", "deployment.created.json")
    live["deployment"].update(id=1, environment="Live-EU", production_environment=True)
    canary = fixture("github", "deployment.created.json")
    canary["deployment"].update(id=2, environment="canary")
    await github(client, db, settings, repository, ("deployment", live), ("deployment", canary))
    after = await environments(client, people["ada"])
    assert after[: len(before)] == before
    assert [(e["name"], e["type"]) for e in after[len(before) :]] == [
        ("Live-EU", "production"),
        ("canary", "development"),
    ]
    positions = [e["position"] for e in after]
    assert positions == sorted(positions)
    # Named again in another case, it is the same environment.
    again = fixture("github", "deployment.created.json")
    again["deployment"].update(id=3, environment="live-eu")
    await github(client, db, settings, repository, ("deployment", again))
    assert len(await environments(client, people["ada"])) == len(after)
    names = {
        d["external_id"]: d["environment"]["name"] for d in await deployments(client, people["ada"])
    }
    assert names["3"] == names["1"] == "Live-EU"


# GitLab -------------------------------------------------------------------------------------------


def gitlab_deployment(status: str, at: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    payload = fixture("gitlab", "deployment.json")
    payload.update(status=status, status_changed_at=at, **fields)
    return "Deployment Hook", payload


def pipeline(**production: Any) -> tuple[str, dict[str, Any]]:
    payload = fixture("gitlab", "pipeline.json")
    payload["builds"][0].update(production)
    return "Pipeline Hook", payload


async def test_a_gitlab_deployment_runs_then_succeeds(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "gitlab", GITLAB_DEPLOYMENTS_REPO)
    running = gitlab_deployment("running", "2021-04-28 21:48:00 +0200")
    await gitlab(client, db, settings, repository, running)
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "in_progress"
    assert deployment["started_at"] == "2021-04-28T19:48:00Z"
    # The real fixture: the deployment succeeded.
    await gitlab(
        client, db, settings, repository, ("Deployment Hook", fixture("gitlab", "deployment.json"))
    )
    (deployment,) = await deployments(client, people["ada"])
    assert stable(deployment) == {
        "environment": "staging",
        "source": "gitlab",
        "external_id": "job:796",
        "ref": "1.0.0",
        "sha": "279484c09fbe69ededfced8c1bb6e6d24616b468",
        "state": "success",
        "started_at": "2021-04-28T19:48:00Z",
        "finished_at": "2021-04-28T19:50:00Z",
        "succeeded_at": "2021-04-28T19:50:00Z",
        "triggered_by": "user1",
        "url": "http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796",
        "description": "Add new file",
        "repository_id": repository["id"],
    }
    assert [(d.state, d.action) for d in await inbox(db)] == [
        ("processed", "running"),
        ("processed", "success"),
    ]


async def test_a_gitlab_success_before_its_start_is_one_successful_deployment(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "gitlab", GITLAB_DEPLOYMENTS_REPO)
    success = ("Deployment Hook", fixture("gitlab", "deployment.json"))
    running = gitlab_deployment("running", "2021-04-28 21:48:00 +0200")
    await gitlab(client, db, settings, repository, success, running, success)
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "success"
    assert deployment["external_id"] == "job:796"
    assert await count_deployments(db) == 1


async def test_the_fixtures_pipeline_is_ignored_as_its_deployment_job_was_skipped(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "gitlab", GITLAB_PIPELINES_REPO)
    await gitlab(
        client, db, settings, repository, ("Pipeline Hook", fixture("gitlab", "pipeline.json"))
    )
    (delivery,) = await inbox(db)
    assert (delivery.state, delivery.action) == ("ignored", "success")
    assert delivery.reason == "no deployment job of this pipeline has run: `production` is skipped"
    assert await deployments(client, people["ada"]) == []


async def test_a_pipeline_job_and_its_deployment_hook_are_one_deployment(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "gitlab", GITLAB_PIPELINES_REPO)
    running = pipeline(status="running", started_at="2016-08-12 15:26:30 UTC")
    await gitlab(client, db, settings, repository, running)
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "in_progress"
    assert deployment["external_id"] == "job:380"
    assert deployment["environment"]["name"] == "production"
    assert deployment["sha"] == "bcbb5ec396a2c0f828686f14fac9b80b780504f2"
    assert deployment["url"] == "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/380"
    # GitLab's Deployment Hook about the same job (its `deployable_id`) finishes it.
    done = gitlab_deployment(
        "success",
        "2016-08-12 15:27:00 UTC",
        environment="production",
        deployable_id=380,
        deployment_id=7,
        project={"path_with_namespace": GITLAB_PIPELINES_REPO},
        commit_url="http://192.168.64.1:3005/gitlab-org/gitlab-test/-/commit/"
        "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
    )
    finished = pipeline(
        status="success",
        started_at="2016-08-12 15:26:30 UTC",
        finished_at="2016-08-12 15:27:00 UTC",
    )
    await gitlab(client, db, settings, repository, done, finished)
    (deployment,) = await deployments(client, people["ada"])
    assert deployment["state"] == "success"
    assert deployment["started_at"] == "2016-08-12T15:26:30Z"
    assert deployment["finished_at"] == "2016-08-12T15:27:00Z"
    assert await count_deployments(db) == 1


# Wrong shapes, refusals -------------------------------------------------------------------------


def _github_without_deployment() -> tuple[str, str, dict[str, Any] | bytes, str]:
    payload = fixture("github", "deployment_status.created.json")
    del payload["deployment"]
    return "github", "deployment_status", payload, "`deployment` must be an object"


def _github_bad_sha() -> tuple[str, str, dict[str, Any] | bytes, str]:
    payload = fixture("github", "deployment.created.json")
    payload["deployment"]["sha"] = "HEAD"
    return "github", "deployment", payload, "`deployment.sha` is not a commit SHA"


def _github_time_out_of_range() -> tuple[str, str, dict[str, Any] | bytes, str]:
    # A valid ISO 8601 time whose instant in UTC is past year 9999.
    payload = fixture("github", "deployment.created.json")
    payload["deployment"]["created_at"] = "9999-12-31T23:59:59-05:00"
    return "github", "deployment", payload, "`deployment.created_at` is not a timestamp"


def _gitlab_no_environment() -> tuple[str, str, dict[str, Any] | bytes, str]:
    payload = fixture("gitlab", "deployment.json")
    payload["environment"] = None
    return "gitlab", "Deployment Hook", payload, "`environment` must be a string"


def _gitlab_builds_not_a_list() -> tuple[str, str, dict[str, Any] | bytes, str]:
    payload = fixture("gitlab", "pipeline.json")
    payload["builds"] = {"id": 1}
    return "gitlab", "Pipeline Hook", payload, "`builds` must be an array"


def _gitlab_not_json() -> tuple[str, str, dict[str, Any] | bytes, str]:
    return "gitlab", "Deployment Hook", b"status=success", "the body is not JSON"


def _github_a_list() -> tuple[str, str, dict[str, Any] | bytes, str]:
    return "github", "deployment", json.dumps([1, 2]).encode(), "must be a JSON object"


WRONG = [
    _github_without_deployment,
    _github_bad_sha,
    _github_time_out_of_range,
    _gitlab_no_environment,
    _gitlab_builds_not_a_list,
    _gitlab_not_json,
    _github_a_list,
]


@pytest.mark.parametrize("wrong", WRONG, ids=[w.__name__.lstrip("_") for w in WRONG])
async def test_a_deployment_of_the_wrong_shape_fails_with_the_reason(
    wrong: Any, app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    provider, event, payload, reason = wrong()
    people = await team(app, db)
    full_name = GITHUB_REPO if provider == "github" else GITLAB_DEPLOYMENTS_REPO
    repository = await link_repository(client, people["ada"], provider, full_name)
    send = send_github if provider == "github" else send_gitlab
    response = await send(client, repository, event, payload)
    assert response.status_code == 202
    await process_inbox(db, settings)
    (delivery,) = await inbox(db)
    assert delivery.state == "failed"
    assert delivery.reason is not None
    assert reason in delivery.reason
    assert delivery.reason.startswith(f"wrong shape for `{event}`")
    assert await count_deployments(db) == 0
    async with db.transaction(write=False) as session:
        # Not retried: it would fail the same way.
        assert await session.scalar(select(func.count()).select_from(Job)) == 0
    listed = await client.get(
        f"/api/v1/repositories/{repository['id']}/deliveries",
        params={"state": "failed"},
        headers=people["ada"].headers,
    )
    assert listed.status_code == 200
    assert reason in listed.json()["data"][0]["reason"]


async def test_a_refused_deployment_fails_the_delivery_and_records_none_of_it(
    app: FastAPI,
    db: Database,
    client: AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rule of `record_deployment` refusing a report (a 4xx) would refuse it again: the
    delivery fails with the reason at once, and the pipeline's other deployments are not kept."""
    real = deployments_service.record_deployment
    calls: list[str] = []

    async def refuse_staging(*args: Any, **kwargs: Any) -> Deployment:
        report = args[2]
        calls.append(report.environment)
        if report.environment == "staging":
            raise ValidationFailed("Staging is closed.")
        return await real(*args, **kwargs)

    monkeypatch.setattr(integrations_service, "record_deployment", refuse_staging)
    people = await team(app, db)
    repository = await link_repository(client, people["ada"], "gitlab", GITLAB_PIPELINES_REPO)
    event, payload = pipeline(status="success", started_at="2016-08-12 15:26:30 UTC")
    payload["builds"][4].update(status="running", started_at="2016-08-12 15:26:00 UTC")
    payload["builds"][4]["environment"] = {"name": "staging"}
    await gitlab(client, db, settings, repository, (event, payload))
    assert calls == ["production", "staging"]
    (delivery,) = await inbox(db)
    assert delivery.state == "failed"
    assert delivery.reason == "deployment to `staging` refused: Staging is closed."
    assert await count_deployments(db) == 0
    # Once the rule allows it, a redelivery records both.
    monkeypatch.setattr(integrations_service, "record_deployment", real)
    again = await client.post(
        f"/api/v1/repositories/{repository['id']}/deliveries/{delivery.id}/redeliver",
        headers=people["ada"].headers,
    )
    assert again.status_code == 202
    await process_inbox(db, settings)
    found = await deployments(client, people["ada"])
    assert sorted((d["environment"]["name"], d["state"]) for d in found) == [
        ("production", "success"),
        ("staging", "in_progress"),
    ]
