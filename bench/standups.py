"""Measure stand-ups (issue 14, Speed): `python -m bench.standups`.

The goals: on PostgreSQL with dataset M, the summary of a 50-person project with 200 open
blockers (`GET /api/v1/projects/{key}/standups/{date}`) answers in p99 <= 50 ms, and so does a
draft built from 30 days of a busy member's events (`GET .../standups/{date}/draft`).

**Data.** Dataset M (`bench.generate`) plus one more project, `TEAM`, built by the dataset's own
`bench.project.ProjectBuilder` (sprints, items, their workflow history and event log) with a
team of 50 (admins and members; 3 viewers besides) and 4,000 items, and on top of it what
stand-ups read: the stand-up config; every participant's entries over the last 20 stand-up
days (today: 40 checked in, 3 absent by the sprint capacity, 7 missing) with their
`standup.entry_submitted` events; the summaries recorded at each past day's cut-off; 200 open
blockers (oldest 5 weeks, the ones past the threshold escalated) and 300 resolved ones, each
with its events and the item's `blocked` flag; and the busy member `user0001`, whose last entry
is 5 weeks old, with 30 days of work: 12 status moves, 20 comments and 8 other edits a working
day, items created, and blockers raised. Seeded: the same seed and anchor give the same rows.

**Measurement.** `takt serve --no-worker` (no sweep changes the data under the measurement) on
a free loopback port; a lean keep-alive HTTP/1.1 client (no HTTP library: it costs the server's
CPU nothing to speak of) sends one request after the other on each of N connections and keeps
every latency, so p50/p95/p99 are exact ranks. Each measurement is repeated (`--rounds`), the
rounds interleaved, with the load average and the CPU seconds of the server and of PostgreSQL
per request. The goal is read at one connection (a request's own latency, not time queued
behind others on a 2-core machine); other concurrencies are reported beside it.

`--record` writes bench/results/<date>-standups.json and appends a section to RESULTS.md. See
bench/README.md (Stand-ups).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import dataset, report
from bench.dataset import SENTENCES, Size, User, day_at
from bench.endpoints import Endpoint
from bench.generate import PostgresWriter, SqliteWriter, Writer, generate
from bench.integrations import ApiServer, CpuWindow, fresh_postgres, per_unit
from bench.load import Request, percentile
from bench.project import Item, ProjectBuilder
from bench.run import count_queries, database_version
from takt.core.db import is_sqlite_url
from takt.core.time import WorkCalendar, working_hours
from takt.items.models import PRIORITIES
from takt.standups.calendar import DEFAULT_CUTOFF, DEFAULT_QUESTIONS

Say = Callable[[str], None]
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/takt_bench_standups"
TEAM = "TEAM"
BUSY = "user0001"  # the busy member whose draft is measured
GOAL_MS = 50.0
THRESHOLD_HOURS = 16.0  # ProjectSettings' default blocker_escalation_hours
CALENDAR = WorkCalendar.of("UTC", ("mon", "tue", "wed", "thu", "fri"), "09:00", "17:00")
# Tables the layer writes, parents first.
TABLES = (
    "projects",
    "project_members",
    "statuses",
    "labels",
    "sprints",
    "items",
    "item_labels",
    "comments",
    "sprint_capacity",
    "standup_configs",
    "standup_entries",
    "standup_summaries",
    "blockers",
    "events",
)
TEAM_NAMES = ("Platform team", "Design", "Security review", "Data team")
EXTERNAL_NAMES = ("The bank", "Payment provider", "Legal", "Customer IT")
WAITING_KINDS = (("person", 40), ("team", 25), ("external", 20), ("item", 15))


@dataclass(frozen=True)
class Layer:
    """How big the stand-up project is."""

    team: int = 50  # participants: admins and members
    viewers: int = 3
    items: int = 4_000  # 120 in each two-week sprint, 1,600 in the backlog
    open_blockers: int = 200
    resolved_blockers: int = 300
    entry_days: int = 20  # stand-up days with entries, the measured day included
    absent_today: int = 3
    missing_today: int = 7
    busy_days: int = 30  # calendar days of the busy member's work before the day
    busy_pool: int = 120  # backlog items the busy member works through
    busy_working_set: int = 10  # of those, in hand at once
    moves_per_day: int = 12
    comments_per_day: int = 20
    edits_per_day: int = 8
    busy_created: int = 60  # items the busy member created in the period
    busy_blockers: int = 10  # open blockers the busy member raised (on their items)


LAYERS = {
    "M": Layer(),
    # The smoke test's: the same shape, small.
    "S": Layer(
        team=20,
        viewers=2,
        items=1_000,
        open_blockers=40,
        resolved_blockers=30,
        entry_days=6,
        missing_today=4,
        busy_pool=40,
        moves_per_day=4,
        comments_per_day=5,
        edits_per_day=2,
        busy_created=10,
        busy_blockers=3,
    ),
}


def standup_day(anchor: date) -> date:
    """The stand-up day measured: the anchor, or the last weekday before it."""
    day = anchor
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def working_days_before(day: date, count: int) -> list[date]:
    """The `count` weekdays up to and including `day`, oldest first."""
    found: list[date] = []
    cursor = day
    while len(found) < count:
        if cursor.weekday() < 5:
            found.append(cursor)
        cursor -= timedelta(days=1)
    return found[::-1]


def escalation_moment(raised: datetime, until: datetime) -> datetime | None:
    """When the worker's 15-minute sweep would have escalated a blocker raised at `raised`
    (first sweep past the threshold), if before `until`."""
    at = raised + timedelta(hours=THRESHOLD_HOURS)
    while at < until and working_hours(raised, at, CALENDAR) <= THRESHOLD_HOURS:
        at += timedelta(hours=1)
    if at >= until:
        return None
    at -= timedelta(hours=1)
    while working_hours(raised, at, CALENDAR) <= THRESHOLD_HOURS:
        at += timedelta(minutes=15)
    return at if at < until else None


class TeamBuilder(ProjectBuilder):
    """Project TEAM: a `ProjectBuilder` project with a team of `layer.team`, and the stand-up
    layer on top (entries, blockers, the busy member's month)."""

    def __init__(
        self, layer: Layer, index: int, people: list[User], anchor: date, seed: int
    ) -> None:
        size = Size(
            TEAM,
            projects=1,
            items_per_project=layer.items,
            users=len(people) - 1,
            big_items=layer.items * 20,  # unused (not project BIG); keeps Size's check happy
            big_sprint_items=0,
        )
        super().__init__(size, index, TEAM, people, anchor, seed)
        self.layer = layer
        self.day = standup_day(anchor)
        login, others = people[0], people[1:]
        busy = next(user for user in others if user.username == BUSY)
        rest = self.rng.sample(
            [u for u in others if u.id != busy.id], layer.team - 2 + layer.viewers
        )
        team = [busy, *rest[: layer.team - 2]]
        self.admins = [login, *team[:2]]
        self.members = team[2:]
        self.viewers = rest[layer.team - 2 :]
        self.workers = [login, *team]
        self.participants = [login, *team]
        self.busy = busy
        self.busy_items: list[Item] = []
        self.created_by_busy: list[Item] = []
        # Ids of the items flagged blocked at the end (their rows' `blocked` follows).
        self.blocked: set[str] = set()

    def build(self) -> dict[str, list[dict[str, Any]]]:
        self._project()
        self.sprints = self._sprints()
        items = self._plan_items()
        self._describe(items)
        self._choose_busy_items(items)
        for item in items:
            self._history(item)
        self._sprint_rows()
        self._busy_month()
        self._blockers(items)
        self._standups()
        self._item_rows(items)
        for row in self.rows["items"]:
            row["blocked"] = row["id"] in self.blocked
        self.events.sort(key=lambda entry: (entry[0], entry[1]))
        self.rows["events"] = [row for _, _, row in self.events]
        return self.rows

    # The busy member ---------------------------------------------------------------------------

    @property
    def busy_since(self) -> datetime:
        return day_at(self.day - timedelta(days=self.layer.busy_days), 0)

    def _choose_busy_items(self, items: list[Item]) -> None:
        """Backlog items created before the month (untouched since) become the busy member's
        to work through; some created during it, the busy member's creations."""
        since = self.busy_since
        untouched = [
            i
            for i in items
            if i.sprint is None and i.fate == "open" and i.created_at < since - timedelta(days=1)
        ]
        self.busy_items = self.rng.sample(untouched, min(self.layer.busy_pool, len(untouched)))
        for item in self.busy_items:
            item.assignee = self.busy
        recent = [
            i
            for i in items
            if i.sprint is None
            and i.fate == "open"
            and since <= i.created_at < self.horizon
            and i.created_at.weekday() < 5
        ]
        self.created_by_busy = self.rng.sample(recent, min(self.layer.busy_created, len(recent)))
        for item in self.created_by_busy:
            item.reporter = self.busy

    def _busy_moments(self, day: date, count: int) -> list[datetime]:
        start = day_at(day, 9)
        return sorted(self.between(start, start + timedelta(hours=8)) for _ in range(count))

    def _busy_month(self) -> None:
        """A month of the busy member's work on their items: moves along the workflow (now and
        then back from review), comments, other edits; one working day after the other."""
        layer, rng = self.layer, self.rng
        steps = {
            "Backlog": "To Do",
            "To Do": "In Progress",
            "In Progress": "In Review",
            "In Review": "Done",
        }
        queue = list(self.busy_items)
        in_hand: list[Item] = []
        day = self.busy_since.date()
        commented = list(self.busy_items) + [
            i for s in self.sprints[-2:] for i in s.items if i.assignee is not None
        ]
        while day < self.day:
            if day.weekday() < 5:
                for at in self._busy_moments(day, layer.moves_per_day):
                    while len(in_hand) < layer.busy_working_set and queue:
                        in_hand.append(queue.pop(0))
                    if not in_hand:
                        break
                    item = rng.choice(in_hand)
                    if item.status == "In Review" and rng.random() < 0.1:
                        self._move(item, at, "In Progress")
                        continue
                    self._move(item, at, steps[item.status])
                    if item.status == "Done":
                        in_hand.remove(item)
                for at in self._busy_moments(day, layer.comments_per_day):
                    self._busy_comment(rng.choice(commented), at)
                for at in self._busy_moments(day, layer.edits_per_day):
                    item = rng.choice(self.busy_items)
                    new = rng.choice([p for p in range(len(PRIORITIES)) if p != item.priority])
                    self._update(
                        item, at, {"priority": [PRIORITIES[item.priority], PRIORITIES[new]]}
                    )
                    item.priority = new
            day += timedelta(days=1)

    def _busy_comment(self, item: Item, at: datetime) -> None:
        body = self.rng.choice(SENTENCES)
        comment_id = self.uuid()
        self.rows.setdefault("comments", []).append(
            {
                "id": comment_id,
                "item_id": item.id,
                "author_id": self.busy.id,
                "body": body,
                "mention_ids": [],
                "created_at": at,
                "updated_at": at,
            }
        )
        data = {"key": item.key, "comment_id": comment_id, "body": body}
        self.emit(at, "comment.created", item.id, self.busy, data)

    # Blockers ----------------------------------------------------------------------------------

    def _flag(self, item: Item, at: datetime, actor: User, value: bool) -> None:
        self.emit(
            at, "item.updated", item.id, actor, {"key": item.key}, {"blocked": [not value, value]}
        )
        item.updated_at = max(item.updated_at or at, at)
        item.version += 1
        if value:
            self.blocked.add(item.id)
        else:
            self.blocked.discard(item.id)

    def _waiting_on(self, item: Item, raiser: User, items: list[Item]) -> dict[str, Any]:
        kinds = [kind for kind, _ in WAITING_KINDS]
        kind: str = self.rng.choices(kinds, [weight for _, weight in WAITING_KINDS])[0]
        columns: dict[str, Any] = {
            "waiting_on_kind": kind,
            "waiting_on_user_id": None,
            "waiting_on_name": None,
            "waiting_on_item_id": None,
        }
        if kind == "person":
            person = self.rng.choice([u for u in self.participants if u.id != raiser.id])
            columns["waiting_on_user_id"] = person.id
            event = {"kind": kind, "user": person.username}
        elif kind == "item":
            other = self.rng.choice([i for i in items if i.id != item.id])
            columns["waiting_on_item_id"] = other.id
            event = {"kind": kind, "item_key": other.key}
        else:
            name = self.rng.choice(TEAM_NAMES if kind == "team" else EXTERNAL_NAMES)
            columns["waiting_on_name"] = name
            event = {"kind": kind, "name": name}
        columns["_event"] = event
        return columns

    def _blocker(
        self,
        item: Item,
        raiser: User,
        raised: datetime,
        items: list[Item],
        resolved: tuple[datetime, User] | None = None,
    ) -> None:
        blocker_id = self.uuid()
        reason = f"{self.rng.choice(SENTENCES)}"[:200]
        waiting = self._waiting_on(item, raiser, items)
        waiting_event = waiting.pop("_event")
        self.emit(
            raised,
            "blocker.raised",
            blocker_id,
            raiser,
            {"id": blocker_id, "item_key": item.key, "reason": reason, "waiting_on": waiting_event},
        )
        if item.id not in self.blocked:
            self._flag(item, raised, raiser, True)
        until = resolved[0] if resolved else self.horizon
        escalated = escalation_moment(raised, until)
        if escalated is not None:
            self.emit(
                escalated,
                "blocker.escalated",
                blocker_id,
                None,
                {
                    "id": blocker_id,
                    "item_key": item.key,
                    "age_working_hours": round(working_hours(raised, escalated, CALENDAR), 2),
                    "threshold_hours": THRESHOLD_HOURS,
                    "reason": reason,
                    "waiting_on": waiting_event,
                    "raised_by": raiser.username,
                },
            )
        age = None
        if resolved is not None:
            at, resolver = resolved
            age = working_hours(raised, at, CALENDAR)
            self.emit(
                at,
                "blocker.resolved",
                blocker_id,
                resolver,
                {
                    "id": blocker_id,
                    "item_key": item.key,
                    "age_working_hours": round(age, 2),
                    "resolution": "Sorted out.",
                },
            )
            self._flag(item, at, resolver, False)
        last = resolved[0] if resolved else (escalated or raised)
        self.rows.setdefault("blockers", []).append(
            {
                "id": blocker_id,
                "project_id": self.id,
                "item_id": item.id,
                "reason": reason,
                **waiting,
                "status": "resolved" if resolved else "open",
                "raised_by_id": raiser.id,
                "raised_at": raised,
                "resolved_by_id": resolved[1].id if resolved else None,
                "resolved_at": resolved[0] if resolved else None,
                "resolution": "Sorted out." if resolved else "",
                "resolved_age_hours": age,
                "escalated_at": escalated,
                "risk_id": None,
                "created_at": raised,
                "updated_at": last,
                "version": 1 + (escalated is not None) + (resolved is not None),
            }
        )

    def _raised_at(self, days_back: float) -> datetime:
        """A working-hours moment about `days_back` calendar days before the horizon."""
        at = self.horizon - timedelta(days=days_back)
        while at.weekday() >= 5:
            at -= timedelta(days=1)
        return day_at(at.date(), 9) + timedelta(minutes=self.rng.randrange(8 * 60))

    def _blockers(self, items: list[Item]) -> None:
        """Open blockers on unfinished items (the busy member's on items in hand), ages from
        hours to five weeks; resolved ones over the last two months on other items."""
        layer, rng = self.layer, self.rng
        unfinished = [i for i in items if i.status not in ("Done", "Cancelled")]
        mine = [i for i in self.busy_items if i.status in ("In Progress", "In Review", "To Do")]
        theirs = [i for i in unfinished if i.assignee is not None and i.assignee != self.busy]
        others = [u for u in self.participants if u.id != self.busy.id]
        chosen = mine[: layer.busy_blockers]
        for item in chosen:
            self._blocker(item, self.busy, self._raised_at(rng.random() * 20), items)
        pool = [i for i in theirs if i not in chosen]
        for item in rng.sample(pool, layer.open_blockers - len(chosen)):
            # 40 % raised in the last two days, the rest up to five weeks ago.
            back = rng.random() * 2 if rng.random() < 0.4 else 2 + rng.random() * 33
            raiser = item.assignee if item.assignee in others else rng.choice(others)
            assert raiser is not None
            self._blocker(item, raiser, self._raised_at(back), items)
        taken = {i.id for i in chosen} | self.blocked
        spare = [i for i in items if i.id not in taken]
        for item in rng.sample(spare, layer.resolved_blockers):
            raised = self._raised_at(3 + rng.random() * 57)
            lasted = timedelta(hours=1 + rng.random() * 70)
            self._blocker(
                item, rng.choice(others), raised, items, (raised + lasted, rng.choice(others))
            )

    # Stand-ups ---------------------------------------------------------------------------------

    def _answers(self, blocked: bool) -> dict[str, str]:
        keys = [i.key for i in self.rng.sample(self.sprints[-1].items, 3)]
        return {
            "yesterday": "\n".join(f"- {key}: {self.rng.choice(SENTENCES)}" for key in keys[:2]),
            "today": f"- {keys[2]}: {self.rng.choice(SENTENCES)}",
            "blockers": f"- {self.rng.choice(SENTENCES)}" if blocked else "",
        }

    def _standups(self) -> None:
        """The config, capacity (with absences), entries of the last `entry_days` stand-up
        days, and the summaries recorded at the past days' cut-offs."""
        layer, rng = self.layer, self.rng
        created = self.created_at
        self.rows["standup_configs"] = [
            {
                "project_id": self.id,
                "questions": [dict(q) for q in DEFAULT_QUESTIONS],
                "weekdays": None,
                "cutoff": DEFAULT_CUTOFF,
                "participants": None,
                "share_answers_in_events": False,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        ]
        days = working_days_before(self.day, layer.entry_days)
        others = [u for u in self.participants if u.id != self.busy.id]
        away_today = {u.id for u in rng.sample(others[1:], layer.absent_today)}
        absent: dict[tuple[str, date], bool] = {}
        capacity = self.rows.setdefault("sprint_capacity", [])
        for sprint in self.sprints[-3:]:
            sprint_days = [
                sprint.start + timedelta(days=n)
                for n in range(14)
                if (sprint.start + timedelta(days=n)).weekday() < 5
            ]
            for user in self.participants:
                off = set(rng.sample(sprint_days, rng.choice((0, 0, 0, 1, 2))))
                off.discard(self.day)
                if user.id in away_today and sprint.start <= self.day <= sprint.end:
                    off.add(self.day)
                for d in off:
                    absent[(user.id, d)] = True
                capacity.append(
                    {
                        "id": self.uuid(),
                        "sprint_id": sprint.id,
                        "user_id": user.id,
                        "allocation": 1.0,
                        "absent_days": sorted(d.isoformat() for d in off),
                    }
                )
        expected_today = [u for u in others if u.id not in away_today]
        # The busy member, who hasn't checked in for weeks, is one of the day's missing.
        missing_today = {u.id for u in rng.sample(expected_today, layer.missing_today - 1)}
        entries = self.rows.setdefault("standup_entries", [])
        # The busy member's last entries, before their month.
        busy_days = working_days_before(self.day - timedelta(days=layer.busy_days + 5), 3)
        for d in busy_days:
            self._entry(self.busy, d, blocked=False)
        for d in days:
            submitted = 0
            blocked = 0
            missing: list[str] = []
            for user in self.participants:
                if user.id == self.busy.id or absent.get((user.id, d)):
                    if user.id == self.busy.id:
                        missing.append(user.username)
                    continue
                skip = user.id in missing_today if d == self.day else rng.random() < 0.1
                if skip:
                    missing.append(user.username)
                    continue
                flag = rng.random() < 0.2
                self._entry(user, d, blocked=flag)
                submitted += 1
                blocked += flag
            if d == self.day:
                continue
            expected = submitted + len(missing)
            sprint = next(s for s in self.sprints if s.start <= d <= s.end)
            cutoff = day_at(d, 10)
            figures = {
                "expected": expected,
                "submitted": submitted,
                "participation": round(submitted / expected, 4) if expected else None,
                "blocked_rate": round(blocked / submitted, 4) if submitted else None,
                "open_blockers": layer.open_blockers,
                "sprint_id": sprint.id,
                "sprint_probability": round(0.4 + rng.random() * 0.5, 4),
            }
            self.rows.setdefault("standup_summaries", []).append(
                {
                    "id": self.uuid(),
                    "project_id": self.id,
                    "standup_date": d,
                    "recorded_at": cutoff,
                    **figures,
                }
            )
            self.emit(
                cutoff,
                "standup.summary_ready",
                self.id,
                None,
                {
                    "date": d.isoformat(),
                    "cutoff_at": cutoff.isoformat().replace("+00:00", "Z"),
                    **figures,
                    "missing": sorted(missing),
                    "sprint_probability_change": None,
                    "answers": None,
                },
            )
        assert len(entries) > 0

    def _entry(self, user: User, d: date, *, blocked: bool) -> None:
        at = day_at(d, 8) + timedelta(minutes=self.rng.randrange(150))
        late = at > day_at(d, 10)
        entry_id = self.uuid()
        self.rows.setdefault("standup_entries", []).append(
            {
                "id": entry_id,
                "project_id": self.id,
                "user_id": user.id,
                "standup_date": d,
                "answers": self._answers(blocked),
                "blocked": blocked,
                "blocker_ids": [],
                "late": late,
                "submitted_at": at,
                "updated_at": at,
                "version": 1,
            }
        )
        self.emit(
            at,
            "standup.entry_submitted",
            entry_id,
            user,
            {
                "entry_id": entry_id,
                "date": d.isoformat(),
                "user_id": user.id,
                "username": user.username,
                "blocked": blocked,
                "late": late,
                "edited": False,
                "blocker_ids": [],
                "answers": None,
            },
        )


# Writing the data ----------------------------------------------------------------------------


async def _scalar(url: str, sql: str, **params: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(sql), params)
    finally:
        await engine.dispose()


async def postgres_database_exists(url: str) -> bool:
    parsed = make_url(url)
    admin = create_async_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        async with admin.connect() as conn:
            found = await conn.scalar(
                text("select 1 from pg_database where datname = :name"),
                {"name": parsed.database},
            )
    finally:
        await admin.dispose()
    return found is not None


async def has_users(url: str) -> bool:
    try:
        return bool(await _scalar(url, "select count(*) from users"))
    except Exception:  # no such table: an empty, unmigrated database
        return False


async def layer_day(url: str) -> date | None:
    """The stand-up day of the TEAM project already in the database, if there is one."""
    found = await _scalar(
        url,
        "select max(e.standup_date) from standup_entries e"
        " join projects p on p.id = e.project_id where p.key = :key",
        key=TEAM,
    )
    if found is None or isinstance(found, date):
        return found
    return date.fromisoformat(str(found))


async def people_of(url: str) -> list[User]:
    """`bench` first, then user0001…, as bench.dataset.users made them."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "select id, username from users where username = :login"
                        " or username like 'user%' order by username"
                    ),
                    {"login": dataset.LOGIN},
                )
            ).all()
    finally:
        await engine.dispose()
    people = [User(str(i), str(n)) for i, n in rows]
    people.sort(key=lambda u: (u.username != dataset.LOGIN, u.username))
    return people


async def write_layer(
    url: str, layer: Layer, anchor: date, seed: int = dataset.SEED
) -> dict[str, int]:
    """Build project TEAM and its stand-up layer and write them in bulk (the generator's
    writers: COPY on PostgreSQL, then VACUUM ANALYZE; executemany on SQLite)."""
    people = await people_of(url)
    rows = TeamBuilder(layer, 10_000, people, anchor, seed).build()
    writer: Writer
    if is_sqlite_url(url):
        writer = SqliteWriter(url)
    else:
        pg = PostgresWriter(url)
        await pg.open()
        writer = pg
    for table in TABLES:
        await writer.write(table, rows.get(table, []))
    await writer.finish()
    return {table: len(rows.get(table, [])) for table in TABLES}


async def prepare(
    url: str,
    size: str,
    *,
    fresh: bool,
    anchor: date | None = None,
    seed: int = dataset.SEED,
    say: Say = print,
) -> dict[str, Any]:
    """A database with dataset `size` and project TEAM: made (PostgreSQL: dropped and created
    again with `fresh`), completed, or reused as it is. What was done, and the stand-up day."""
    anchor = anchor or datetime.now(UTC).date()
    done: dict[str, Any] = {"size": size, "anchor": anchor.isoformat()}
    if not fresh and not is_sqlite_url(url) and not await postgres_database_exists(url):
        fresh = True  # made below
    if fresh:
        if is_sqlite_url(url):
            await asyncio.to_thread(Path(url.split("///", 1)[1]).unlink, missing_ok=True)
        else:
            await fresh_postgres(url)
    if not await has_users(url):
        started = time.monotonic()
        summary = await asyncio.to_thread(generate, url, size, anchor=anchor, seed=seed, quiet=True)
        done["dataset"] = {"rows": sum(summary["rows"].values()), "seconds": summary["seconds"]}
        seconds = time.monotonic() - started
        say(f"  dataset {size}: {done['dataset']['rows']:,} rows in {seconds:.0f} s")
    day = await layer_day(url)
    if day is None:
        started = time.monotonic()
        counts = await write_layer(url, LAYERS[size], anchor, seed)
        done["layer"] = {"rows": counts, "seconds": round(time.monotonic() - started, 1)}
        say(f"  project {TEAM}: {sum(counts.values()):,} rows in {done['layer']['seconds']} s")
        day = await layer_day(url)
    else:
        say(f"  reusing project {TEAM} (stand-up day {day})")
    assert day is not None
    done["day"] = day.isoformat()
    return done


# Measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    id: str
    title: str
    path: str
    login: str  # who asks
    goal: bool  # the issue's goal applies to it
    toggle: bool = False  # an item of the sprint moves before each request (one connection)

    def endpoint(self) -> Endpoint:
        return Endpoint(self.id, self.title, [Request("GET", self.path)])


def targets(day: date) -> list[Target]:
    previous = working_days_before(day, 2)[0]
    base = f"/api/v1/projects/{TEAM}/standups"
    return [
        Target(
            "summary",
            f"summary of {day} (not recorded yet: the sprint's chance forecast now, then kept)",
            f"{base}/{day}",
            dataset.LOGIN,
            goal=True,
        ),
        Target(
            "summary_changed",
            f"summary of {day} after an item of the sprint moved in or out of Done (each time)",
            f"{base}/{day}",
            dataset.LOGIN,
            goal=True,
            toggle=True,
        ),
        Target(
            "summary_recorded",
            f"summary of {previous} (recorded at its cut-off)",
            f"{base}/{previous}",
            dataset.LOGIN,
            goal=True,
        ),
        Target(
            "draft_busy",
            f"draft of {day} for {BUSY} (30 days of work since the last entry)",
            f"{base}/{day}/draft",
            BUSY,
            goal=True,
        ),
        Target(
            "draft_member",
            f"draft of {day} for {dataset.LOGIN} (since yesterday's entry)",
            f"{base}/{day}/draft",
            dataset.LOGIN,
            goal=False,
        ),
    ]


async def toggle_item(url: str) -> Toggle:
    """An item of TEAM's active sprint in review, not blocked, to move to Done and back."""
    key = await _scalar(
        url,
        "select i.key from items i join statuses s on s.id = i.status_id"
        " join sprints sp on sp.id = i.sprint_id join projects p on p.id = i.project_id"
        " where p.key = :key and sp.state = 'active' and s.name = 'In Review'"
        " and not i.blocked and i.deleted_at is null order by i.number limit 1",
        key=TEAM,
    )
    if key is None:
        raise RuntimeError(f"no item in review in {TEAM}'s active sprint")
    return Toggle(str(key))


async def login(base_url: str, username: str) -> str:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": dataset.PASSWORD}
        )
    if response.status_code != 200:
        raise RuntimeError(f"login {username}: {response.status_code} {response.text[:200]}")
    return str(response.json()["access_token"])


class Connection:
    """One keep-alive HTTP/1.1 connection sending requests one at a time (no HTTP library: the
    client must not take the CPU the server is measured on)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"host: 127.0.0.1:{port}\r\nauthorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path)

    async def request(self, method: str, path: str, json_body: Any = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        body = b"" if json_body is None else orjson.dumps(json_body)
        extra = b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
        self.writer.write(
            b"%b %b HTTP/1.1\r\n%b%b\r\n%b"
            % (method.encode(), path.encode(), self.head, extra if body else b"", body)
        )
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get("transfer-encoding") == "chunked":
            chunks = bytearray()
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                chunks += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
            answer = bytes(chunks)
        else:
            answer = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection") == "close":
            self.close()
        return status, answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Sampled:
    latencies: list[float] = field(default_factory=list)  # seconds, in the order answered
    errors: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Toggle:
    """An item of the active sprint moved between two statuses before each measured request
    (not timed): each move changes the sprint's open items, so the summary's kept forecast no
    longer applies and is worked out again."""

    key: str
    statuses: tuple[str, str] = ("In Review", "Done")

    async def flip(self, connection: Connection, turn: int) -> None:
        status = self.statuses[(turn + 1) % 2]
        code, answer = await connection.request(
            "PATCH", f"/api/v1/items/{self.key}", {"status": status}
        )
        if code != 200:
            raise RuntimeError(f"moving {self.key} to {status}: {code} {answer[:300]!r}")


async def drive(
    port: int,
    token: str,
    path: str,
    *,
    seconds: float,
    connections: int,
    toggle: Toggle | None = None,
) -> Sampled:
    """`connections` closed loops of GETs for `seconds`; every latency kept. With `toggle`,
    its item moves (untimed) before each GET, on the same connection; the item ends where it
    began."""
    sampled = Sampled()
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        connection = Connection(port, token)
        turn = 0
        try:
            while time.perf_counter() < deadline:
                if toggle is not None:
                    await toggle.flip(connection, turn)
                    turn += 1
                sent = time.perf_counter()
                status, _ = await connection.get(path)
                sampled.latencies.append(time.perf_counter() - sent)
                if status != 200:
                    sampled.errors += 1
            if toggle is not None and turn % 2:
                await toggle.flip(connection, turn)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    sampled.seconds = time.perf_counter() - started
    return sampled


def ranks(latencies: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max in ms (nearest rank) of latencies in seconds."""
    ordered = sorted(latencies)

    def ms(value: float) -> float:
        return round(value * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": ms(percentile(ordered, 50)) if ordered else None,
        "p95_ms": ms(percentile(ordered, 95)) if ordered else None,
        "p99_ms": ms(percentile(ordered, 99)) if ordered else None,
        "max_ms": ms(ordered[-1]) if ordered else None,
    }


def facts(target: Target, body: dict[str, Any], size: int) -> dict[str, Any]:
    """What the measured answer holds: proof the data is the goal's."""
    if target.id.startswith("summary"):
        sprint = body.get("sprint") or {}
        return {
            "bytes": size,
            "open_blocker_count": body["open_blocker_count"],
            "open_blockers_listed": len(body["open_blockers"]),
            "participants": body["participation"]["participants"],
            "absent": len(body["absent"]),
            "missing": len(body["missing"]),
            "entries": len(body["entries"]),
            "participation": body["participation"]["rate"],
            "blocked_rate": body["blocked_rate"],
            "sprint_probability": sprint.get("probability"),
            "sprint_as_of": sprint.get("as_of"),
            "recorded": body["recorded"] is not None,
        }
    kinds: dict[str, int] = {}
    for line in body["lines"]:
        kinds[line["kind"]] = kinds.get(line["kind"], 0) + 1
    return {
        "bytes": size,
        "since": body["since"],
        "until": body["until"],
        "lines": len(body["lines"]),
        "lines_by_kind": dict(sorted(kinds.items())),
        "suggested_blockers": len(body["suggested_blockers"]),
    }


async def load_average() -> dict[str, Any]:
    uptime = await asyncio.create_subprocess_exec(
        "uptime", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await uptime.communicate()
    one, five, fifteen = os.getloadavg()
    return {
        "1min": round(one, 2),
        "5min": round(five, 2),
        "15min": round(fifteen, 2),
        "uptime": out.decode().strip(),
    }


@dataclass
class Options:
    database_url: str = DEFAULT_URL
    size: str = "M"
    fresh: bool = False
    anchor: date | None = None
    rounds: int = 3
    seconds: float = 20
    warmup: float = 3
    concurrency: tuple[int, ...] = (1, 4)
    only: tuple[str, ...] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="takt-standups-")))


async def measure(options: Options, *, say: Say = print) -> dict[str, Any]:
    url = options.database_url
    document: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "commit": report.git_commit(),
        "options": {k: str(v) for k, v in vars(options).items()},
    }
    say("Preparing the database")
    document["data"] = await prepare(
        url, options.size, fresh=options.fresh, anchor=options.anchor, say=say
    )
    document["database"] = await database_version(url)
    day = date.fromisoformat(document["data"]["day"])
    chosen = [t for t in targets(day) if options.only is None or t.id in options.only]
    toggle = await toggle_item(url) if any(t.toggle for t in chosen) else None
    document["load_before"] = await load_average()
    server = ApiServer(url, options.workdir, worker=False)
    await server.start()
    runs: list[dict[str, Any]] = []
    try:
        tokens = {name: await login(server.base_url, name) for name in {t.login for t in chosen}}
        document["checks"], document["queries"] = {}, {}
        for name, token in tokens.items():
            mine = [t for t in chosen if t.login == name]
            counted = await count_queries(
                url, server.secret_key, token, [t.endpoint() for t in mine], options.workdir
            )
            for target in mine:
                document["queries"][target.id] = {
                    "queries": counted[target.id]["queries"],
                    "statements": counted[target.id]["statements"],
                }
                connection = Connection(server.port, token)
                status, answer = await connection.get(target.path)
                connection.close()
                if status != 200:
                    raise RuntimeError(f"{target.path}: {status} {answer[:300]!r}")
                document["checks"][target.id] = facts(target, orjson.loads(answer), len(answer))
                say(f"  {target.id}: {document['checks'][target.id]}")
        for number in range(1, options.rounds + 1):
            for target in chosen:
                for connections in (1,) if target.toggle else options.concurrency:
                    token = tokens[target.login]
                    moving = toggle if target.toggle else None
                    if options.warmup > 0:
                        await drive(
                            server.port,
                            token,
                            target.path,
                            seconds=options.warmup,
                            connections=connections,
                            toggle=moving,
                        )
                    load = round(os.getloadavg()[0], 2)
                    window = CpuWindow({"takt serve (API, no worker)": [server.pid]}, url)
                    await window.start()
                    sampled = await drive(
                        server.port,
                        token,
                        target.path,
                        seconds=options.seconds,
                        connections=connections,
                        toggle=moving,
                    )
                    cpu = await window.stop()
                    run = {
                        "round": number,
                        "target": target.id,
                        "connections": connections,
                        "requests": len(sampled.latencies),
                        "errors": sampled.errors,
                        "rps": round(len(sampled.latencies) / sampled.seconds, 1),
                        **ranks(sampled.latencies),
                        "load_1min_before": load,
                        "cpu": cpu,
                        "cpu_ms_per_request": per_unit(cpu, len(sampled.latencies)),
                        "latencies_ms": [round(v * 1000, 3) for v in sampled.latencies],
                    }
                    runs.append(run)
                    say(
                        f"  round {number} {target.id:<16} {connections:>2} conn: "
                        f"{run['rps']:>7} req/s  p50 {run['p50_ms']} p95 {run['p95_ms']} "
                        f"p99 {run['p99_ms']} ms  errors {run['errors']}  load {load}"
                    )
        document["server_memory"] = server.memory_mb()
    finally:
        await server.stop()
    document["load_after"] = await load_average()
    document["runs"] = runs
    document["pooled"] = pooled(runs)
    document["goals"] = goals(document, chosen)
    return document


def pooled(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per target and concurrency: the percentiles of every round's latencies together."""
    found: dict[str, dict[str, Any]] = {}
    for run in runs:
        key = f"{run['target']}@{run['connections']}"
        entry = found.setdefault(
            key,
            {
                "target": run["target"],
                "connections": run["connections"],
                "latencies": [],
                "errors": 0,
                "requests": 0,
                "rps": [],
                "p99_by_round": [],
                "server_cpu_ms": [],
                "postgres_cpu_ms": [],
            },
        )
        entry["latencies"] += run["latencies_ms"]
        entry["errors"] += run["errors"]
        entry["requests"] += run["requests"]
        entry["rps"].append(run["rps"])
        entry["p99_by_round"].append(run["p99_ms"])
        per = run["cpu_ms_per_request"]
        entry["server_cpu_ms"].append(per.get("takt serve (API, no worker)"))
        entry["postgres_cpu_ms"].append(per.get("PostgreSQL (this database's connections)"))
    for entry in found.values():
        entry.update(ranks([v / 1000 for v in entry.pop("latencies")]))
    return found


def goals(document: dict[str, Any], chosen: list[Target]) -> list[dict[str, Any]]:
    rows = []
    for target in chosen:
        if not target.goal:
            continue
        entry = document["pooled"].get(f"{target.id}@1")
        if entry is None:
            continue
        p99 = entry["p99_ms"]
        rows.append(
            {
                "target": target.id,
                "title": target.title,
                "p99_ms": p99,
                "p99_by_round": entry["p99_by_round"],
                "goal_ms": GOAL_MS,
                "met": p99 is not None and p99 <= GOAL_MS and entry["errors"] == 0,
                "met_every_round": all(
                    v is not None and v <= GOAL_MS for v in entry["p99_by_round"]
                ),
            }
        )
    return rows


# Reporting -----------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _list(values: list[Any]) -> str:
    return " / ".join("n/a" if v is None else f"{v:g}" for v in values)


def markdown(document: dict[str, Any]) -> str:
    m, data, checks = document["machine"], document["data"], document.get("checks", {})
    before, after = document["load_before"], document["load_after"]
    options = document["options"]
    lines = [
        f"## {document['date']} · stand-ups (issue 14) · {document['database']} · dataset "
        f"{data['size']} + project {TEAM}",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}; load average (1/5/15 min) before {before['1min']}/"
        f"{before['5min']}/{before['15min']}, after {after['1min']}/{after['5min']}/"
        f"{after['15min']}",
        f"- Commit: `{document['commit']}`",
        f"- Command: `{document.get('command', 'python -m bench.standups')}`",
        f"- Raw figures: `{document.get('raw', 'not recorded')}`",
        f"- Each measurement: {options['rounds']} rounds, interleaved, of {options['seconds']} s "
        f"after {options['warmup']} s of warm-up, closed loops on keep-alive connections; "
        "`takt serve --no-worker`, one process, client and database on the same machine",
    ]
    summary, draft = checks.get("summary"), checks.get("draft_busy")
    if summary:
        lines.append(
            f"- The summary shows {summary['open_blockers_listed']} open blockers (of "
            f"{summary['open_blocker_count']}), {summary['participants']} participants, "
            f"{summary['entries']} entries, {summary['missing']} missing, {summary['absent']} "
            f"absent, the sprint's chance ({summary['sprint_as_of']}); {summary['bytes']:,} bytes"
        )
    if draft:
        kinds = ", ".join(f"{n} {k}" for k, n in draft["lines_by_kind"].items())
        lines.append(
            f"- The busy member's draft covers {draft['since']} to {draft['until']}: "
            f"{draft['lines']} lines ({kinds}), {draft['suggested_blockers']} suggested "
            f"blockers; {draft['bytes']:,} bytes"
        )
    lines += [
        "",
        "| Request | connections | requests | req/s (by round) | p50 ms | p95 ms | p99 ms "
        "| p99 by round | max ms | errors | SQL/request "
        "| CPU ms/request: server+PostgreSQL (by round) |",
        "|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    titles = {t["target"]: t for t in document.get("goals", [])}
    for entry in document["pooled"].values():
        target = entry["target"]
        queries = document.get("queries", {}).get(target, {}).get("queries", "n/a")
        cpu = " / ".join(
            f"{_list([s])}+{_list([p])}" if p is not None else _list([s])
            for s, p in zip(entry["server_cpu_ms"], entry["postgres_cpu_ms"], strict=True)
        )
        lines.append(
            f"| `{target}` | {entry['connections']} | {entry['requests']:,} | "
            f"{_list(entry['rps'])} | {_ms(entry['p50_ms'])} | {_ms(entry['p95_ms'])} | "
            f"{_ms(entry['p99_ms'])} | {_list(entry['p99_by_round'])} | {_ms(entry['max_ms'])} | "
            f"{entry['errors']} | {queries} | {cpu} |"
        )
    lines += [
        "",
        "| Goal (PostgreSQL, dataset M, one connection) | Measured p99 | Met |",
        "|---|---|---|",
    ]
    for goal in titles.values():
        met = "yes" if goal["met"] else "**no**"
        if goal["met"] and not goal["met_every_round"]:
            met = "yes, pooled (not in every round)"
        lines.append(
            f"| {goal['title']}: p99 ≤ {goal['goal_ms']:g} ms | {_ms(goal['p99_ms'])} ms "
            f"(rounds: {_list(goal['p99_by_round'])}) | {met} |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def record(document: dict[str, Any]) -> dict[str, str]:
    report.RESULTS_DIR.mkdir(exist_ok=True)
    stem = f"{datetime.now(UTC):%Y-%m-%d}-standups"
    path = report.RESULTS_DIR / f"{stem}.json"
    run = 1
    while path.exists():
        run += 1
        path = report.RESULTS_DIR / f"{stem}-{run}.json"
    document["raw"] = f"bench/results/{path.name}"
    path.write_text(json.dumps(slim(document), indent=2, default=str) + "\n")
    section = markdown(document)
    with report.RESULTS_MD.open("a") as out:
        out.write("\n" + section)
    return {"json": str(path), "markdown": section}


def slim(document: dict[str, Any]) -> dict[str, Any]:
    """The document without every single latency (the percentiles stay)."""
    runs = [{k: v for k, v in run.items() if k != "latencies_ms"} for run in document["runs"]]
    return {**document, "runs": runs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.standups", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="Filled with the dataset and project TEAM when they are missing, else reused.",
    )
    parser.add_argument("--size", choices=sorted(LAYERS), default="M")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="Drop and create the database first (PostgreSQL), or delete the SQLite file.",
    )
    parser.add_argument("--anchor", type=date.fromisoformat, default=None)
    parser.add_argument("--rounds", type=int, default=3, help="Repeats of every measurement.")
    parser.add_argument("--seconds", type=float, default=20, help="Per measurement and round.")
    parser.add_argument("--warmup", type=float, default=3, help="Unrecorded, before each.")
    parser.add_argument("--concurrency", default="1,4", help="Connections (comma-separated).")
    parser.add_argument(
        "--only",
        help="Comma-separated: summary, summary_changed, summary_recorded, draft_busy, "
        "draft_member.",
    )
    parser.add_argument(
        "--record", action="store_true", help="Write bench/results/ and append to RESULTS.md."
    )
    parser.add_argument("--json", type=Path, help="Also write the raw figures to this file.")
    args = parser.parse_args(argv)
    options = Options(
        database_url=args.database_url,
        size=args.size,
        fresh=args.fresh,
        anchor=args.anchor,
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        concurrency=tuple(int(c) for c in args.concurrency.split(",")),
        only=tuple(args.only.split(",")) if args.only else None,
    )
    document = asyncio.run(measure(options))
    document["command"] = "python -m bench.standups " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    if args.json:
        args.json.write_text(json.dumps(slim(document), indent=2, default=str) + "\n")
    if args.record:
        written = record(document)
        print(f"Wrote {written['json']} and appended to {report.RESULTS_MD}")
    print(markdown(document))


if __name__ == "__main__":
    main()
