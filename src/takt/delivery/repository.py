"""Every query of delivery: repositories (with the finder of `/repositories/{id}`), linked
identities, pull requests with their reviewers, reviews and item links, commits, and the rows
review metrics and stand-up drafts read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.models import new_id
from takt.core.time import utcnow
from takt.delivery.models import (
    Commit,
    CommitItem,
    LinkedIdentity,
    PullRequest,
    PullRequestItem,
    PullRequestReviewer,
    Repository,
    Review,
)
from takt.items import pull_request_directory as pr_directory
from takt.items.models import Item
from takt.items.pull_request_directory import ItemIdColumn
from takt.items.repository import LIVE
from takt.projects.models import Project
from takt.projects.repository import ChildFinder

AnySelect = Select[*tuple[Any, ...]]


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# Repositories -------------------------------------------------------------------------------------

# The repository of a `/repositories/{repository_id}` path with its project: one statement.
REPOSITORY_BY_ID = ChildFinder[Repository](
    lambda: (
        select(Repository, Project)
        .join(Project, Project.id == Repository.project_id)
        .where(Repository.id == bindparam("repository_id"))
    ),
    param="repository_id",
)


def repositories_of(project_id: str) -> Select[Repository]:
    return select(Repository).where(Repository.project_id == project_id)


async def name_taken(
    session: AsyncSession,
    project_id: str,
    provider: str,
    full_name_key: str,
    *,
    other_than: str | None = None,
) -> bool:
    stmt = select(
        exists().where(
            Repository.project_id == project_id,
            Repository.provider == provider,
            Repository.full_name_key == full_name_key,
            Repository.id != (other_than or ""),
        )
    )
    return bool(await session.scalar(stmt))


async def repository_for_hook(
    session: AsyncSession, repository_id: str, provider: str
) -> tuple[Repository, Project] | None:
    """The repository an inbound delivery names, with its project (not deleted), if it is of
    that provider. No visibility rule: the caller is the provider, checked by signature."""
    row = (
        await session.execute(
            select(Repository, Project)
            .join(Project, Project.id == Repository.project_id)
            .where(
                Repository.id == repository_id,
                Repository.provider == provider,
                Project.deleted_at.is_(None),
            )
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


# Linked identities --------------------------------------------------------------------------------


async def identities_of(session: AsyncSession, user_id: str) -> list[LinkedIdentity]:
    return list(
        await session.scalars(
            select(LinkedIdentity)
            .where(LinkedIdentity.user_id == user_id)
            .order_by(LinkedIdentity.provider)
        )
    )


async def get_identity(session: AsyncSession, user_id: str, provider: str) -> LinkedIdentity | None:
    return await session.get(LinkedIdentity, (user_id, provider))


async def identity_owner(session: AsyncSession, provider: str, login_key: str) -> str | None:
    owner: str | None = await session.scalar(
        select(LinkedIdentity.user_id).where(
            LinkedIdentity.provider == provider, LinkedIdentity.login_key == login_key
        )
    )
    return owner


async def users_by_login(
    session: AsyncSession, provider: str, logins: Sequence[str]
) -> dict[str, str]:
    """login key → user id, for the logins someone linked (one statement)."""
    keys = sorted({login.lower() for login in logins})
    if not keys:
        return {}
    rows = await session.execute(
        select(LinkedIdentity.login_key, LinkedIdentity.user_id).where(
            LinkedIdentity.provider == provider, LinkedIdentity.login_key.in_(keys)
        )
    )
    return dict(rows.all())


async def relink_login(
    session: AsyncSession, provider: str, login_key: str, user_id: str | None
) -> None:
    """Pull requests, reviewers, reviews and commits by this login become `user_id`'s (None: no
    one's), when a person links or unlinks it."""
    repo_ids = select(Repository.id).where(Repository.provider == provider)
    await session.execute(
        update(PullRequest)
        .where(
            PullRequest.repository_id.in_(repo_ids),
            func.lower(PullRequest.author_login) == login_key,
        )
        .values(author_user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    pr_ids = select(PullRequest.id).where(PullRequest.repository_id.in_(repo_ids))
    await session.execute(
        update(PullRequestReviewer)
        .where(
            PullRequestReviewer.pull_request_id.in_(pr_ids),
            PullRequestReviewer.login_key == login_key,
        )
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Review)
        .where(Review.pull_request_id.in_(pr_ids), func.lower(Review.reviewer_login) == login_key)
        .values(reviewer_user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Commit)
        .where(Commit.repository_id.in_(repo_ids), func.lower(Commit.author_login) == login_key)
        .values(author_user_id=user_id)
        .execution_options(synchronize_session=False)
    )


# Pull requests: writes (ingest) -------------------------------------------------------------------


async def pull_request_for_update(
    session: AsyncSession, repository_id: str, number: int
) -> PullRequest | None:
    """The pull request, locked for this transaction (`FOR UPDATE` on PostgreSQL; SQLite's
    write transaction holds the database's one write lock), so two deliveries about it apply
    one after the other."""
    stmt = (
        select(PullRequest)
        .where(PullRequest.repository_id == repository_id, PullRequest.number == number)
        .execution_options(populate_existing=True)
    )
    if _is_postgres(session):
        stmt = stmt.with_for_update()
    found: PullRequest | None = await session.scalar(stmt)
    return found


async def insert_pull_request(
    session: AsyncSession, repository_id: str, project_id: str, number: int, opened_at: datetime
) -> bool:
    """Make the pull request's row unless it exists (a concurrent delivery made it); whether
    this call made it."""
    now = utcnow()
    made = await session.scalar(
        _insert(session)(PullRequest)
        .values(
            id=new_id(),
            repository_id=repository_id,
            project_id=project_id,
            number=number,
            title="",
            body="",
            state="open",
            draft=False,
            opened_at=opened_at,
            review_rounds=0,
            approved=False,
            author_is_bot=False,
            review_requests=[],
            created_at=now,
            updated_at=now,
            version=1,
        )
        .on_conflict_do_nothing(index_elements=["repository_id", "number"])
        .returning(PullRequest.id)
    )
    return made is not None


async def reviews_of(session: AsyncSession, pull_request_id: str) -> list[Review]:
    return list(
        await session.scalars(
            select(Review)
            .where(Review.pull_request_id == pull_request_id)
            .order_by(Review.submitted_at, Review.id)
            .execution_options(populate_existing=True)
        )
    )


async def reviewers_of(session: AsyncSession, pull_request_id: str) -> list[PullRequestReviewer]:
    return list(
        await session.scalars(
            select(PullRequestReviewer)
            .where(PullRequestReviewer.pull_request_id == pull_request_id)
            .execution_options(populate_existing=True)
        )
    )


async def link_pull_request(
    session: AsyncSession, pull_request_id: str, item_ids: Sequence[str], at: datetime
) -> None:
    if not item_ids:
        return
    await session.execute(
        _insert(session)(PullRequestItem)
        .values(
            [
                {"pull_request_id": pull_request_id, "item_id": item_id, "linked_at": at}
                for item_id in item_ids
            ]
        )
        .on_conflict_do_nothing()
    )


async def items_to_link(
    session: AsyncSession, project_id: str, pull_request_id: str, keys: Sequence[str]
) -> list[tuple[Item, bool]]:
    """(item, linked already) of the live items the pull request is linked to or whose key is
    among `keys` (items of the project), by key: one statement."""
    linked = select(PullRequestItem.item_id).where(
        PullRequestItem.pull_request_id == pull_request_id
    )
    named = and_(Item.project_id == project_id, Item.key.in_(list(keys))) if keys else false()
    rows = await session.execute(
        select(Item, Item.id.in_(linked))
        .where(or_(Item.id.in_(linked), named), LIVE)
        .order_by(Item.key)
    )
    return [(item, bool(already)) for item, already in rows.all()]


async def items_by_key(session: AsyncSession, project_id: str, keys: Sequence[str]) -> list[Item]:
    """The project's live items among `keys` (upper-case), by key."""
    if not keys:
        return []
    return list(
        await session.scalars(
            select(Item)
            .where(Item.project_id == project_id, LIVE, Item.key.in_(list(keys)))
            .order_by(Item.key)
        )
    )


# Commits ------------------------------------------------------------------------------------------


async def known_shas(session: AsyncSession, repository_id: str, shas: Sequence[str]) -> set[str]:
    if not shas:
        return set()
    return set(
        await session.scalars(
            select(Commit.sha).where(Commit.repository_id == repository_id, Commit.sha.in_(shas))
        )
    )


async def insert_commits(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Insert commits not yet known (a concurrent push of the same commit inserts it once);
    sha → id of the ones this call inserted."""
    if not rows:
        return {}
    inserted = await session.execute(
        _insert(session)(Commit)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["repository_id", "sha"])
        .returning(Commit.sha, Commit.id)
    )
    return dict(inserted.all())


async def link_commits(session: AsyncSession, links: list[dict[str, Any]]) -> None:
    if links:
        await session.execute(_insert(session)(CommitItem).values(links).on_conflict_do_nothing())


# Pull requests: reads -----------------------------------------------------------------------------


def pull_requests_of(
    project_id: str,
    *,
    state: str | None = None,
    author: str | None = None,
    reviewer: str | None = None,
    item_id: str | None = None,
    waiting_before: datetime | None = None,
    repository_id: str | None = None,
) -> Select[PullRequest]:
    """The project's pull requests narrowed by the filters given (a statement to page).
    `author` and `reviewer` match a provider login or a Takt username (ignoring case)."""
    stmt = select(PullRequest).where(PullRequest.project_id == project_id)
    if state is not None:
        stmt = stmt.where(PullRequest.state == state)
    if repository_id is not None:
        stmt = stmt.where(PullRequest.repository_id == repository_id)
    if author is not None:
        key = author.lower()
        by_user = select(User.id).where(or_(User.username_key == key, User.id == author))
        stmt = stmt.where(
            or_(
                func.lower(PullRequest.author_login) == key, PullRequest.author_user_id.in_(by_user)
            )
        )
    if reviewer is not None:
        key = reviewer.lower()
        by_user = select(User.id).where(or_(User.username_key == key, User.id == reviewer))
        stmt = stmt.where(
            exists().where(
                PullRequestReviewer.pull_request_id == PullRequest.id,
                or_(
                    PullRequestReviewer.login_key == key,
                    PullRequestReviewer.user_id.in_(by_user),
                ),
            )
        )
    if item_id is not None:
        stmt = stmt.where(
            exists().where(
                PullRequestItem.pull_request_id == PullRequest.id,
                PullRequestItem.item_id == item_id,
            )
        )
    if waiting_before is not None:
        stmt = stmt.where(
            PullRequest.waiting_since.is_not(None), PullRequest.waiting_since < waiting_before
        )
    return stmt


def pull_request_states_of(item_id: ItemIdColumn) -> Any:
    """The states of the pull requests that name the item `item_id` (a column of the enclosing
    statement), joined by `takt.items.pull_request_directory.SEPARATOR`; NULL when none does. A
    scalar subquery items nests in its item reads (one index probe of `pull_request_items` per
    item, no statement of its own)."""
    return (
        select(func.aggregate_strings(PullRequest.state, pr_directory.SEPARATOR))
        .select_from(PullRequestItem)
        .join(PullRequest, PullRequest.id == PullRequestItem.pull_request_id)
        .where(PullRequestItem.item_id == item_id)
        .correlate_except(PullRequestItem, PullRequest)
        .scalar_subquery()
    )


def pull_requests_of_item(item_id: str) -> Select[PullRequest]:
    return select(PullRequest).where(
        PullRequest.id.in_(
            select(PullRequestItem.pull_request_id).where(PullRequestItem.item_id == item_id)
        )
    )


async def details_of(
    session: AsyncSession, pull_requests: Sequence[PullRequest]
) -> tuple[
    dict[str, Repository],
    dict[str, User],
    dict[str, list[PullRequestReviewer]],
    dict[str, dict[str, str]],
    dict[str, list[str]],
]:
    """What a page of pull requests shows besides their rows, read for the whole page: their
    repositories, the users named, reviewers, each reviewer's latest verdict, item keys. Four
    statements, whatever the page's size."""
    if not pull_requests:
        return {}, {}, {}, {}, {}
    ids = [pr.id for pr in pull_requests]
    repo_ids = sorted({pr.repository_id for pr in pull_requests})
    repositories = {
        r.id: r
        for r in await session.scalars(select(Repository).where(Repository.id.in_(repo_ids)))
    }
    reviewers: dict[str, list[PullRequestReviewer]] = {pr_id: [] for pr_id in ids}
    for reviewer in await session.scalars(
        select(PullRequestReviewer)
        .where(PullRequestReviewer.pull_request_id.in_(ids))
        .order_by(PullRequestReviewer.pull_request_id, PullRequestReviewer.login_key)
    ):
        reviewers[reviewer.pull_request_id].append(reviewer)
    verdicts: dict[str, dict[str, str]] = {pr_id: {} for pr_id in ids}
    for pr_id, login, state in (
        await session.execute(
            select(Review.pull_request_id, Review.reviewer_login, Review.state)
            .where(Review.pull_request_id.in_(ids))
            .order_by(Review.submitted_at, Review.id)
        )
    ).all():
        verdicts[pr_id][login.lower()] = state  # the latest wins
    keys: dict[str, list[str]] = {pr_id: [] for pr_id in ids}
    for pr_id, key in (
        await session.execute(
            select(PullRequestItem.pull_request_id, Item.key)
            .join(Item, Item.id == PullRequestItem.item_id)
            .where(PullRequestItem.pull_request_id.in_(ids), LIVE)
            .order_by(Item.key)
        )
    ).all():
        keys[pr_id].append(key)
    user_ids = {pr.author_user_id for pr in pull_requests if pr.author_user_id}
    user_ids |= {r.user_id for rows in reviewers.values() for r in rows if r.user_id}
    users = {}
    if user_ids:
        users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))}
    return repositories, users, reviewers, verdicts, keys


# Review metrics -----------------------------------------------------------------------------------


def _hours_between(session: AsyncSession, start: Any, end: Any) -> Any:
    """`end - start` in hours, computed by the database (a float, no timestamps to decode)."""
    if _is_postgres(session):
        return cast(func.extract("epoch", end - start) / 3600.0, Float)
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _review_columns(session: AsyncSession, start: datetime, end: datetime) -> tuple[Any, ...]:
    """(ready to first review in hours, ready to merge in hours): each null unless its moment
    falls in [start, end) (and a first review before ready counts as none)."""
    ready = func.coalesce(PullRequest.ready_at, PullRequest.opened_at)
    reviewed = and_(PullRequest.first_review_at >= start, PullRequest.first_review_at < end)
    merged = and_(PullRequest.merged_at >= start, PullRequest.merged_at < end)
    to_review = _hours_between(session, ready, PullRequest.first_review_at)
    to_merge = _hours_between(session, ready, PullRequest.merged_at)
    return (
        case((and_(reviewed, to_review >= 0), to_review)),
        case((merged, case((to_merge < 0, 0.0), else_=to_merge))),
        or_(reviewed, merged),
    )


async def review_metric_rows(
    session: AsyncSession, project_id: str, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(repository id, hours from ready to first review, hours from ready to merge (negative
    counts 0), approved, rounds, additions, deletions) of the project's pull requests first
    reviewed or merged in [start, end); each duration null unless its moment is in the period.
    One indexed statement of numbers (the database does the date arithmetic)."""
    to_review, to_merge, in_period = _review_columns(session, start, end)
    rows = await session.execute(
        select(
            PullRequest.repository_id,
            to_review,
            to_merge,
            PullRequest.approved,
            PullRequest.review_rounds,
            PullRequest.additions,
            PullRequest.deletions,
        ).where(PullRequest.project_id == project_id, in_period)
    )
    return [tuple(row) for row in rows]


# Lines changed at most in each size of `review_metric_aggregates` (the last is open-ended).
SIZE_LIMITS = (("xs", 10), ("s", 100), ("m", 400), ("l", 1000))


async def review_metric_aggregates(
    session: AsyncSession, project_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """PostgreSQL only: what `review_metric_rows` gives, already reduced by the database per
    repository and overall (`overall` set), with nearest-rank percentiles (`percentile_disc`:
    the first value whose rank reaches the fraction), so a period of 20,000 pull requests
    sends back a few rows instead of 20,000. Each row's durations and size are worked out once,
    in a subquery; the aggregates only count and sort them."""
    to_review, to_merge, in_period = _review_columns(session, start, end)
    lines = func.coalesce(PullRequest.additions, 0) + func.coalesce(PullRequest.deletions, 0)
    size = case(
        (and_(PullRequest.additions.is_(None), PullRequest.deletions.is_(None)), "unknown"),
        *((lines <= limit, name) for name, limit in SIZE_LIMITS),
        else_="xl",
    )
    rows = (
        select(
            # Grouped by bytes, not by the locale's collation: ids need no linguistic order.
            PullRequest.repository_id.collate("C").label("repository_id"),
            to_review.label("to_review"),
            to_merge.label("to_merge"),
            PullRequest.approved.label("approved"),
            PullRequest.review_rounds.label("rounds"),
            size.label("size"),
        )
        .where(PullRequest.project_id == project_id, in_period)
        .subquery()
    )
    merged = rows.c.to_merge.is_not(None)
    stmt = select(
        rows.c.repository_id,
        func.grouping(rows.c.repository_id).label("overall"),
        func.count(rows.c.to_review).label("reviewed"),
        func.percentile_disc(0.5).within_group(rows.c.to_review).label("review_p50"),
        func.percentile_disc(0.85).within_group(rows.c.to_review).label("review_p85"),
        func.count(rows.c.to_merge).label("merged"),
        func.percentile_disc(0.5).within_group(rows.c.to_merge).label("merge_p50"),
        func.percentile_disc(0.85).within_group(rows.c.to_merge).label("merge_p85"),
        func.coalesce(func.sum(case((merged, rows.c.rounds))), 0).label("rounds_total"),
        func.max(case((merged, rows.c.rounds))).label("rounds_max"),
        func.count(case((and_(merged, rows.c.approved.is_(False)), 1))).label("without_approval"),
        *(
            func.count(case((and_(merged, rows.c.size == name), 1))).label(name)
            for name in (*(name for name, _ in SIZE_LIMITS), "xl", "unknown")
        ),
    ).group_by(func.grouping_sets(tuple_(rows.c.repository_id), tuple_()))
    return [dict(row._mapping) for row in await session.execute(stmt)]


async def repositories_named(session: AsyncSession, project_id: str) -> list[tuple[str, str, str]]:
    """(id, provider, full name) of the project's repositories, by name."""
    rows = await session.execute(
        select(Repository.id, Repository.provider, Repository.full_name)
        .where(Repository.project_id == project_id)
        .order_by(Repository.full_name_key, Repository.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


# Stand-up drafts ----------------------------------------------------------------------------------


async def waiting_authored_by(
    session: AsyncSession, project_id: str, user_id: str, waiting_before: datetime, limit: int
) -> list[tuple[PullRequest, str | None]]:
    """The member's pull requests waiting for a review since before `waiting_before`, oldest
    wait first, each with the key of its first linked item (if any)."""
    first_key = (
        select(func.min(Item.key))
        .join(PullRequestItem, PullRequestItem.item_id == Item.id)
        .where(PullRequestItem.pull_request_id == PullRequest.id, LIVE)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(PullRequest, first_key)
        .where(
            PullRequest.project_id == project_id,
            PullRequest.author_user_id == user_id,
            PullRequest.waiting_since.is_not(None),
            PullRequest.waiting_since < waiting_before,
        )
        .order_by(PullRequest.waiting_since, PullRequest.id)
        .limit(limit)
    )
    return [(pr, key) for pr, key in rows.all()]


# What deployments read (what a deployment shipped) ------------------------------------------------


async def repository_in_project(
    session: AsyncSession, project_id: str, repository_id: str
) -> Repository | None:
    found: Repository | None = await session.scalar(
        select(Repository).where(
            Repository.project_id == project_id, Repository.id == repository_id
        )
    )
    return found


async def commits_named(
    session: AsyncSession, project_id: str, shas: Sequence[str], repository_id: str | None = None
) -> list[Commit]:
    """The project's known commits among `shas` (of one repository, when named)."""
    if not shas:
        return []
    stmt = select(Commit).where(Commit.project_id == project_id, Commit.sha.in_(list(set(shas))))
    if repository_id is not None:
        stmt = stmt.where(Commit.repository_id == repository_id)
    return list(await session.scalars(stmt.order_by(Commit.committed_at, Commit.id)))


async def commits_on_branch(
    session: AsyncSession,
    repository_id: str,
    branch: str | None,
    after: datetime,
    until: datetime,
    limit: int,
) -> list[Commit]:
    """The repository's commits first seen on `branch` (any branch: None) committed in
    (after, until], newest first, at most `limit`."""
    stmt = select(Commit).where(
        Commit.repository_id == repository_id,
        Commit.committed_at > after,
        Commit.committed_at <= until,
    )
    if branch is not None:
        stmt = stmt.where(Commit.branch == branch)
    stmt = stmt.order_by(Commit.committed_at.desc(), Commit.id.desc()).limit(limit)
    return list(await session.scalars(stmt))


async def pull_requests_merged_into(
    session: AsyncSession,
    repository_id: str,
    branch: str,
    after: datetime,
    until: datetime,
    limit: int,
) -> list[PullRequest]:
    """The repository's pull requests merged into `branch` in (after, until]."""
    return list(
        await session.scalars(
            select(PullRequest)
            .where(
                PullRequest.repository_id == repository_id,
                PullRequest.target_branch == branch,
                PullRequest.merged_at > after,
                PullRequest.merged_at <= until,
            )
            .order_by(PullRequest.merged_at.desc(), PullRequest.id)
            .limit(limit)
        )
    )


async def pull_requests_with_heads(
    session: AsyncSession, project_id: str, shas: Sequence[str], limit: int
) -> list[PullRequest]:
    """The project's pull requests whose head commit is among `shas`, latest opened first."""
    if not shas:
        return []
    return list(
        await session.scalars(
            select(PullRequest)
            .where(PullRequest.project_id == project_id, PullRequest.head_sha.in_(list(shas)))
            .order_by(PullRequest.opened_at.desc(), PullRequest.id.desc())
            .limit(limit)
        )
    )


async def items_of_commits_and_pull_requests(
    session: AsyncSession, commit_ids: Sequence[str], pull_request_ids: Sequence[str]
) -> set[str]:
    """The ids of the live items these commits or pull requests are linked to."""
    found: set[str] = set()
    if commit_ids:
        found |= set(
            await session.scalars(
                select(CommitItem.item_id)
                .join(Item, Item.id == CommitItem.item_id)
                .where(CommitItem.commit_id.in_(list(commit_ids)), LIVE)
            )
        )
    if pull_request_ids:
        found |= set(
            await session.scalars(
                select(PullRequestItem.item_id)
                .join(Item, Item.id == PullRequestItem.item_id)
                .where(PullRequestItem.pull_request_id.in_(list(pull_request_ids)), LIVE)
            )
        )
    return found
