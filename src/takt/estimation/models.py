"""Planning poker: a session over items, its participants, each item's rounds and their votes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, VersionedMixin

SESSION_STATES = ("open", "finished")
# pending: not reached yet; voting: the current item, its round open; revealed: the current
# item, its round's cards shown; estimated: finalized (the estimate written to the item).
ITEM_STATES = ("pending", "voting", "revealed", "estimated")


class EstimationSession(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A planning-poker session. Every write to it (a vote too) bumps its version, so its ETag
    changes whenever what it shows changes."""

    __tablename__ = "estimation_sessions"
    __table_args__ = (
        # The project's list: the newest first.
        Index("ix_estimation_sessions_project_created", "project_id", "created_at", "id"),
    )

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    facilitator_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # fibonacci, tshirt or custom; `cards` is the deck: [{"label": "5", "points": 5.0}, ...],
    # with {"label": "?", "points": null} for "not sure" when the session has it.
    scale: Mapped[str] = mapped_column(String(16))
    cards: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16), default="open")
    # The position of the item being estimated; null once the session is finished.
    current_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EstimationParticipant(Base):
    """Who may vote in a session (fixed when it is created)."""

    __tablename__ = "estimation_participants"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("estimation_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class EstimationItem(IdMixin, Base):
    """A work item of a session, in the order the session takes them."""

    __tablename__ = "estimation_items"
    __table_args__ = (
        UniqueConstraint("session_id", "item_id", name="uq_estimation_items_session_item"),
        UniqueConstraint("session_id", "position", name="uq_estimation_items_session_position"),
    )

    session_id: Mapped[str] = mapped_column(
        ForeignKey("estimation_sessions.id", ondelete="CASCADE")
    )
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # The number of the current round (0 until the item is reached).
    round: Mapped[int] = mapped_column(Integer, default=0)
    # The final estimate, as written to the item when it was finalized.
    estimate: Mapped[float | None] = mapped_column(Float, nullable=True)
    estimated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    estimated_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class EstimationRound(IdMixin, Base):
    """One round of votes on an item: open until revealed; a reset closes it and opens the
    next. Every round stays, with its votes."""

    __tablename__ = "estimation_rounds"
    __table_args__ = (UniqueConstraint("session_item_id", "number"),)

    session_item_id: Mapped[str] = mapped_column(
        ForeignKey("estimation_items.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What the calibration showed at the reveal (so the round's history shows what the team saw).
    calibration: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)


class EstimationVote(IdMixin, Base):
    """A participant's card in a round: one per participant per round (the unique constraint;
    voting again replaces the card)."""

    __tablename__ = "estimation_votes"
    __table_args__ = (UniqueConstraint("round_id", "voter_id"),)

    round_id: Mapped[str] = mapped_column(ForeignKey("estimation_rounds.id", ondelete="CASCADE"))
    voter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    card: Mapped[str] = mapped_column(String(8))
    points: Mapped[float | None] = mapped_column(Float, nullable=True)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime())
