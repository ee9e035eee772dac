"""Deployments: environments in promotion order, deployments to them, and what each shipped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, TimestampMixin, UTCDateTime, VersionedMixin

ENVIRONMENT_TYPES = ("development", "testing", "staging", "production")
DEPLOYMENT_STATES = ("pending", "in_progress", "success", "failure", "rolled_back")
# Where a deployment was learned from.
DEPLOYMENT_SOURCES = ("api", "github", "gitlab")


class Environment(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A place a project deploys to, named freely, typed, and ordered along the promotion path
    (`position` ascending: development first, production last)."""

    __tablename__ = "environments"
    __table_args__ = (
        UniqueConstraint("project_id", "name_key"),
        Index("ix_environments_project_position", "project_id", "position", "id"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    # Lower-cased name: `?environment=Production` and deliveries naming `production` match.
    name_key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(
        String(16), doc="development | testing | staging | production"
    )
    position: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class Deployment(IdMixin, TimestampMixin, VersionedMixin, Base):
    """One deployment of a commit (or version) to an environment."""

    __tablename__ = "deployments"
    __table_args__ = (
        # Idempotency of the CI call: (pipeline, environment, sequence number).
        UniqueConstraint(
            "project_id",
            "environment_id",
            "pipeline_id",
            "sequence",
            name="uq_deployments_pipeline",
        ),
        # A provider's deployment (GitHub deployment id, GitLab deployment id) is learned once.
        UniqueConstraint("project_id", "source", "external_id", name="uq_deployments_external"),
        # Lists, and "the previous successful deployment to this environment".
        Index("ix_deployments_env_started", "environment_id", "started_at", "id"),
        Index("ix_deployments_env_succeeded", "environment_id", "succeeded_at"),
        Index("ix_deployments_project_started", "project_id", "started_at", "id"),
        Index("ix_deployments_project_sha", "project_id", "sha"),
        # The few rolled back, which every DORA answer looks up (their commits don't count):
        # by index instead of a scan of the environment's deployments (bench.dora: 5.7 -> 0.6 ms).
        Index(
            "ix_deployments_env_rolled_back",
            "environment_id",
            postgresql_where=text("state = 'rolled_back'"),
            sqlite_where=text("state = 'rolled_back'"),
        ),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    repository_id: Mapped[str | None] = mapped_column(
        ForeignKey("repositories.id", ondelete="SET NULL"), nullable=True
    )
    source: Mapped[str] = mapped_column(String(16), default="api", doc="api | github | gitlab")
    # The provider's deployment id (GitHub, GitLab); null for API calls.
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The CI's pipeline or workflow-run id and the sequence number within it (the CI call's
    # idempotency key, with the environment); null for provider deployments.
    pipeline_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # 64 bits: GitLab's job ids (`$CI_JOB_ID`, a common sequence number) passed 2^31 long ago.
    sequence: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # What was deployed, as the team names it (`v1.4.2`); the API calls it `version` (the
    # column can't: `version` is the row's optimistic-concurrency counter).
    release_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When it reached `success` (kept when it is later rolled back): what DORA counts.
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Who or what triggered it: a Takt user, and/or a free label (a CI name, a provider login).
    triggered_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    triggered_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    is_hotfix: Mapped[bool] = mapped_column(Boolean, default=False)
    is_rollback: Mapped[bool] = mapped_column(Boolean, default=False)
    # The failed deployment this hotfix or rollback remediates (explicit, never guessed).
    fixes_deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Set when it needed remediation: an incident linked as its cause, a rollback of it, or a
    # hotfix fixing it (the earliest such moment); DORA's change failure rate counts these.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When service was restored after that failure (incident resolved, or the fixing deployment
    # succeeded); DORA's recovery time is restored_at - failed_at.
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When it became `rolled_back` (a rollback of it succeeded, or it was reported rolled
    # back): DORA's `as_of` stops counting its commits from then, not from `failed_at`.
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What it shipped, fixed when it succeeded: the previous successful deployment to the same
    # environment, and whether the commits between were known (false: the previous commit, or
    # this one, was never seen, so `shipped` lists only what could be established).
    previous_deployment_id: Mapped[str | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), nullable=True
    )
    shipped_complete: Mapped[bool] = mapped_column(Boolean, default=True)
    shipped_commit_count: Mapped[int] = mapped_column(Integer, default=0)


class DeploymentCommit(Base):
    """A commit a deployment shipped (first shipped to that environment by it)."""

    __tablename__ = "deployment_commits"
    __table_args__ = (
        Index("ix_deployment_commits_sha", "sha"),
        # Change lead time (takt.metrics): a deployment's commits and their times from the index
        # alone, instead of a scan of every commit ever shipped.
        Index("ix_deployment_commits_deployment_committed", "deployment_id", "committed_at"),
        # The stored lead times (repository.store_lead_times): an environment's commits by when
        # they went live (the figures per week or month), and in order of their lead time (a
        # period's median read by walking the index, not by sorting every value).
        Index(
            "ix_deployment_commits_env_deployed",
            "environment_id",
            "deployed_at",
            "deployment_id",
            "committed_at",
            "lead",
        ),
        Index(
            "ix_deployment_commits_env_lead",
            "environment_id",
            "lead",
            "deployed_at",
            "deployment_id",
        ),
    )

    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    sha: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The commit Takt saw in a push, when it did (null for commits only named by the call).
    commit_id: Mapped[str | None] = mapped_column(
        ForeignKey("commits.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Copied so change lead time (deployed - committed) is one aggregate over this table.
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Stored when the deployment succeeds (repository.store_lead_times), so the metrics read no
    # deployment per commit: its environment, when it went live (`succeeded_at`), and the
    # change lead time in seconds (deployed - committed, only when committed before).
    environment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    deployed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lead: Mapped[float | None] = mapped_column(Float, nullable=True)


class DeploymentItem(Base):
    """A work item a deployment shipped (through a shipped commit or its pull request)."""

    __tablename__ = "deployment_items"
    __table_args__ = (Index("ix_deployment_items_item", "item_id"),)

    deployment_id: Mapped[str] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
