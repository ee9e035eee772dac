"""What a deployment shipped: the commits since the previous successful deployment to its
environment (listed by the report, or worked out from the pushes Takt saw), their pull requests
and work items; and what a deployment's answer shows of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from takt.delivery import repository as delivery_repo
from takt.delivery.models import Commit, PullRequest
from takt.deployments import repository as repo
from takt.deployments.models import Deployment
from takt.items.models import Item
from takt.projects.models import Project
from takt.workflow import repository as workflow_repo
from takt.workflow.models import Status

# What one deployment may record as shipped (commits), and its events' item keys.
MAX_SHIPPED_COMMITS = 5000
MAX_EVENT_ITEMS = 100


def branch_of(ref: str | None) -> str | None:
    """The branch a ref names (`refs/heads/main` → `main`); None for tags and other refs."""
    if not ref:
        return None
    if ref.startswith("refs/heads/"):
        return ref.removeprefix("refs/heads/")
    if ref.startswith("refs/"):
        return None
    return ref


# What a deployment shipped ------------------------------------------------------------------------


@dataclass
class _Shipped:
    commits: dict[str, Commit | None] = field(default_factory=dict)
    pull_requests: list[PullRequest] = field(default_factory=list)
    complete: bool = True


async def record_shipped(
    session: AsyncSession,
    project: Project,
    deployment: Deployment,
    listed: Sequence[str] | None,
) -> list[str]:
    """Keep what the deployment ships up to date with its state and the report (`listed`: the
    commits the report lists): worked out on success (see `_shipped`), taken from the report
    whenever it lists them, dropped when it finished in `failure` (it never went live). The keys
    of its first items, for its event."""
    if deployment.state == "failure":
        if deployment.shipped_commit_count:
            await repo.replace_shipped(session, deployment.id, [], [])
            deployment.shipped_commit_count = 0
            await session.flush()
        return []
    if listed is None and (deployment.state != "success" or deployment.shipped_commit_count):
        # Nothing to work out yet, or already known (worked out, or listed by an earlier
        # report of this deployment, which stands).
        if deployment.state == "success" and deployment.previous_deployment_id is None:
            await _set_previous(session, deployment)
        if not deployment.shipped_commit_count:
            return []
        return await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)
    shipped = await _shipped(session, project, deployment, listed)
    heads = await delivery_repo.pull_requests_with_heads(
        session, project.id, list(shipped.commits), MAX_SHIPPED_COMMITS
    )
    pull_request_ids = {pr.id for pr in [*heads, *shipped.pull_requests]}
    commit_ids = [c.id for c in shipped.commits.values() if c is not None]
    item_ids = await delivery_repo.items_of_commits_and_pull_requests(
        session, commit_ids, sorted(pull_request_ids)
    )
    rows = [
        {
            "sha": sha,
            "commit_id": commit.id if commit is not None else None,
            "committed_at": commit.committed_at if commit is not None else None,
        }
        for sha, commit in shipped.commits.items()
    ]
    await repo.replace_shipped(session, deployment.id, rows, sorted(item_ids))
    deployment.shipped_commit_count = len(rows)
    deployment.shipped_complete = shipped.complete
    await session.flush()
    return await repo.shipped_item_keys(session, deployment.id, limit=MAX_EVENT_ITEMS)


async def _shipped(
    session: AsyncSession,
    project: Project,
    deployment: Deployment,
    listed: Sequence[str] | None,
) -> _Shipped:
    """What the deployment shipped:
    - the commits the report listed, when it did (complete);
    - otherwise, with the previous successful deployment to the environment and both commits
      known to Takt (from pushes): the commits first seen on the deployment's branch committed
      after the previous deployment's commit, up to and including this one, and the head
      commits of pull requests merged into the branch in that time (complete, unless more than
      `MAX_SHIPPED_COMMITS`);
    - otherwise what can be established, incomplete: its own commit only (with its time when
      Takt saw it), or nothing without a SHA.
    """
    result = _Shipped()
    previous = await _set_previous(session, deployment)
    if listed is not None:
        shas = list(dict.fromkeys(s.lower() for s in listed))[:MAX_SHIPPED_COMMITS]
        known = await delivery_repo.commits_named(
            session, project.id, shas, deployment.repository_id
        )
        by_sha = {c.sha: c for c in known}
        result.commits = {sha: by_sha.get(sha) for sha in shas}
        return result
    if not deployment.sha:
        result.complete = False
        return result
    this = await _known_commit(session, project, deployment.sha, deployment.repository_id)
    if this is not None and deployment.repository_id is None:
        deployment.repository_id = this.repository_id
    result.commits = {deployment.sha: this}
    prev_commit = None
    if previous is not None and previous.sha and this is not None:
        if previous.sha == deployment.sha:
            result.commits = {}  # the same commit again: nothing new
            return result
        prev_commit = await _known_commit(session, project, previous.sha, this.repository_id)
    if (
        this is None
        or prev_commit is None
        or this.committed_at is None
        or prev_commit.committed_at is None
    ):
        result.complete = False
        return result
    after, until = prev_commit.committed_at, this.committed_at
    if until <= after:
        # An older commit than the one the environment ran (a rollback): nothing new shipped.
        result.commits = {}
        return result
    branch = branch_of(deployment.ref) or this.branch
    on_branch = await delivery_repo.commits_on_branch(
        session, this.repository_id, branch, after, until, MAX_SHIPPED_COMMITS + 1
    )
    merged: list[PullRequest] = []
    if branch is not None:
        merged = await delivery_repo.pull_requests_merged_into(
            session, this.repository_id, branch, after, until, MAX_SHIPPED_COMMITS
        )
    heads = [pr.head_sha for pr in merged if pr.head_sha]
    head_commits = await delivery_repo.commits_named(session, project.id, heads, this.repository_id)
    found = {this.sha: this}
    for commit in [*on_branch, *head_commits]:
        found.setdefault(commit.sha, commit)
    if len(found) > MAX_SHIPPED_COMMITS:
        result.complete = False
        newest = sorted(
            found.values(), key=lambda c: (c.committed_at or until, c.sha), reverse=True
        )
        found = {c.sha: c for c in newest[:MAX_SHIPPED_COMMITS]}
    result.commits = dict(found)
    result.pull_requests = merged
    return result


async def _set_previous(session: AsyncSession, deployment: Deployment) -> Deployment | None:
    """The previous successful deployment to its environment, noted on the deployment."""
    previous = None
    if deployment.succeeded_at is not None:
        previous = await repo.previous_success(session, deployment, deployment.succeeded_at)
    deployment.previous_deployment_id = previous.id if previous is not None else None
    return previous


async def _known_commit(
    session: AsyncSession, project: Project, sha: str, repository_id: str | None
) -> Commit | None:
    """The commit Takt saw with this SHA (in the repository, when known; otherwise in the one
    repository of the project that has it)."""
    found = await delivery_repo.commits_named(session, project.id, [sha.lower()], repository_id)
    if len(found) == 1 or (found and repository_id is not None):
        return found[0]
    return None


@dataclass(frozen=True)
class ShippedView:
    commits: list[tuple[str, datetime | None, Commit | None]]
    pull_requests: list[PullRequest]
    items: list[tuple[Item, Status]]


MAX_SHOWN_COMMITS = 100
MAX_SHOWN_PULL_REQUESTS = 100
MAX_SHOWN_ITEMS = 500


async def shipped_view(session: AsyncSession, deployment: Deployment) -> ShippedView:
    """What a deployment's answer shows of what it shipped: its newest commits (with their
    message when Takt saw them), the pull requests whose head it shipped, its items."""
    rows = await repo.shipped_commits(session, deployment.id, limit=MAX_SHOWN_COMMITS)
    known = {
        c.sha: c
        for c in await delivery_repo.commits_named(
            session, deployment.project_id, [r.sha for r in rows if r.commit_id]
        )
    }
    all_shas = await repo.shipped_shas(session, deployment.id, limit=MAX_SHIPPED_COMMITS)
    prs = await delivery_repo.pull_requests_with_heads(
        session, deployment.project_id, all_shas, MAX_SHOWN_PULL_REQUESTS
    )
    items = await repo.shipped_items(session, deployment.id, limit=MAX_SHOWN_ITEMS)
    statuses = {s.id: s for s in await workflow_repo.statuses(session, deployment.project_id)}
    return ShippedView(
        commits=[(r.sha, r.committed_at, known.get(r.sha)) for r in rows],
        pull_requests=prs,
        items=[(item, statuses[item.status_id]) for item in items if item.status_id in statuses],
    )
