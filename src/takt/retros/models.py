"""Retrospectives: the retro and its phase, cards (the team's and evidence from the data),
groups, votes, and the work items its action items became."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, VersionedMixin
from takt.core.time import utcnow

PHASES = ("collect", "group", "vote", "discuss", "closed")
TEMPLATES = ("start_stop_continue", "mad_sad_glad", "4ls", "went_well", "custom")


class Retro(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "retros"
    __table_args__ = (
        # A project's retros, newest first (the list; "the previous retro" of a new one).
        Index("ix_retros_project_created", "project_id", "created_at", "id"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    sprint_id: Mapped[str | None] = mapped_column(
        ForeignKey("sprints.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(32))
    # [{"id", "text"}], 1 to 8, in the order shown.
    prompts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    phase: Mapped[str] = mapped_column(String(16), default="collect")
    # Set at creation, never changed: a card written anonymously stays anonymous.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    hide_cards_during_collect: Mapped[bool] = mapped_column(Boolean, default=True)
    vote_budget: Mapped[int] = mapped_column(Integer, default=5)
    max_votes_per_group: Mapped[int] = mapped_column(Integer, default=3)
    facilitator_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # The project's retro before this one when it was created: its action items open this one.
    previous_retro_id: Mapped[str | None] = mapped_column(
        ForeignKey("retros.id", ondelete="SET NULL"), nullable=True
    )
    phase_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RetroGroup(IdMixin, TimestampMixin, VersionedMixin, Base):
    """Cards that say the same thing, under a title; votes go to groups."""

    __tablename__ = "retro_groups"
    __table_args__ = (Index("ix_retro_groups_retro", "retro_id", "position"),)

    retro_id: Mapped[str] = mapped_column(ForeignKey("retros.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    # Creation order: ties of the discussion order go to the older group.
    position: Mapped[int] = mapped_column(Integer)


class RetroCard(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A participant's card under one of the prompts, or an evidence card computed from the
    sprint's data (`kind = 'evidence'`, no author). The author is kept for `mine` and for the
    author's own edits; no answer or event shows it while the retro is anonymous."""

    __tablename__ = "retro_cards"
    __table_args__ = (
        Index("ix_retro_cards_retro", "retro_id", "created_at", "id"),
        Index("ix_retro_cards_group", "group_id"),
    )

    retro_id: Mapped[str] = mapped_column(ForeignKey("retros.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="card")
    prompt_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("retro_groups.id", ondelete="SET NULL"), nullable=True
    )
    # Evidence cards: what is measured, its value (null when it can't be computed) and where
    # the number comes from.
    metric: Mapped[str | None] = mapped_column(String(32), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)


class RetroVote(IdMixin, Base):
    """One vote of a participant on a group. Who voted is never shown; totals per group only
    once the vote phase is over."""

    __tablename__ = "retro_votes"
    __table_args__ = (
        # A participant's votes in a retro (the budget) and on one group (the per-group cap).
        Index("ix_retro_votes_voter", "retro_id", "voter_id", "group_id"),
        Index("ix_retro_votes_group", "group_id"),
    )

    retro_id: Mapped[str] = mapped_column(ForeignKey("retros.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(ForeignKey("retro_groups.id", ondelete="CASCADE"))
    voter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RetroAction(IdMixin, Base):
    """An action item of a retro: the work item it became, and the group it came from."""

    __tablename__ = "retro_actions"
    __table_args__ = (
        UniqueConstraint("item_id"),
        Index("ix_retro_actions_retro", "retro_id", "created_at", "id"),
    )

    retro_id: Mapped[str] = mapped_column(ForeignKey("retros.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    group_id: Mapped[str | None] = mapped_column(
        ForeignKey("retro_groups.id", ondelete="SET NULL"), nullable=True
    )
    created_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
