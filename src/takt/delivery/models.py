"""Delivery: the repositories a project links, the pull requests, reviews and commits learned
from their webhooks, their links to work items, and the provider logins people link to their
accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, VersionedMixin
from takt.core.time import utcnow

PROVIDERS = ("github", "gitlab")
PR_STATES = ("draft", "open", "approved", "changes_requested", "merged", "closed")
REVIEW_STATES = ("approved", "changes_requested", "commented", "dismissed")


class Repository(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A GitHub or GitLab repository linked to a project, with its webhook secret."""

    __tablename__ = "repositories"
    __table_args__ = (
        UniqueConstraint("project_id", "provider", "full_name_key"),
        Index("ix_repositories_project_created", "project_id", "created_at", "id"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16), doc="github | gitlab")
    full_name: Mapped[str] = mapped_column(String(255))
    # Lower-cased: names are matched case-insensitively, as both providers do.
    full_name_key: Mapped[str] = mapped_column(String(255))
    default_branch: Mapped[str] = mapped_column(String(255))
    # GitHub's secret is used again to compute each delivery's HMAC, so it is sealed
    # (core.crypto.SecretBox); GitLab's token is only compared, so only its SHA-256 is kept.
    secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class LinkedIdentity(Base):
    """A provider login a person says is theirs: pull requests and reviews by that login are
    theirs in Takt (their author, their reviews, their stand-up drafts)."""

    __tablename__ = "linked_identities"
    __table_args__ = (UniqueConstraint("provider", "login_key"),)

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    login: Mapped[str] = mapped_column(String(255))
    login_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PullRequest(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A pull request (GitHub) or merge request (GitLab) of a linked repository."""

    __tablename__ = "pull_requests"
    __table_args__ = (
        UniqueConstraint("repository_id", "number"),
        # Lists: a project's pull requests, latest opened first.
        Index("ix_pull_requests_project_opened", "project_id", "opened_at", "id"),
        # Review metrics over a period (merged, first reviewed) and the waiting filter.
        Index("ix_pull_requests_project_merged", "project_id", "merged_at"),
        Index("ix_pull_requests_project_first_review", "project_id", "first_review_at"),
        Index("ix_pull_requests_project_waiting", "project_id", "waiting_since"),
        Index("ix_pull_requests_author_user", "author_user_id", "project_id"),
        # A commit's pull requests by their head (readiness, what a deployment shipped).
        Index("ix_pull_requests_project_head", "project_id", "head_sha"),
    )

    repository_id: Mapped[str] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(String(1024), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    author_login: Mapped[str | None] = mapped_column(String(255), nullable=True)
    author_external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author_is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    author_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    source_branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    target_branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    head_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(24), default="open")
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Since when it has waited for a review (ready, or re-requested, and not reviewed since);
    # null when it is not waiting.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_rounds: Mapped[int] = mapped_column(Integer, default=0)
    # Whether an approving review stands (for "merged without review", fixed at the merge).
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    additions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deletions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changed_files: Mapped[int | None] = mapped_column(Integer, nullable=True)
    commit_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When each review was requested (ISO strings, the latest 100): review rounds count the
    # requests that follow a "changes requested".
    review_requests: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # The provider's `updated_at` of the newest payload applied: an older payload arriving
    # late doesn't undo a newer one.
    provider_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PullRequestReviewer(Base):
    """Someone asked to review a pull request, or who reviewed it."""

    __tablename__ = "pull_request_reviewers"
    __table_args__ = (Index("ix_pull_request_reviewers_login", "login_key"),)

    pull_request_id: Mapped[str] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), primary_key=True
    )
    login_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    login: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    requested: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)


class Review(IdMixin, Base):
    """A review of a pull request (GitLab: an approval, a withdrawn one, or a comment)."""

    __tablename__ = "pull_request_reviews"
    __table_args__ = (
        UniqueConstraint("pull_request_id", "external_id"),
        Index("ix_pull_request_reviews_pr_time", "pull_request_id", "submitted_at"),
    )

    pull_request_id: Mapped[str] = mapped_column(ForeignKey("pull_requests.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    reviewer_login: Mapped[str] = mapped_column(String(255))
    reviewer_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    state: Mapped[str] = mapped_column(String(24))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Commit(IdMixin, Base):
    """A commit learned from a push."""

    __tablename__ = "commits"
    __table_args__ = (
        UniqueConstraint("repository_id", "sha"),
        Index("ix_commits_project_time", "project_id", "committed_at"),
    )

    repository_id: Mapped[str] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    author_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    author_login: Mapped[str | None] = mapped_column(String(255), nullable=True)
    author_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    branch: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PullRequestItem(Base):
    """A pull request names a work item (its key in the branch, title or description)."""

    __tablename__ = "pull_request_items"
    __table_args__ = (Index("ix_pull_request_items_item", "item_id"),)

    pull_request_id: Mapped[str] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommitItem(Base):
    """A commit names a work item (its key in the message)."""

    __tablename__ = "commit_items"
    __table_args__ = (Index("ix_commit_items_item", "item_id"),)

    commit_id: Mapped[str] = mapped_column(
        ForeignKey("commits.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
