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


@dataclass(frozen=True)
class _Ends:
    """This deployment's commit as Takt saw it, and, when both ends are known and this one is
    newer, the range since the previous successful deployment's commit."""

    this: Commit | None
    # (after, until]: the previous deployment's commit time, this one's.
    window: tuple[datetime, datetime] | None = None
    # The previous deployment ran this commit or a newer one: nothing new shipped.
    nothing_new: bool = False


async def _ends(
    session: AsyncSession, project: Project, deployment: Deployment, previous: Deployment | None
) -> _Ends:
    if not deployment.sha:
        return _Ends(this=None)
    this = await _known_commit(session, project, deployment.sha, deployment.repository_id)
    if this is None or previous is None or not previous.sha:
        return _Ends(this=this)
    if previous.sha == deployment.sha:
        return _Ends(this=this, nothing_new=True)
    before = await _known_commit(session, project, previous.sha, this.repository_id)
    if before is None or before.committed_at is None or this.committed_at is None:
        return _Ends(this=this)
    if this.committed_at <= before.committed_at:
        # An older commit than the one the environment ran (a rollback).
        return _Ends(this=this, nothing_new=True)
    return _Ends(this=this, window=(before.committed_at, this.committed_at))


async def _merged_between(
    session: AsyncSession, deployment: Deployment, ends: _Ends
) -> list[PullRequest]:
    """The pull requests merged into the deployment's branch between the two deployed
    commits."""
    if ends.this is None or ends.window is None:
        return []
    branch = branch_of(deployment.ref) or ends.this.branch
    if branch is None:
        return []
    after, until = ends.window
    return await delivery_repo.pull_requests_merged_into(
        session, ends.this.repository_id, branch, after, until, MAX_SHIPPED_COMMITS
    )


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
    The pull requests merged into the branch between the two deployed commits count in each
    case (their items with them).
    """
    result = _Shipped()
    previous = await _set_previous(session, deployment)
    ends = await _ends(session, project, deployment, previous)
    if ends.this is not None and deployment.repository_id is None:
        deployment.repository_id = ends.this.repository_id
    merged = await _merged_between(session, deployment, ends)
    result.pull_requests = merged
    if listed is not None:
        shas = list(dict.fromkeys(s.lower() for s in listed))[:MAX_SHIPPED_COMMITS]
        known = await delivery_repo.commits_named(
            session, project.id, shas, deployment.repository_id
        )
        by_sha = {c.sha: c for c in known}
        result.commits = {sha: by_sha.get(sha) for sha in shas}
        return result
    if ends.nothing_new:
        return result
    if not deployment.sha:
        result.complete = False
        return result
    this = ends.this
    if this is None or ends.window is None:
        result.commits = {deployment.sha: this}
        result.complete = False
        return result
    after, until = ends.window
    on_branch = await delivery_repo.commits_on_branch(
        session,
        this.repository_id,
        branch_of(deployment.ref) or this.branch,
        after,
        until,
        MAX_SHIPPED_COMMITS + 1,
    )
    heads = [pr.head_sha.lower() for pr in merged if pr.head_sha]
    head_commits = {
        c.sha: c
        for c in await delivery_repo.commits_named(session, project.id, heads, this.repository_id)
    }
    found: dict[str, Commit | None] = {this.sha: this}
    for commit in on_branch:
        found.setdefault(commit.sha, commit)
    # A merged pull request's head commit shipped, whether or not a push showed it to Takt
    # (never one committed after the deployed commit: the data would be wrong).
    for head in heads:
        seen = head_commits.get(head)
        if seen is None or seen.committed_at is None or seen.committed_at <= until:
            found.setdefault(head, seen)
    if len(found) > MAX_SHIPPED_COMMITS:
        result.complete = False
        newest = sorted(
            found.items(),
            key=lambda pair: (pair[1].committed_at if pair[1] else None) or until,
            reverse=True,
        )
        found = dict(newest[:MAX_SHIPPED_COMMITS])
    result.commits = found
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


async def shipped_pull_requests(
    session: AsyncSession, project: Project, deployment: Deployment
) -> list[PullRequest]:
    """The pull requests a successful deployment shipped: those whose head commit it shipped,
    and those merged into its branch between the previous deployment's commit and its own."""
    if deployment.succeeded_at is None:
        return []
    shas = await repo.shipped_shas(session, deployment.id, limit=MAX_SHIPPED_COMMITS)
    found = {
        pr.id: pr
        for pr in await delivery_repo.pull_requests_with_heads(
            session, project.id, shas, MAX_SHOWN_PULL_REQUESTS
        )
    }
    previous = None
    if deployment.previous_deployment_id is not None:
        previous = await repo.deployment_in_project(
            session, project.id, deployment.previous_deployment_id
        )
    ends = await _ends(session, project, deployment, previous)
    for pr in await _merged_between(session, deployment, ends):
        found.setdefault(pr.id, pr)
    return sorted(found.values(), key=lambda pr: pr.merged_at or pr.opened_at, reverse=True)[
        :MAX_SHOWN_PULL_REQUESTS
    ]


async def shipped_view(
    session: AsyncSession, project: Project, deployment: Deployment
) -> ShippedView:
    """What a deployment's answer shows of what it shipped: its newest commits (with their
    message when Takt saw them), its pull requests, its items."""
    rows = await repo.shipped_commits(session, deployment.id, limit=MAX_SHOWN_COMMITS)
    known = {
        c.sha: c
        for c in await delivery_repo.commits_named(
            session, deployment.project_id, [r.sha for r in rows if r.commit_id]
        )
    }
    items = await repo.shipped_items(session, deployment.id, limit=MAX_SHOWN_ITEMS)
    statuses = {s.id: s for s in await workflow_repo.statuses(session, deployment.project_id)}
    return ShippedView(
        commits=[(r.sha, r.committed_at, known.get(r.sha)) for r in rows],
        pull_requests=await shipped_pull_requests(session, project, deployment),
        items=[(item, statuses[item.status_id]) for item in items if item.status_id in statuses],
    )
