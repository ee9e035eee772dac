"""Repository, identity and pull-request rows to the API's response shapes: never a secret after
the answer that creates or rotates it."""

from __future__ import annotations

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.delivery.models import LinkedIdentity, Repository
from takt.delivery.schemas import (
    IdentityRead,
    PersonRead,
    PullRequestRead,
    RepositoryRead,
    RepositoryWithSecret,
    ReviewerRead,
    SizeRead,
)
from takt.delivery.service import ShownPullRequest, ShownReviewer


def repository_read(repository: Repository, project_key: str, webhook_url: str) -> RepositoryRead:
    return RepositoryRead(
        id=repository.id,
        project_key=project_key,
        provider=repository.provider,
        full_name=repository.full_name,
        default_branch=repository.default_branch,
        webhook_url=webhook_url,
        secret_rotated_at=repository.secret_rotated_at,
        created_at=repository.created_at,
        updated_at=repository.updated_at,
        version=repository.version,
    )


def repository_with_secret(
    repository: Repository, project_key: str, webhook_url: str, secret: str
) -> RepositoryWithSecret:
    """The answer of a link or a rotation: the only ones that carry the secret."""
    shown = repository_read(repository, project_key, webhook_url)
    return RepositoryWithSecret(**shown.model_dump(), secret=secret)


def identity_read(identity: LinkedIdentity) -> IdentityRead:
    return IdentityRead(
        provider=identity.provider,
        login=identity.login,
        created_at=identity.created_at,
    )


def _summary(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def _reviewer_read(reviewer: ShownReviewer) -> ReviewerRead:
    return ReviewerRead(
        login=reviewer.row.login,
        user=_summary(reviewer.user),
        requested=reviewer.row.requested,
        verdict=reviewer.verdict,
    )


def pull_request_read(shown: ShownPullRequest, project_key: str) -> PullRequestRead:
    pr, repository = shown.pull_request, shown.repository
    return PullRequestRead(
        id=pr.id,
        project_key=project_key,
        repository_id=repository.id,
        repository=repository.full_name,
        provider=repository.provider,
        number=pr.number,
        title=pr.title,
        url=pr.url,
        author=PersonRead(
            login=pr.author_login, user=_summary(shown.author), is_bot=pr.author_is_bot
        ),
        source_branch=pr.source_branch,
        target_branch=pr.target_branch,
        state=pr.state,
        opened_at=pr.opened_at,
        ready_at=pr.ready_at,
        first_review_at=pr.first_review_at,
        approved_at=pr.approved_at,
        merged_at=pr.merged_at,
        closed_at=pr.closed_at,
        waiting_since=pr.waiting_since,
        review_rounds=pr.review_rounds,
        size=SizeRead(
            additions=pr.additions,
            deletions=pr.deletions,
            changed_files=pr.changed_files,
            commits=pr.commit_count,
        ),
        reviewers=[_reviewer_read(r) for r in shown.reviewers],
        item_keys=list(shown.item_keys),
        updated_at=pr.updated_at,
    )
