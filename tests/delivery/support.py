"""Helpers for delivery tests: link a repository through the API, send signed deliveries as
GitHub and GitLab do, run the inbox's jobs as the worker would, and load the shared fixtures."""

from __future__ import annotations

import copy
import json
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import select

from takt.config import Settings
from takt.core import jobs
from takt.core.db import Database
from takt.core.jobs import Attempted, JobBatch, JobContext
from takt.core.time import utcnow
from takt.integrations.jobs import JOB_KINDS, PROCESS
from takt.integrations.models import InboundDelivery
from takt.integrations.signatures import github_signature
from tests.support import Account

FIXTURES = Path(os.environ.get("TAKT_FIXTURES", Path(__file__).resolve().parents[1] / "fixtures"))
GITLAB_EVENTS = {
    "merge_request.json": "Merge Request Hook",
    "push.json": "Push Hook",
    "tag_push.json": "Tag Push Hook",
    "note_merge_request.json": "Note Hook",
    "pipeline.json": "Pipeline Hook",
    "job.json": "Job Hook",
    "deployment.json": "Deployment Hook",
}


def fixture(provider: str, name: str) -> dict[str, Any]:
    """A copy of a shared fixture (the files are read-only; change the copy)."""
    loaded: dict[str, Any] = json.loads((FIXTURES / provider / name).read_text())
    return copy.deepcopy(loaded)


def github_event_of(name: str) -> str:
    """`pull_request.opened.json` is sent as `X-GitHub-Event: pull_request`."""
    return name.split(".", 1)[0]


async def link_repository(
    client: AsyncClient,
    admin: Account,
    provider: str = "github",
    full_name: str = "Codertocat/Hello-World",
    key: str = "API",
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/projects/{key}/repositories",
        json={"provider": provider, "full_name": full_name},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def hook_path(repository: dict[str, Any]) -> str:
    return f"/api/v1/hooks/{repository['provider']}/{repository['id']}"


async def send_github(
    client: AsyncClient,
    repository: dict[str, Any],
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    secret: str | None = None,
) -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": github_signature(secret or repository["secret"], body),
    }
    return await client.post(hook_path(repository), content=body, headers=headers)


async def send_gitlab(
    client: AsyncClient,
    repository: dict[str, Any],
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    token: str | None = None,
) -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": event,
        "X-Gitlab-Event-UUID": delivery or str(uuid.uuid4()),
        "X-Gitlab-Token": token or repository["secret"],
    }
    return await client.post(hook_path(repository), content=body, headers=headers)


async def process_inbox(db: Database, settings: Settings, *, batched: bool = True) -> int:
    """Run the inbox's queued jobs as a worker would; how many ran. `batched` (what the worker
    does): claim a batch and load it in one transaction, parse each, settle them together with
    the jobs' outcomes in one transaction. Otherwise each job's `run` alone, oldest first. A
    failed job is retried an hour later (never again within this call)."""
    kind = next(k for k in JOB_KINDS if k.name == PROCESS)
    context = JobContext(database=db, settings=settings, worker_id="test-worker")
    ran = 0
    while True:
        async with db.transaction() as session:
            claimed = await jobs.claim(
                session,
                worker_id="test-worker",
                limit=50,
                lease=timedelta(seconds=60),
                kinds=[PROCESS],
            )
            prepared = (
                await kind.batch.load(session, context, claimed)
                if batched and kind.batch is not None
                else {}
            )
        if not claimed:
            return ran
        claimed.sort(key=lambda j: (j.created_at, j.id))
        ran += len(claimed)
        if batched and kind.batch is not None:
            batch = kind.batch
            attempted = [
                Attempted(
                    job, prepared.get(job.id), await batch.run(context, job, prepared.get(job.id))
                )
                for job in claimed
            ]
            try:
                await _settle(db, context, batch, attempted)
            except Exception:
                # As the worker does: what sank the batch sinks only its own job.
                for one in attempted:
                    await _settle(db, context, batch, [one])
            continue
        for job in claimed:
            try:
                await kind.run(context, job)
            except Exception as exc:
                async with db.transaction() as session:
                    await jobs.fail(
                        session,
                        job,
                        "test-worker",
                        error=str(exc),
                        retry_at=utcnow() + timedelta(hours=1),
                    )
            else:
                async with db.transaction() as session:
                    await jobs.complete(session, job.id, "test-worker")


async def _settle(
    db: Database,
    context: JobContext,
    batch: JobBatch[Any, Any],
    attempted: list[Attempted[Any, Any]],
) -> None:
    """The batch's outcomes and its jobs' in one transaction, as the worker writes them."""
    async with db.transaction() as session:
        verdicts = await batch.settle(session, context, attempted)
        for one in attempted:
            verdict = verdicts.get(one.job.id)
            if verdict is None:
                await jobs.complete(session, one.job.id, "test-worker")
            else:
                later = utcnow() + timedelta(hours=1) if verdict.retry_at else None
                await jobs.fail(
                    session, one.job, "test-worker", error=verdict.error, retry_at=later
                )


async def inbox(db: Database) -> list[InboundDelivery]:
    async with db.transaction(write=False) as session:
        return list(
            await session.scalars(select(InboundDelivery).order_by(InboundDelivery.received_at))
        )


def iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def github_pr(
    action: str,
    *,
    number: int = 2,
    title: str = "Update the README",
    branch: str = "changes",
    body: str | None = "",
    opened: Any,
    updated: Any = None,
    draft: bool = False,
    merged_at: Any = None,
    closed_at: Any = None,
    reviewers: tuple[str, ...] = ("octocat",),
    author: str = "Codertocat",
    sender: str | None = None,
    requested: str | None = None,
) -> dict[str, Any]:
    """A real `pull_request` payload with the fields a test cares about set."""
    payload = fixture("github", "pull_request.opened.json")
    payload["action"] = action
    pr = payload["pull_request"]
    pr.update(
        number=number,
        title=title,
        body=body,
        draft=draft,
        created_at=iso(opened),
        updated_at=iso(updated or opened),
        merged=merged_at is not None,
        merged_at=iso(merged_at) if merged_at else None,
        closed_at=iso(closed_at or merged_at) if (closed_at or merged_at) else None,
        state="closed" if (closed_at or merged_at) else "open",
        requested_reviewers=[
            {"login": r, "id": 1000 + i, "type": "User"} for i, r in enumerate(reviewers)
        ],
    )
    payload["number"] = number
    pr["user"] = {"login": author, "id": 21031067, "type": "User"}
    pr["head"]["ref"] = branch
    payload["sender"] = {"login": sender or author, "id": 1, "type": "User"}
    if requested is not None:
        payload["requested_reviewer"] = {"login": requested, "id": 2000, "type": "User"}
    return payload


def github_review(
    state: str,
    *,
    review_id: int,
    reviewer: str,
    at: Any,
    number: int = 2,
    opened: Any,
    title: str = "Update the README",
    action: str = "submitted",
) -> dict[str, Any]:
    """A real `pull_request_review` payload with the review and its pull request set."""
    payload = fixture("github", "pull_request_review.submitted.json")
    payload["action"] = action
    payload["review"].update(
        id=review_id, state=state, submitted_at=iso(at), user={"login": reviewer, "id": 7}
    )
    pr = payload["pull_request"]
    pr.update(number=number, title=title, created_at=iso(opened), updated_at=iso(at))
    pr["user"] = {"login": "Codertocat", "id": 21031067, "type": "User"}
    payload["sender"] = {"login": reviewer, "id": 7, "type": "User"}
    return payload
