"""What a provider's webhook says happened, in one shape for GitHub and GitLab: the parsers of
`takt.integrations` build these, `takt.delivery.ingest` records them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ProviderState = Literal["open", "closed", "merged"]
ReviewState = Literal["approved", "changes_requested", "commented", "dismissed"]
# What a delivery about a pull request says happened to it.
PullRequestAction = Literal[
    "opened",
    "edited",
    "synchronize",
    "ready_for_review",
    "converted_to_draft",
    "closed",
    "reopened",
    "review_requested",
    "review_request_removed",
    "review",
    "other",
]


@dataclass(frozen=True)
class Person:
    """A provider account: its login (GitLab: username), its id there, whether it is a bot."""

    login: str
    external_id: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class PullRequestFacts:
    """A pull request as one payload shows it. None: the payload doesn't say."""

    number: int
    title: str
    state: ProviderState
    draft: bool
    created_at: datetime
    external_id: str | None = None
    body: str = ""
    url: str | None = None
    author: Person | None = None
    source_branch: str | None = None
    target_branch: str | None = None
    head_sha: str | None = None
    updated_at: datetime | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    commits: int | None = None
    requested_reviewers: tuple[Person, ...] | None = None


@dataclass(frozen=True)
class ReviewFacts:
    external_id: str
    reviewer: Person
    state: ReviewState
    submitted_at: datetime


@dataclass(frozen=True)
class PullRequestChange:
    """One delivery about a pull request: what it shows of the pull request, what happened, when
    and by whom; a review submitted (or dismissed), or the reviewers requested (or no longer)."""

    pull_request: PullRequestFacts
    action: PullRequestAction
    at: datetime
    actor: Person | None = None
    review: ReviewFacts | None = None
    requested: tuple[Person, ...] = ()


@dataclass(frozen=True)
class CommitFacts:
    sha: str
    message: str
    author_name: str | None
    author_login: str | None
    committed_at: datetime | None


@dataclass(frozen=True)
class PushFacts:
    """A push: the branch (None for a tag), whether it was forced or deleted the branch, and the
    commits it brought (as many as the payload lists)."""

    ref: str
    branch: str | None
    pushed_at: datetime
    pusher: Person | None = None
    forced: bool = False
    deleted: bool = False
    commits: tuple[CommitFacts, ...] = field(default_factory=tuple)
