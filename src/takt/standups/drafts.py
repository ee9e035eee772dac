"""Drafts: a member's stand-up entry pre-filled from what happened since their last one.

A draft is the lines of a list of **draft sources**. A source is a function of the session and
a `DraftWindow` (the project, the member, the period) that returns `SourceLine`s, each naming
the item and the event it came from; it runs one or two indexed statements, whatever the amount
of history. Sources don't know each other: a higher domain (pull requests, reviews, deployments)
adds its own with `register_source` when it is wired, without touching these.

The same log gives the same draft: lines are ordered by section, time, source and event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.events import EventData, parse_event
from takt.core.time import utcnow
from takt.items.events import CommentCreated, ItemChanges, ItemCreated, ItemUpdated
from takt.standups import blocking
from takt.standups import repository as repo
from takt.standups.calendar import FIRST_DRAFT_WORKING_DAYS
from takt.standups.config import Resolved
from takt.standups.models import StandupEntry
from takt.standups.schemas import MAX_ANSWER_LENGTH

SECTIONS = ("yesterday", "today", "blockers")
# A draft looks back at most this far, however long ago the member's last entry was.
MAX_LOOKBACK = timedelta(days=30)
# Lines one source may contribute (its statement is limited to this many rows, the latest).
MAX_LINES_PER_SOURCE = 100
IN_PROGRESS = ("in_progress", "in_review")
# The first line of a pre-filled answer whose lines don't all fit in one.
_EARLIER = "- … {count} earlier (the draft's `lines` list every one)"
OPEN = ("backlog", "todo", "in_progress", "in_review")


@dataclass(frozen=True)
class DraftWindow:
    """What a source drafts from: the member's events in the project over [since, until)."""

    project_id: str
    project_key: str
    user_id: str
    day: date
    since: datetime
    until: datetime
    # What sources read once for several of them (this module's item sources), by name.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SourceLine:
    """One line of a draft. `summary` is what happened ("In Progress → In Review"); the item's
    title is added when the draft is put together. `suggest` makes the line a suggested blocker
    with that reason."""

    section: str
    kind: str
    summary: str
    item_key: str | None
    event_id: str | None
    occurred_at: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)
    suggest: str | None = None
    # What the suggested blocker waits on, when known: in the shape a blocker's body takes
    # (`{"kind": "item", "item_key": "API-7"}`), so it can be sent back as it is.
    waiting_on: dict[str, str] | None = None


DraftSourceRun = Callable[[AsyncSession, DraftWindow], Awaitable[list[SourceLine]]]


@dataclass(frozen=True)
class DraftSource:
    name: str
    run: DraftSourceRun


_SOURCES: dict[str, DraftSource] = {}


def register_source(source: DraftSource) -> None:
    """Add a draft source (or replace the one of that name: registering again changes nothing,
    as wiring may run more than once). Sources run in the order they were first registered."""
    _SOURCES[source.name] = source


def sources() -> list[DraftSource]:
    return list(_SOURCES.values())


# The sources of work items ------------------------------------------------------------------


# The member's events the three event sources below draft from, read together (one statement):
# each source takes its kind from what the first of them to run read into the window.
_MEMBER_EVENTS: tuple[tuple[str, str | None], ...] = (
    (ItemUpdated.event_type, "status"),
    (ItemCreated.event_type, None),
    (CommentCreated.event_type, None),
)


async def _members_events(
    session: AsyncSession,
    window: DraftWindow,
    declared: type[EventData],
    *,
    changed: str | None = None,
) -> list[Row[Any]]:
    """The member's events of one type in the window, oldest first, at most a source's lines."""
    kind = (declared.event_type, changed)
    found: dict[tuple[str, str | None], list[Row[Any]]] | None = window.shared.get("events")
    if found is None or kind not in found:
        kinds = _MEMBER_EVENTS if kind in _MEMBER_EVENTS else (kind,)
        rows = await repo.actor_events_of_kinds(
            session,
            window.project_id,
            window.user_id,
            kinds,
            window.since,
            window.until,
            limit=MAX_LINES_PER_SOURCE,
        )
        found = window.shared.setdefault("events", {})
        found.update(zip(kinds, rows, strict=True))
    return found[kind]


async def status_moves(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    """Items the member moved: `finished` when the move entered done, `moved` otherwise."""
    rows = await _members_events(session, window, ItemUpdated, changed="status")
    lines = []
    for row in rows:
        data, changes = parse_event(row.type, row.data or {}, row.changes)
        assert isinstance(data, ItemUpdated)
        assert isinstance(changes, ItemChanges)
        if data.reason == "workflow" or changes.status is None:
            continue  # a workflow edit moved it, not the member
        before, after = changes.status
        category = changes.category
        finished = category is not None and category[1] == "done" and category[0] != "done"
        lines.append(
            SourceLine(
                section="yesterday",
                kind="finished" if finished else "moved",
                summary=f"{before or '—'} → {after}",
                item_key=data.key,
                event_id=row.id,
                occurred_at=row.occurred_at,
                detail={"from": before, "to": after},
            )
        )
    return lines


async def created_items(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    rows = await _members_events(session, window, ItemCreated)
    lines = []
    for row in rows:
        data, _ = parse_event(row.type, row.data or {}, row.changes)
        assert isinstance(data, ItemCreated)
        lines.append(
            SourceLine(
                section="yesterday",
                kind="created",
                summary=f"created ({data.type})",
                item_key=data.key,
                event_id=row.id,
                occurred_at=row.occurred_at,
            )
        )
    return lines


async def comments(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    rows = await _members_events(session, window, CommentCreated)
    lines = []
    for row in rows:
        data, _ = parse_event(row.type, row.data or {}, row.changes)
        assert isinstance(data, CommentCreated)
        lines.append(
            SourceLine(
                section="yesterday",
                kind="commented",
                summary="commented",
                item_key=data.key,
                event_id=row.id,
                occurred_at=row.occurred_at,
                detail={"comment_id": data.comment_id},
            )
        )
    return lines


@dataclass(frozen=True)
class _DraftItems:
    """The member's items in progress and flagged blocked, each with the event behind it."""

    working: list[tuple[str, str, str, str]]
    stuck: list[tuple[str, str, str, str | None]]
    working_events: dict[str, tuple[str, datetime]]
    stuck_events: dict[str, tuple[str, datetime]]


async def _items(session: AsyncSession, window: DraftWindow) -> _DraftItems:
    """What `in_progress` and `blocked_items` draft from, read once for both (two statements)."""
    kept = window.shared.get("items")
    if isinstance(kept, _DraftItems):
        return kept
    working, stuck = await repo.draft_items(
        session,
        window.project_id,
        window.user_id,
        in_progress=IN_PROGRESS,
        blocked=OPEN,
        limit=MAX_LINES_PER_SOURCE,
    )
    working_events, stuck_events = await repo.latest_events_changing_each(
        session, [([i[0] for i in working], "status"), ([i[0] for i in stuck], "blocked")]
    )
    found = _DraftItems(working, stuck, working_events, stuck_events)
    window.shared["items"] = found
    return found


async def in_progress(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    """For "today": the member's items in progress or in review now, each with the event that
    put it in its status."""
    items = await _items(session, window)
    lines = []
    for item_id, key, status, category in items.working:
        event_id, at = items.working_events.get(item_id, (None, None))
        lines.append(
            SourceLine(
                section="today",
                kind="in_progress",
                summary=status,
                item_key=key,
                event_id=event_id,
                occurred_at=at,
                detail={"status": status, "category": category},
            )
        )
    return lines


async def blocked_items(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    """The member's unfinished items flagged blocked, each with the event that flagged it and
    what it waits on when an item link says (the unfinished item it is `blocked_by`)."""
    items = await _items(session, window)
    lines = []
    for item_id, key, status, blocked_by in items.stuck:
        event_id, at = items.stuck_events.get(item_id, (None, None))
        lines.append(
            SourceLine(
                section="blockers",
                kind="blocked_item",
                summary=f"blocked ({status})",
                item_key=key,
                event_id=event_id,
                occurred_at=at,
                suggest="The item is flagged blocked.",
                waiting_on={"kind": "item", "item_key": blocked_by} if blocked_by else None,
            )
        )
    return lines


async def raised_blockers(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    """Open blockers the member raised, with the event that raised each."""
    lines = []
    for found in await blocking.open_raised_by(
        session, window.project_id, window.user_id, limit=MAX_LINES_PER_SOURCE
    ):
        lines.append(
            SourceLine(
                section="blockers",
                kind="open_blocker",
                summary=f"blocked: {found.reason}",
                item_key=found.item_key,
                event_id=found.event_id,
                occurred_at=found.raised_at,
                detail={"blocker_id": found.id},
                suggest=found.reason,
                waiting_on=found.waiting_on,
            )
        )
    return lines


for _name, _run in (
    ("items.moved", status_moves),
    ("items.created", created_items),
    ("items.commented", comments),
    ("items.in_progress", in_progress),
    ("items.blocked", blocked_items),
    ("blockers.raised", raised_blockers),
):
    register_source(DraftSource(_name, _run))


# The draft ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftLineData:
    section: str
    kind: str
    text: str
    item_key: str | None
    event_id: str | None
    occurred_at: datetime | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class SuggestionData:
    item_key: str
    reason: str
    source: str
    blocker_id: str | None
    event_id: str | None
    waiting_on: dict[str, str] | None


@dataclass(frozen=True)
class DraftData:
    project_key: str
    day: date
    since: datetime
    until: datetime
    answers: dict[str, str | bool]
    blocked: bool
    lines: list[DraftLineData]
    suggested_blockers: list[SuggestionData]
    entry: tuple[StandupEntry, User] | None


def window_for(config: Resolved, user_id: str, day: date, last: StandupEntry | None) -> DraftWindow:
    """From the member's `last` entry before `day` (its first submission), or the start of the
    working day three working days back; to now, or the end of `day` when it is past. Never
    more than 30 days."""
    calendar = config.calendar
    now = utcnow()
    until = min(now, calendar.start_of(day + timedelta(days=1)))
    if last is not None:
        since = last.submitted_at
    else:
        since = calendar.start_of(calendar.working_days_back(day, FIRST_DRAFT_WORKING_DAYS))
    since = min(max(since, until - MAX_LOOKBACK), until)
    return DraftWindow(
        project_id=config.project.id,
        project_key=config.project.key,
        user_id=user_id,
        day=day,
        since=since,
        until=until,
    )


def _order(line: SourceLine, source_index: int) -> tuple[Any, ...]:
    at = line.occurred_at.timestamp() if line.occurred_at else float("inf")
    return (
        SECTIONS.index(line.section) if line.section in SECTIONS else len(SECTIONS),
        at,
        source_index,
        line.item_key or "",
        line.event_id or "",
    )


def _suggestions(lines: list[SourceLine]) -> list[SuggestionData]:
    """One suggestion per item: an open blocker's (it has an id) rather than the bare flag."""
    chosen: dict[str, SourceLine] = {}
    for line in lines:
        if line.suggest is None or line.item_key is None:
            continue
        held = chosen.get(line.item_key)
        if held is None or ("blocker_id" in line.detail and "blocker_id" not in held.detail):
            chosen[line.item_key] = line
    return [
        SuggestionData(
            item_key=key,
            reason=line.suggest or "",
            source=line.kind,
            blocker_id=line.detail.get("blocker_id"),
            event_id=line.event_id,
            waiting_on=line.waiting_on,
        )
        for key, line in sorted(chosen.items())
    ]


def _answers(config: Resolved, lines: list[DraftLineData], blocked: bool) -> dict[str, str | bool]:
    """A question whose id is a section's (`yesterday`, `today`, `blockers`) is pre-filled with
    that section's lines; a yes-no `blockers` question with whether there is any."""
    answers: dict[str, str | bool] = {}
    for question_id, kind in config.question_kinds.items():
        if question_id not in SECTIONS:
            continue
        if kind == "yes_no":
            if question_id == "blockers":
                answers[question_id] = blocked
            continue
        texts = [f"- {line.text}" for line in lines if line.section == question_id]
        answers[question_id] = _fitted(texts)
    return answers


def _fitted(texts: list[str]) -> str:
    """The lines as one answer that an entry takes (`MAX_ANSWER_LENGTH`), so the draft can be
    sent back as it is: when they don't all fit, the latest that do, after a first line saying
    how many earlier ones the draft's `lines` hold."""
    joined = "\n".join(texts)
    if len(joined) <= MAX_ANSWER_LENGTH:
        return joined
    room = MAX_ANSWER_LENGTH - len(_EARLIER.format(count=len(texts))) - 1
    kept: list[str] = []
    for text in reversed(texts):
        room -= len(text) + 1
        if room < 0:
            break
        kept.append(text)
    return "\n".join([_EARLIER.format(count=len(texts) - len(kept)), *reversed(kept)])


async def build(session: AsyncSession, config: Resolved, user_id: str, day: date) -> DraftData:
    entry, last = await repo.entries_up_to(session, config.project.id, user_id, day)
    window = window_for(config, user_id, day, last)
    found: list[tuple[SourceLine, int]] = []
    for index, source in enumerate(sources()):
        found += [(line, index) for line in await source.run(session, window)]
    found.sort(key=lambda pair: _order(*pair))
    raw = [line for line, _ in found]
    titles = await repo.titles_of(
        session, config.project.id, sorted({line.item_key for line in raw if line.item_key})
    )
    lines = [
        DraftLineData(
            section=line.section,
            kind=line.kind,
            text=_text(line, titles),
            item_key=line.item_key,
            event_id=line.event_id,
            occurred_at=line.occurred_at,
            detail=line.detail,
        )
        for line in raw
    ]
    suggestions = _suggestions(raw)
    return DraftData(
        project_key=config.project.key,
        day=day,
        since=window.since,
        until=window.until,
        answers=_answers(config, lines, bool(suggestions)),
        blocked=bool(suggestions),
        lines=lines,
        suggested_blockers=suggestions,
        entry=entry,
    )


def _text(line: SourceLine, titles: dict[str, str]) -> str:
    if line.item_key is None:
        return line.summary
    title = titles.get(line.item_key)
    head = f"{line.item_key} {title}" if title else line.item_key
    return f"{head}: {line.summary}"
