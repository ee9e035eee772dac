"""The stand-up work the worker runs: the cut-off sweep that records each day's summary.

Every few minutes, for each project whose stand-up cut-off for its local today has passed and
whose summary for today is not recorded: record it and send `standup.summary_ready` (see
`summary.record`). Exactly once per project and day: the summaries table's unique constraint
lets one of two racing sweeps insert, and only the one that inserted sends the event.

A project takes part once it has a stand-up config (`PUT …/standup-config`) or, on defaults,
once someone checked in that day: projects that don't hold stand-ups send nothing. A day whose
cut-off passed while no worker ran is recorded by the next sweep of that (local) day; a day
missed entirely is not made up for (its summary can still be read).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.jobs import JobContext, Sweep
from takt.core.time import utcnow
from takt.projects.models import Project
from takt.standups import repository as repo
from takt.standups import summary
from takt.standups.calendar import DEFAULT_CUTOFF, StandupCalendar
from takt.standups.models import StandupConfig

log = logging.getLogger("takt.standups")

EVERY = timedelta(minutes=5)
# Projects looked at per statement (the statements name each project and day).
BATCH = 500


def _due(
    rows: Sequence[tuple[str, str, dict[str, Any], StandupConfig | None]], now: datetime
) -> list[tuple[str, date, bool]]:
    """(project id, local today, configured) of the projects whose cut-off for today passed."""
    due = []
    for project_id, _key, settings, row in rows:
        calendar = StandupCalendar.of(
            settings,
            row.weekdays if row is not None else None,
            row.cutoff if row is not None else DEFAULT_CUTOFF,
        )
        today = calendar.today(now)
        if calendar.runs_on(today) and now >= calendar.cutoff_at(today):
            due.append((project_id, today, row is not None))
    return due


async def _to_record(session: AsyncSession, now: datetime) -> list[tuple[str, date]]:
    rows = await repo.configs_of_live_projects(session)
    found: list[tuple[str, date]] = []
    for start in range(0, len(rows), BATCH):
        due = _due(rows[start : start + BATCH], now)
        recorded = await repo.recorded_on(session, [(p, d) for p, d, _ in due])
        waiting = [(p, d, configured) for p, d, configured in due if (p, d) not in recorded]
        active = await repo.with_entries_on(session, [(p, d) for p, d, c in waiting if not c])
        found += [(p, d) for p, d, c in waiting if c or (p, d) in active]
    return found


async def record_due_summaries(ctx: JobContext) -> None:
    """The sweep: each due project in its own transaction, so one failing project doesn't hold
    back the others (the error is raised at the end, and the sweep's job retries)."""
    now = utcnow()
    async with ctx.database.transaction(write=False) as session:
        due = await _to_record(session, now)
    recorded, failed = 0, None
    for project_id, day in due:
        try:
            async with ctx.database.transaction() as session:
                project = await session.get(Project, project_id)
                if project is not None and project.deleted_at is None:
                    recorded += await summary.record(session, project, day)
        except Exception as exc:
            log.exception("stand-up summary not recorded", extra={"project_id": project_id})
            failed = failed or exc
    log.info("stand-up summaries recorded", extra={"recorded": recorded, "due": len(due)})
    if failed is not None:
        raise failed


SWEEPS: list[Sweep] = [Sweep("standup-summaries", EVERY, record_due_summaries)]
