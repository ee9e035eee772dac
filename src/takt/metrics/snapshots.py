"""Flow snapshots (metrics/models.py): written by the worker's `flow-snapshots` sweep for each
project's closed days, read by the flow answer when its question is about all the items (no
`q`), so two years cost 730 rows plus the events since the last written day. With `q`, the
written days' bands are the whole project's and can't be used: their category moves (a row per
move, with its item: `FlowMove`) and finishes are read instead, joined to the items matching it
(`written_moves`, `finish_parts`).

Both ways give the same numbers, by the same arithmetic: the bands at the end of a day are the
bands now less the moves of every later day (the live computation, which the sweep runs for
the days it writes the first time), so a written day's bands plus the moves of the days after
it are the bands of those days. The rows are used only while that still holds: the same time
zone, the same items in the trash (the live computation leaves them out of every day), and no
item event recorded since for a day already written (an import, a clock set back). A changed
category of a status changes nothing written: its items' moves are recorded on the day of the
change (items/subscriptions.py). When the rows don't hold, the answer is computed live and the
next sweep writes them again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, insert, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.core.statistics import refresh_after_bulk_write, rows_inserted
from takt.core.time import end_of_day, local_date, utcnow
from takt.items.models import Item
from takt.metrics import repository as repo
from takt.metrics.models import FlowDay, FlowFinish, FlowMove, FlowSnapshot
from takt.metrics.periods import LocalDays, Period, as_date, start_of_day, zone_of
from takt.projects.models import Project

log = logging.getLogger("takt.metrics")

BANDS = (*repo.FLOW_ORDER, "cancelled")
# What this code writes and reads (`FlowSnapshot.layout`): the bands, finishes and category moves.
LAYOUT = 2
ITEM_EVENTS = repo.ITEM_EVENTS
Levels = dict[str, int]
# A day of the cumulative flow as plain data, in `schemas.CumulativeFlowDay`'s shape and field
# order ({"date", *BANDS}): two years are 730 of them, and building each as a model was about
# a fifth of a two-year flow answer's CPU (bench/RESULTS.md, session 12).
FlowDayPoint = dict[str, Any]


def _point(day: date, level: Levels) -> FlowDayPoint:
    return {"date": day, **{band: level[band] for band in BANDS}}


def levels_now(now_by_category: dict[str, int]) -> Levels:
    """The bands now, from the items per category now."""
    level = {
        band: sum(
            count for category, count in now_by_category.items() if category in repo.FLOW_ORDER[n:]
        )
        for n, band in enumerate(repo.FLOW_ORDER)
    }
    level["cancelled"] = now_by_category.get("cancelled", 0)
    return level


def cumulative_flow(
    span: Period, now_by_category: dict[str, int], by_day: list[dict[str, Any]]
) -> list[FlowDayPoint]:
    """Each day's bands, from the bands now less the moves of every later day."""
    level = levels_now(now_by_category)
    moves = {as_date(row["day"]): row for row in by_day}
    for day, later in moves.items():
        if day > span.last:
            for band in BANDS:
                level[band] -= int(later[band])
    shown: list[FlowDayPoint] = []
    for day in reversed(span.dates()):
        shown.append(_point(day, level))
        for band in BANDS:
            level[band] -= int(moves.get(day, {}).get(band, 0))
    shown.reverse()
    return shown


async def now_by_category(session: AsyncSession, project_id: str) -> dict[str, int]:
    """The project's live items per status category now."""
    categories = {s.id: s.category for s in await repo.statuses_of(session, project_id)}
    found: dict[str, int] = {}
    for status_id, count in (await repo.items_by_status(session, project_id, [])).items():
        category = categories[status_id]
        found[category] = found.get(category, 0) + count
    return found


# Whether the rows still hold ------------------------------------------------------------------


async def trash_of(session: AsyncSession, project_id: str) -> tuple[int, datetime | None]:
    """How many of the project's items are in the trash, and the latest move there."""
    count, latest = (
        await session.execute(
            select(func.count(), func.max(Item.deleted_at)).where(
                Item.project_id == project_id, Item.deleted_at.is_not(None)
            )
        )
    ).one()
    return int(count), latest


async def usable(session: AsyncSession, project: Project) -> FlowSnapshot | None:
    """The project's snapshot state when its rows give what the live computation would."""
    state = await session.scalar(select(FlowSnapshot).where(FlowSnapshot.project_id == project.id))
    zone = zone_of(project)
    if state is None or state.time_zone != zone or state.layout != LAYOUT:
        return None
    if (state.trashed, state.trashed_latest) != await trash_of(session, project.id):
        return None
    recorded_since = await session.scalar(
        select(
            exists().where(
                Event.project_id == project.id,
                Event.seq > state.through_seq,
                Event.type.in_(ITEM_EVENTS),
                Event.occurred_at < end_of_day(state.through_day, zone),
            )
        )
    )
    return None if recorded_since else state


# Reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FromSnapshot:
    cumulative_flow: list[FlowDayPoint]
    finished_by_day: list[dict[str, Any]]  # {"day", "finished"}, as flow.throughput reads them


def _levels(row: FlowDay) -> Levels:
    """The bands of a written day."""
    return {band: int(getattr(row, band)) for band in BANDS}


async def flow_from(
    session: AsyncSession, project: Project, state: FlowSnapshot, span: Period, days: LocalDays
) -> FromSnapshot:
    """The period's bands and finishes per day: the written days from their rows, the days
    after them from the written bands plus the moves since (from the event log)."""
    written, first = state.through_day, state.first_day
    # A written day's row is (day, *BANDS, finished), read by position: the period's rows are
    # 730 over two years, and a dict per row, then per point, was a tenth of the answer's CPU.
    rows = {
        as_date(row[0]): row[1:]
        for row in await session.execute(
            select(
                FlowDay.day, *(getattr(FlowDay, band) for band in BANDS), FlowDay.finished
            ).where(
                FlowDay.project_id == project.id,
                or_(
                    FlowDay.day.between(span.first, min(span.last, written)),
                    FlowDay.day.in_([written, first]),
                ),
            )
        )
    }
    moves: dict[date, dict[str, Any]] = {}
    if span.last > written:
        since = start_of_day(written + timedelta(days=1), span.zone)
        for move in await repo.flow_changes_by_day(session, project.id, since, [], days):
            moves[as_date(move["day"])] = move
    level = dict(zip(BANDS, rows[written], strict=False))
    before = dict(zip(BANDS, rows[first], strict=False))
    point_keys = ("date", *BANDS)
    shown: list[FlowDayPoint] = []
    finished: list[dict[str, Any]] = []
    for day in span.dates():
        if day <= first:
            shown.append(_point(day, before))
            continue
        if day <= written:
            *bands, finished_that_day = rows[day]
            shown.append(dict(zip(point_keys, (day, *bands), strict=True)))
            finished.append({"day": day, "finished": finished_that_day})
            continue
        if day in moves:
            for band in BANDS:
                level[band] += int(moves[day][band])
            finished.append({"day": day, "finished": int(moves[day]["finished"])})
        shown.append(_point(day, level))
    return FromSnapshot(shown, finished)


async def written_finishes(
    session: AsyncSession, project: Project, state: FlowSnapshot, span: Period, limit: int
) -> tuple[repo.Figures, list[repo.Point]]:
    """`repository.finishes` over the period's finish rows of all the items: the written
    days' from their rows, the days after them from the event log (on PostgreSQL in one
    statement built once, `repository.written_finishes`)."""
    if repo.is_postgres(session):
        boundary = end_of_day(state.through_day, span.zone)
        return await repo.written_finishes(session, project.id, span, boundary, limit)
    return await repo.finishes(session, finish_parts(session, project, state, span, []), limit)


def written_moves(state: FlowSnapshot, span: Period) -> repo.WrittenMoves | None:
    """For a filtered answer's bands: the period's written days' moves from their rows, the
    rest from the event log (none written in the period: all from the log)."""
    boundary = end_of_day(state.through_day, span.zone)
    if span.since >= boundary:
        return None
    return repo.WrittenMoves(first=span.first, last=state.through_day, boundary=boundary)


def finish_parts(
    session: AsyncSession,
    project: Project,
    state: FlowSnapshot,
    span: Period,
    items: Sequence[Any],
) -> list[Select[Any]]:
    """The period's finish rows of the items matching `items` (all when empty): the written
    days' from their rows, the days after them from the event log."""
    boundary = end_of_day(state.through_day, span.zone)
    parts: list[Select[Any]] = []
    if span.since < boundary:
        parts.append(repo.stored_finishes(project.id, span.since, min(span.until, boundary), items))
    if span.until > boundary:
        parts.append(
            repo.live_finishes(session, project.id, max(span.since, boundary), span.until, items)
        )
    return parts


# Writing (the sweep) -------------------------------------------------------------------------


async def _first_event(session: AsyncSession, project_id: str) -> datetime | None:
    firsts = [
        await session.scalar(
            select(func.min(Event.occurred_at)).where(
                Event.project_id == project_id, Event.type == kind
            )
        )
        for kind in ITEM_EVENTS
    ]
    found = [at for at in firsts if at is not None]
    return min(found) if found else None


async def refresh(session: AsyncSession, project: Project) -> int:
    """Writes the project's closed days not written yet (all of them again when the rows no
    longer hold); how many days it wrote."""
    zone, now = zone_of(project), utcnow()
    yesterday = local_date(now, zone) - timedelta(days=1)
    dialect = session.get_bind().dialect.name
    seq = int(
        await session.scalar(select(func.max(Event.seq)).where(Event.project_id == project.id)) or 0
    )
    state = await usable(session, project)
    if state is not None and state.through_day >= yesterday:
        return 0
    trashed, trashed_latest = await trash_of(session, project.id)
    if state is None:
        for model in (FlowDay, FlowFinish, FlowMove, FlowSnapshot):
            await session.execute(delete(model).where(model.project_id == project.id))
        first_event = await _first_event(session, project.id)
        start = local_date(min(first_event or now, project.created_at), zone)
        first = start - timedelta(days=1)
        span = Period(first=first, last=yesterday, zone=zone, as_of=now)
        days = LocalDays(zone, dialect, span.since, now + timedelta(days=1))
        by_day = await repo.flow_changes_by_day(session, project.id, span.since, [], days)
        shown = cumulative_flow(span, await now_by_category(session, project.id), by_day)
        finished_on = {as_date(row["day"]): int(row["finished"]) for row in by_day}
        new_rows = [
            {**point, "day": point["date"], "finished": finished_on.get(point["date"], 0)}
            for point in shown
        ]
        state = FlowSnapshot(project_id=project.id, time_zone=zone, first_day=first)
    else:
        span = Period(
            first=state.through_day + timedelta(days=1), last=yesterday, zone=zone, as_of=now
        )
        days = LocalDays(zone, dialect, span.since, now + timedelta(days=1))
        base = await session.get(FlowDay, (project.id, state.through_day))
        assert base is not None, "a written snapshot has its last day"
        level = _levels(base)
        moves = {
            as_date(row["day"]): row
            for row in await repo.flow_changes_by_day(session, project.id, span.since, [], days)
        }
        new_rows = []
        for day in span.dates():
            move = moves.get(day, {})
            for band in BANDS:
                level[band] += int(move.get(band, 0))
            new_rows.append({**level, "day": day, "finished": int(move.get("finished", 0))})
    for row in new_rows:
        row.pop("date", None)
    if new_rows:
        await session.execute(
            insert(FlowDay), [{"project_id": project.id, **row} for row in new_rows]
        )
    live = repo.live_finishes(session, project.id, span.since, span.until, []).subquery()
    columns = ("project_id", "seq", "item_id", "finished_at", "cycle", "lead")
    await session.execute(
        insert(FlowFinish).from_select(
            list(columns),
            select(literal(project.id), *(live.c[name] for name in columns[1:])),
        )
    )
    written_moves = repo.category_moves(project.id, span.since, span.until, days.day).subquery()
    await session.execute(
        insert(FlowMove).from_select(
            ["project_id", "seq", "item_id", "day", "old", "new"], select(*written_moves.c)
        )
    )
    state.through_day, state.through_seq, state.layout = yesterday, seq, LAYOUT
    state.trashed, state.trashed_latest, state.written_at = trashed, trashed_latest, now
    session.add(state)
    await session.flush()
    return len(new_rows)


async def project_ids(session: AsyncSession) -> Sequence[str]:
    return list(await session.scalars(select(Project.id).order_by(Project.id)))


class SnapshotsNotWritten(Exception):
    """Some projects' flow snapshots could not be written (each is in the log)."""


async def sweep_flow_snapshots(ctx: JobContext) -> None:
    """Each project's closed days not written yet, a project per transaction (read at one
    moment on PostgreSQL: the bands now and the moves since must agree). A project whose rows
    can't be written (its history holds something this code did not foresee) is logged and
    left to be answered from the event log; the projects after it are still written, and then
    the sweep fails (`SnapshotsNotWritten`), so the failure shows where jobs are watched (a dead
    `sweep.flow-snapshots` job in `/metrics` and `GET /admin/jobs`, until the next slot's run)."""
    async with ctx.database.transaction() as session:
        ids = await project_ids(session)
    written, failed = 0, 0
    for project_id in ids:
        try:
            written += await _sweep_one(ctx, project_id)
        except Exception:  # one project's failure must not stop the others' snapshots
            failed += 1
            log.exception("flow snapshots not written", extra={"project_id": project_id})
    log.info(
        "flow snapshots written", extra={"projects": len(ids), "days": written, "failed": failed}
    )
    if failed:
        raise SnapshotsNotWritten(f"flow snapshots of {failed} of {len(ids)} projects not written")


async def _sweep_one(ctx: JobContext, project_id: str) -> int:
    async with ctx.database.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        project = await session.get(Project, project_id)
        if project is None:
            return 0
        inserted_before = await rows_inserted(session)
        async with repo.analytic(session):
            written = await refresh(session, project)
        # A project's first write is its whole history (tens of thousands of rows): the
        # answers right after it must not be planned on statistics that don't know them.
        await refresh_after_bulk_write(session, inserted_before)
        return written
