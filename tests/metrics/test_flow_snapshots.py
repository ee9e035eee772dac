"""Flow snapshots (metrics/snapshots.py) give the live computation's numbers: after the sweep
wrote the closed days, for a history with a status moved to another category, items in the
trash and days after the last written one, filtered or not; and the rows are set aside (then
written again) when the past they summarise changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, func, select, text

from takt.core import statistics
from takt.core.db import Database
from takt.core.events import Event
from takt.core.jobs import JobContext
from takt.core.time import clock_at
from takt.items.models import Item
from takt.metrics import snapshots
from takt.metrics.models import FlowDay, FlowFinish, FlowMove, FlowSnapshot
from takt.projects.models import Project
from tests.metrics.test_flow import NOW, Script, at, history
from tests.support import make_project, team

PERIODS: tuple[dict[str, str], ...] = (
    {"from": "2026-10-20", "to": "2026-11-17"},  # before the first event to today
    {"from": "2026-11-02", "to": "2026-11-13"},
    {"from": "2026-11-12", "to": "2026-11-12"},
    {},  # the default 30 days
    # Filtered: the bands from the written moves, the finishes from the written finishes, of
    # the items matching now (E alone is a bug; the others finish, B twice, G through a status).
    {"from": "2026-10-20", "to": "2026-11-17", "q": "type:bug"},
    {"from": "2026-11-02", "to": "2026-11-17", "q": "-type:bug"},
)


async def answers(
    s: Script, when: datetime, periods: tuple[dict[str, str], ...] = PERIODS
) -> list[dict[str, Any]]:
    found = []
    for params in periods:
        with clock_at(when):
            response = await s.client.get(
                "/api/v1/projects/API/metrics/flow", params=params, headers=s.who.headers
            )
        assert response.status_code == 200, response.text
        found.append(response.json())
    return found


async def sweep(app: FastAPI, db: Database, when: datetime) -> None:
    with clock_at(when):
        await snapshots.sweep_flow_snapshots(
            JobContext(database=db, settings=app.state.settings, worker_id="t")
        )


async def state(db: Database) -> tuple[FlowSnapshot | None, int, int]:
    async with db.transaction() as session:
        found = await session.scalar(select(FlowSnapshot))
        days = await session.scalar(select(func.count()).select_from(FlowDay))
        finishes = await session.scalar(select(func.count()).select_from(FlowFinish))
        return found, int(days or 0), int(finishes or 0)


async def usable(db: Database, when: datetime) -> bool:
    async with db.transaction() as session:
        project = await session.scalar(select(Project).where(Project.key == "API"))
        assert project is not None
        with clock_at(when):
            return await snapshots.usable(session, project) is not None


async def recategorise(s: Script, when: datetime, name: str, category: str) -> None:
    statuses = await s.call(when, "GET", "/api/v1/projects/API/statuses")
    status = next(x for x in statuses["data"] if x["name"] == name)
    await s.call(
        when,
        "PATCH",
        f"/api/v1/projects/API/statuses/{status['id']}",
        json={"category": category},
    )


async def test_snapshots_answer_as_the_event_log_does(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, k = await history(client, ada)
    # In Review becomes a done status on the 13th: G, in it, finishes with it.
    await s.move(at(11, 13, 8), k["G"], "In Review")
    await recategorise(s, at(11, 13, 9), "In Review", "done")
    live = await answers(s, NOW)
    assert not await usable(db, NOW)

    await sweep(app, db, at(11, 15, 12))  # writes up to Saturday the 14th
    written, days, finishes = await state(db)
    assert written is not None
    assert (str(written.first_day), str(written.through_day)) == ("2026-10-29", "2026-11-14")
    assert days == 17
    assert finishes == 5  # A, D, B twice, G through the recategorised status
    async with db.transaction() as session:
        moves = list(await session.scalars(select(FlowMove).order_by(FlowMove.seq)))
    # One row per change of category through the 14th (the filtered answers' bands), none for
    # edits that changed no category.
    assert moves
    assert all(move.day <= written.through_day for move in moves)
    assert all(move.old != move.new for move in moves)
    assert sum(move.new == "done" for move in moves) >= finishes
    assert await usable(db, NOW)
    assert await answers(s, NOW) == live  # written days, and the 15th to the 17th from events

    await sweep(app, db, NOW)  # adds the 15th and the 16th
    assert (await state(db))[1] == 19
    assert await answers(s, NOW) == live

    # A second status change of category, today: the written days stay as they were.
    await recategorise(s, at(11, 17, 10), "In Review", "in_review")
    later = datetime(2026, 11, 17, 13, tzinfo=UTC)
    assert await usable(db, later)
    moved = await answers(s, later)
    assert moved[0]["cumulative_flow"][-1]["done"] == live[0]["cumulative_flow"][-1]["done"] - 1
    await sweep(app, db, later)  # nothing to write: today isn't over
    assert await answers(s, later) == moved


async def test_a_changed_past_sets_the_rows_aside_until_the_next_sweep(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    s, k = await history(client, ada)
    await sweep(app, db, NOW)
    assert await usable(db, NOW)
    before = await answers(s, NOW)

    # An item moved to the trash leaves every past day of the live computation.
    await s.call(at(11, 17, 12, 30), "DELETE", f"/api/v1/items/{k['A']}")
    after = datetime(2026, 11, 17, 13, tzinfo=UTC)
    assert not await usable(db, after)
    trashed = await answers(s, after)
    assert trashed != before
    assert trashed[1]["throughput"]["finished"] == before[1]["throughput"]["finished"] - 1
    await sweep(app, db, after)  # written again, without A
    assert await usable(db, after)
    assert await answers(s, after) == trashed

    # Back from the trash: A counts again.
    await s.call(at(11, 17, 13, 30), "POST", f"/api/v1/items/{k['A']}/restore")
    restored = datetime(2026, 11, 17, 14, tzinfo=UTC)
    assert not await usable(db, restored)
    live = await answers(s, restored)
    assert [a["cumulative_flow"] for a in live] == [b["cumulative_flow"] for b in before]
    await sweep(app, db, restored)
    assert await answers(s, restored) == live

    # An event recorded now for a day already written (an import, a clock set back).
    await s.create(at(11, 3, 12), "Late", "Done")
    assert not await usable(db, restored)
    late = await answers(s, restored)
    assert late[1]["throughput"]["finished"] == live[1]["throughput"]["finished"] + 1
    await sweep(app, db, restored)
    assert await usable(db, restored)
    assert await answers(s, restored) == late

    # Another time zone moves every day's edges.
    await s.call(
        restored,
        "PATCH",
        "/api/v1/projects/API",
        json={"settings": {"time_zone": "Pacific/Auckland"}},
    )
    assert not await usable(db, restored)


# Filtered periods around the written days' edge (the first sweep below writes through the 14th):
# before the first event, ending before the last written day, on it, right after it, and on a
# day after it, for filters matching one, several or no item.
EDGES: tuple[dict[str, str], ...] = tuple(
    {"from": start, "to": end, "q": q}
    for q in ("type:bug", "-type:bug", "type:task", "category:done", "key:API-2")
    for start, end in (
        ("2026-10-20", "2026-10-25"),
        ("2026-10-29", "2026-11-01"),
        ("2026-11-02", "2026-11-13"),
        ("2026-11-14", "2026-11-14"),
        ("2026-11-15", "2026-11-17"),
        ("2026-11-16", "2026-11-16"),
        ("2026-10-20", "2026-11-17"),
    )
)


async def edge_answers(s: Script, when: datetime) -> list[dict[str, Any]]:
    return await answers(s, when, EDGES)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Pacific/Auckland"])
async def test_filtered_answers_from_written_moves_are_the_event_logs(
    app: FastAPI, db: Database, client: AsyncClient, zone: str
) -> None:
    ada = (await team(app, db))["ada"]
    await Script(client, ada).call(
        at(10, 1, 0), "PATCH", "/api/v1/projects/API", json={"settings": {"time_zone": zone}}
    )
    s, k = await history(client, ada)
    await s.create(at(11, 5, 23, 30), "Z", "Done", type="bug")  # created done, late evening
    await s.call(at(11, 8, 23, 59), "PATCH", f"/api/v1/items/{k['E']}", json={"title": "E2"})
    live = await edge_answers(s, NOW)
    await sweep(app, db, at(11, 15, 12))
    assert await usable(db, NOW)
    assert await edge_answers(s, NOW) == live
    await sweep(app, db, NOW)
    assert await edge_answers(s, NOW) == live


async def test_a_sweep_committing_during_an_answer_counts_no_day_twice(
    app: FastAPI, db: Database, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads each statement of an answer at its own moment: the answer may have read
    the snapshot state through the 14th while the moves it reads next already hold the 15th and
    the 16th, which it also reads from the event log."""
    ada = (await team(app, db))["ada"]
    s, _ = await history(client, ada)
    live = await edge_answers(s, NOW)
    await sweep(app, db, at(11, 15, 12))
    async with db.transaction() as session:
        found = await session.scalar(select(FlowSnapshot))
        assert found is not None
        session.expunge(found)
    through_14th: FlowSnapshot = found
    await sweep(app, db, NOW)  # the 15th and the 16th

    async def as_read_before_the_sweep(_session: Any, _project: Any) -> FlowSnapshot:
        return through_14th

    monkeypatch.setattr(snapshots, "usable", as_read_before_the_sweep)
    assert await edge_answers(s, NOW) == live


async def test_rows_of_another_layout_are_written_again(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    """Rows without moves (layout 1: written by a worker still running the older code after an
    upgrade) are not used, and the next sweep writes them whole again."""
    ada = (await team(app, db))["ada"]
    s, _ = await history(client, ada)
    live = await edge_answers(s, NOW)
    await sweep(app, db, NOW)
    async with db.transaction() as session:
        written = await session.scalar(select(FlowSnapshot))
        assert written is not None
        assert written.layout == snapshots.LAYOUT
        written.layout = 1
        await session.execute(delete(FlowMove))
    assert not await usable(db, NOW)
    assert await edge_answers(s, NOW) == live  # from the event log
    await sweep(app, db, NOW)
    assert await usable(db, NOW)
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(FlowMove))
    assert await edge_answers(s, NOW) == live


async def test_a_recorded_value_that_is_no_category_moves_nothing_and_is_written(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    """An imported history may hold anything where a category belongs (the import checks the
    shape, not the value): the live computation moves no band for it, and so do the written
    rows, which keep it as none (a long value would not fit their index)."""
    ada = (await team(app, db))["ada"]
    s, k = await history(client, ada)
    async with db.transaction() as session:
        item = await session.scalar(select(Item).where(Item.key == k["F"]))
        assert item is not None
        session.add(
            Event(
                type="item.updated",
                project_id=item.project_id,
                subject_id=item.id,
                occurred_at=at(11, 13, 12),
                data={"key": item.key},
                changes={"category": ["in_progress", "x" * 3000]},
            )
        )
    live = await edge_answers(s, NOW)
    await sweep(app, db, NOW)
    assert await usable(db, NOW)
    async with db.transaction() as session:
        unknown = await session.scalar(
            select(func.count()).select_from(FlowMove).where(FlowMove.new.is_(None))
        )
    assert unknown == 1
    assert await edge_answers(s, NOW) == live


async def test_the_sweep_refreshes_the_statistics_of_what_it_wrote(
    app: FastAPI, db: Database, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a project's first write is its whole history, analyzed in the sweep's own
    (repeatable read) transaction. This history is small, so every row counts here."""
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    ada = (await team(app, db))["ada"]
    await history(client, ada)
    monkeypatch.setattr(statistics, "ANALYZE_THRESHOLD", 0)

    async def analyzed() -> int:  # ANALYZE commands, not autovacuum's rounds
        async with db.transaction() as session:
            found = await session.scalar(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'flow_moves'")
            )
            return int(found or 0)

    before = await analyzed()
    await sweep(app, db, NOW)
    assert await usable(db, NOW)
    assert await analyzed() == before + 1


async def test_a_project_that_cant_be_written_fails_the_sweep_after_the_others(
    app: FastAPI, db: Database, client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = (await team(app, db))["ada"]
    await history(client, ada)
    broken = await make_project(db, ada, "OPS")
    sweep_one, project_ids = snapshots._sweep_one, snapshots.project_ids

    async def failing_for_one(ctx: JobContext, project_id: str) -> int:
        if project_id == broken:
            raise RuntimeError("a history this code did not foresee")
        return await sweep_one(ctx, project_id)

    async def broken_first(session: Any) -> list[str]:
        return sorted(await project_ids(session), key=lambda id_: id_ != broken)

    monkeypatch.setattr(snapshots, "project_ids", broken_first)  # the others come after it
    monkeypatch.setattr(snapshots, "_sweep_one", failing_for_one)
    with pytest.raises(snapshots.SnapshotsNotWritten, match="1 of 2 projects"):
        await sweep(app, db, at(11, 15, 12))
    written, days, _ = await state(db)  # the other project's days, written after it
    assert written is not None
    assert str(written.through_day) == "2026-11-14"
    assert days == 17
