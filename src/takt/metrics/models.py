"""Flow snapshots: each project's cumulative-flow bands at the end of each closed day and the
finishes of those days, written by the worker's `flow-snapshots` sweep so that a flow answer
over two years reads a row per day instead of the event log (metrics/snapshots.py).

They are a cache of what the event log says, never a source: an answer uses them only while
they still match what the live computation would give (the same time zone, the same items in
the trash, no event recorded since for a day already written), and falls back to the event
log otherwise; the next sweep rewrites them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, UTCDateTime


class FlowSnapshot(Base):
    """What a project's snapshot rows were written from (one row per project)."""

    __tablename__ = "flow_snapshots"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    # The first day with a row: the day before the project's first item event, so every
    # earlier day has the same bands and no finish.
    first_day: Mapped[dt.date] = mapped_column(Date)
    through_day: Mapped[dt.date] = mapped_column(Date, doc="The last (closed) day written.")
    through_seq: Mapped[int] = mapped_column(
        BigInteger, doc="The project's last event when written: a later one for a written day "
        "(an import, a clock moved back) makes the rows stale."
    )  # fmt: skip
    # The items in the trash when written (their count and latest move there): the live
    # computation leaves trashed items out of every day, so a change of the trash changes
    # the past.
    trashed: Mapped[int] = mapped_column(Integer)
    trashed_latest: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # What the rows hold (`snapshots.LAYOUT`): 1, the bands and finishes; 2, the category moves
    # too. Rows of another layout (say, written by a worker still running the older code after
    # an upgrade) are not used, and the next sweep writes them again.
    layout: Mapped[int] = mapped_column(Integer, server_default="1")


class FlowDay(Base):
    """A project's bands at the end of one local day (items in that category or a later one;
    cancelled apart) and how many items finished that day."""

    __tablename__ = "flow_days"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    backlog: Mapped[int] = mapped_column(Integer)
    todo: Mapped[int] = mapped_column(Integer)
    in_progress: Mapped[int] = mapped_column(Integer)
    in_review: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[int] = mapped_column(Integer)
    finished: Mapped[int] = mapped_column(Integer)


class FlowFinish(Base):
    """One entry of an item into `done` on a written day (the event's `seq`), with its cycle and
    lead time in seconds (cycle: none when the item hadn't started by then)."""

    __tablename__ = "flow_finishes"
    __table_args__ = (
        # The period's finishes in order (latest first for the scatter), their times read from
        # the index alone.
        Index(
            "ix_flow_finishes_project_finished",
            "project_id",
            "finished_at",
            "seq",
            "cycle",
            "lead",
        ),
        # The foreign key's: purging an item from the trash deletes its rows by index rather
        # than scanning every project's finishes.
        Index("ix_flow_finishes_item", "item_id"),
    )

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    finished_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    cycle: Mapped[float | None] = mapped_column(Float, nullable=True)
    lead: Mapped[float] = mapped_column(Float)


class FlowMove(Base):
    """One change of an item's category on a written day (the event's `seq`): the local day,
    the old category and the new one (none for a creation's old one, and none for a value that
    is no category, which moves no band either). A filtered flow answer (`q=`) joins these to
    the items matching its filter instead of reading the written days' events and their JSON
    again (metrics/snapshots.py; bench.dora, 90 days of bugs). Events that changed no category
    have no row: they move no band.

    `item_id` has no foreign key: a reader joins the live items, and purging an item changes
    the trash, which sets the project's rows aside until the next sweep writes them again (a
    cascade would scan this table for every purged item)."""

    __tablename__ = "flow_moves"
    __table_args__ = (
        # A period's moves by day with their item and categories, read from the index alone.
        Index("ix_flow_moves_project_day", "project_id", "day", "item_id", "old", "new"),
    )

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[dt.date] = mapped_column(Date)
    old: Mapped[str | None] = mapped_column(String(16), nullable=True)
    new: Mapped[str | None] = mapped_column(String(16), nullable=True)
