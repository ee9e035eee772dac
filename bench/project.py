"""One project's seeded history as rows: items created, planned into sprints, moved through the
workflow, finished or carried over; the event log, item columns and frozen sprint reports all
come from that one history, so burndowns, velocity and forecasts agree with the item rows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bench.dataset import (
    BIG,
    CATEGORY,
    CONTEXTS,
    ESTIMATES,
    LABELS,
    OBJECTS,
    PARENT_TYPES,
    SEED,
    SENTENCES,
    SPRINTS,
    TYPES,
    VERBS,
    Size,
    User,
    day_at,
    new_uuid,
)
from takt.items.models import PRIORITIES
from takt.items.ranking import initial_ranks
from takt.projects.schemas import ProjectSettings
from takt.workflow.models import DEFAULT_STATUSES


@dataclass
class Item:
    id: str
    created_at: datetime
    sprint: int | None = None  # index of the sprint it was planned into
    joined_at: datetime | None = None
    added_after_start: bool = False
    fate: str = "open"  # done, cancelled, carried (completed sprints), or a final status name
    number: int = 0
    key: str = ""
    type: str = "task"
    title: str = ""
    status: str = "Backlog"
    assignee: User | None = None
    reporter: User | None = None
    estimate: float | None = None
    priority: int = 0
    parent: Item | None = None
    labels: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    rank: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1
    sprint_id: str | None = None


@dataclass
class Sprint:
    index: int
    id: str
    start: date
    end: date
    active: bool
    items: list[Item] = field(default_factory=list)

    @property
    def started_at(self) -> datetime:
        return day_at(self.start, 9)

    @property
    def completed_at(self) -> datetime:
        return day_at(self.end - timedelta(days=2), 17)  # Friday of the second week

    @property
    def working_days(self) -> int:
        return sum(1 for d in range(14) if (self.start + timedelta(days=d)).weekday() < 5)


class ProjectBuilder:
    """One project's rows, from its own random stream (independent of the other projects)."""

    def __init__(
        self, size: Size, index: int, key: str, people: list[User], anchor: date, seed: int = SEED
    ) -> None:
        self.rng = random.Random(f"{seed}:{key}")  # noqa: S311 (seeded test data)
        self.size = size
        self.key = key
        self.is_big = key == BIG
        self.item_count = size.big_items if self.is_big else size.items_per_project
        self.id = new_uuid(self.rng)
        self.horizon = day_at(anchor, 0)  # every event happens before this instant
        monday = anchor - timedelta(days=7)
        self.active_start = monday - timedelta(days=monday.weekday())
        first_start = self.active_start - timedelta(days=14 * (SPRINTS - 1))
        self.created_at = day_at(first_start - timedelta(days=28), 8)
        login, others = people[0], people[1:]
        team = self.rng.sample(others, min(len(others), 12))
        self.admins = [login, *team[:2]]
        self.members = team[2:10]
        self.viewers = team[10:]
        self.workers = team[:10]
        self.events: list[tuple[datetime, int, dict[str, Any]]] = []
        self.rows: dict[str, list[dict[str, Any]]] = {}

    # Ids and events ---------------------------------------------------------------------------

    def uuid(self) -> str:
        return new_uuid(self.rng)

    def emit(
        self,
        at: datetime,
        type_: str,
        subject: str,
        actor: User | None,
        data: dict[str, Any],
        changes: dict[str, Any] | None = None,
    ) -> None:
        row = {
            "id": self.uuid(),
            "type": type_,
            "project_id": self.id,
            "subject_id": subject,
            "actor_id": actor.id if actor else None,
            "occurred_at": at,
            "data": data,
            "changes": changes,
        }
        self.events.append((at, len(self.events), row))

    def between(self, start: datetime, end: datetime) -> datetime:
        span = max(0.0, (end - start).total_seconds())
        return start + timedelta(seconds=int(self.rng.random() * span))

    # Building ---------------------------------------------------------------------------------

    def build(self) -> dict[str, list[dict[str, Any]]]:
        self._project()
        self.sprints = self._sprints()
        items = self._plan_items()
        self._describe(items)
        for item in items:
            self._history(item)
        self._sprint_rows()
        self._item_rows(items)
        self.events.sort(key=lambda entry: (entry[0], entry[1]))
        self.rows["events"] = [row for _, _, row in self.events]
        return self.rows

    def _project(self) -> None:
        at = self.created_at
        self.rows["projects"] = [
            {
                "id": self.id,
                "key": self.key,
                "name": f"Benchmark project {self.key}",
                "description": "Generated by bench.generate.",
                "settings": ProjectSettings().model_dump(mode="json"),
                "created_by_id": self.admins[0].id,
                "deleted_at": None,
                "item_seq": self.item_count,
                "created_at": at,
                "updated_at": at,
                "version": 1,
            }
        ]
        roles = [(u, "admin") for u in self.admins] + [(u, "member") for u in self.members]
        roles += [(u, "viewer") for u in self.viewers]
        self.rows["project_members"] = [
            {"id": self.uuid(), "project_id": self.id, "user_id": u.id, "role": r, "created_at": at}
            for u, r in roles
        ]
        self.statuses = {name: self.uuid() for name, _ in DEFAULT_STATUSES}
        self.rows["statuses"] = [
            {
                "id": self.statuses[name],
                "project_id": self.id,
                "name": name,
                "category": category,
                "position": position,
                "wip_limit": None,
            }
            for position, (name, category) in enumerate(DEFAULT_STATUSES)
        ]
        self.labels = [(self.uuid(), name, color) for name, color in LABELS]
        self.rows["labels"] = [
            {"id": i, "project_id": self.id, "name": n, "color": c} for i, n, c in self.labels
        ]
        self.emit(at, "project.created", self.id, self.admins[0], {"key": self.key})

    def _sprints(self) -> list[Sprint]:
        sprints = []
        for index in range(SPRINTS):
            start = self.active_start - timedelta(days=14 * (SPRINTS - 1 - index))
            sprints.append(
                Sprint(index, self.uuid(), start, start + timedelta(days=13), index == SPRINTS - 1)
            )
        return sprints

    def _plan_items(self) -> list[Item]:
        """Which item goes into which sprint and how it ends; creation times; then numbers."""
        per_sprint = [self.size.sprint_items] * SPRINTS
        if self.is_big:
            per_sprint[-1] = self.size.big_sprint_items
        items: list[Item] = []
        for sprint, count in zip(self.sprints, per_sprint, strict=True):
            for _ in range(count):
                late = self.rng.random() < 0.1
                if late:
                    joined = sprint.started_at + timedelta(days=1 + self.rng.random() * 5)
                    joined = min(joined, self.horizon - timedelta(hours=2))
                else:
                    joined = sprint.started_at - timedelta(minutes=10 + self.rng.randrange(600))
                item = Item(self.uuid(), self.between(self.created_at, joined - timedelta(hours=1)))
                item.sprint, item.joined_at, item.added_after_start = sprint.index, joined, late
                item.fate = self._fate(sprint)
                items.append(item)
                sprint.items.append(item)
        for _ in range(self.item_count - len(items)):
            created = self.between(self.created_at, self.horizon - timedelta(hours=1))
            item = Item(self.uuid(), created)
            roll = self.rng.random()
            item.fate = "Cancelled" if roll < 0.05 else "Done" if roll < 0.1 else "open"
            items.append(item)
        items.sort(key=lambda i: (i.created_at, i.id))
        for number, item in enumerate(items, start=1):
            item.number, item.key = number, f"{self.key}-{number}"
        return items

    def _fate(self, sprint: Sprint) -> str:
        roll = self.rng.random()
        if not sprint.active:
            return "done" if roll < 0.88 else "cancelled" if roll < 0.9 else "carried"
        for name, share in (("Done", 0.35), ("In Review", 0.5), ("In Progress", 0.75)):
            if roll < share:
                return name
        return "To Do"

    def _describe(self, items: list[Item]) -> None:
        rng = self.rng
        type_names = [t for t, _ in TYPES]
        weights = [w for _, w in TYPES]
        by_type: dict[str, list[Item]] = {t: [] for t in type_names}
        for item, rank in zip(items, self._ranks(len(items)), strict=True):
            item.rank = rank
        for item in items:
            item.type = rng.choices(type_names, weights)[0]
            verb, obj = rng.choice(VERBS), rng.choice(OBJECTS)
            item.title = f"{verb} {obj} {rng.choice(CONTEXTS)}".strip()
            item.status = "Backlog" if rng.random() < 0.7 else "To Do"
            item.assignee = rng.choice(self.workers) if rng.random() < 0.75 else None
            item.reporter = rng.choice(self.workers)
            item.estimate = rng.choice(ESTIMATES) if rng.random() < 0.9 else None
            item.priority = rng.choices(range(len(PRIORITIES)), (30, 25, 25, 15, 5))[0]
            count = rng.choice((0, 1, 1, 2, 3))
            item.labels = [(i, n) for i, n, _ in rng.sample(self.labels, count)]
            allowed = PARENT_TYPES.get(item.type, ())
            if allowed and rng.random() < 0.1:
                candidates = [p for t in allowed for p in by_type[t][-50:]]
                item.parent = rng.choice(candidates) if candidates else None
            by_type[item.type].append(item)

    def _ranks(self, count: int) -> list[str]:
        ranks = initial_ranks(count)
        self.rng.shuffle(ranks)
        return ranks

    def _history(self, item: Item) -> None:
        """Events of one item and its final columns."""
        self.emit(
            item.created_at,
            "item.created",
            item.id,
            item.reporter,
            {
                "key": item.key,
                "title": item.title,
                "type": item.type,
                "status": item.status,
                "category": CATEGORY[item.status],
                "priority": PRIORITIES[item.priority],
                "estimate": item.estimate,
                "assignee": item.assignee.username if item.assignee else None,
                "parent_key": item.parent.key if item.parent else None,
                "sprint_id": None,
                "labels": sorted(name for _, name in item.labels),
            },
        )
        item.updated_at = item.created_at
        if item.sprint is None:
            self._backlog_history(item)
        else:
            self._sprint_history(item, self.sprints[item.sprint])
        self._comments(item)

    def _update(self, item: Item, at: datetime, changes: dict[str, Any]) -> None:
        actor = item.assignee or item.reporter
        self.emit(at, "item.updated", item.id, actor, {"key": item.key}, changes)
        item.updated_at = at
        item.version += 1

    def _move(self, item: Item, at: datetime, status: str) -> None:
        old = item.status
        if old == status:
            return
        self._update(
            item, at, {"status": [old, status], "category": [CATEGORY[old], CATEGORY[status]]}
        )
        item.status = status
        if status == "In Progress" and item.started_at is None:
            item.started_at = at
        item.finished_at = (item.finished_at or at) if status == "Done" else None

    def _walk(self, item: Item, start: datetime, end: datetime, path: list[str]) -> None:
        """Moves through `path` at increasing random moments between `start` and `end`."""
        moments = sorted(self.between(start, end) for _ in path)
        for at, status in zip(moments, path, strict=True):
            self._move(item, at, status)

    def _backlog_history(self, item: Item) -> None:
        end = self.horizon - timedelta(minutes=5)
        if item.fate == "Cancelled":
            self._walk(item, item.created_at, end, ["Cancelled"])
        elif item.fate == "Done":
            self._walk(item, item.created_at, end, ["In Progress", "Done"])

    def _scope(
        self, item: Item, sprint: Sprint, at: datetime, change: str, reason: str | None
    ) -> None:
        self.emit(
            at,
            "sprint.scope_changed",
            item.id,
            item.assignee or item.reporter,
            {
                "sprint_id": sprint.id,
                "key": item.key,
                "change": change,
                "estimate": item.estimate,
                "after_start": at >= sprint.started_at,
                "reason": reason,
            },
        )

    def _sprint_history(self, item: Item, sprint: Sprint) -> None:
        assert item.joined_at is not None
        joined = item.joined_at
        self._update(item, joined, {"sprint_id": [None, sprint.id]})
        self._scope(item, sprint, joined, "added", None)
        item.sprint_id = sprint.id
        self._move(item, joined + timedelta(minutes=1), "To Do")
        work_from = max(joined, sprint.started_at) + timedelta(minutes=2)
        work_until = (
            self.horizon - timedelta(minutes=5)
            if sprint.active
            else sprint.completed_at - timedelta(hours=1)
        )
        paths = {
            "done": ["In Progress", "In Review", "Done"],
            "Done": ["In Progress", "In Review", "Done"],
            "In Review": ["In Progress", "In Review"],
            "In Progress": ["In Progress"],
            "cancelled": ["Cancelled"],
            "carried": ["In Progress"] if self.rng.random() < 0.5 else [],
        }
        self._walk(item, work_from, work_until, paths.get(item.fate, []))
        if item.fate == "carried":
            # The app moves unfinished items out just after it takes the completion instant.
            at = sprint.completed_at + timedelta(milliseconds=1)
            self._update(item, at, {"sprint_id": [sprint.id, None]})
            self._scope(item, sprint, at, "removed", "carry-over")
            item.sprint_id = None

    def _comments(self, item: Item) -> None:
        rows = self.rows.setdefault("comments", [])
        for n in range(3):
            at = min(item.created_at + timedelta(hours=1 + 5 * n), self.horizon)
            rows.append(
                {
                    "id": self.uuid(),
                    "item_id": item.id,
                    "author_id": self.rng.choice(self.workers).id,
                    "body": self.rng.choice(SENTENCES),
                    "mention_ids": [],
                    "created_at": at,
                    "updated_at": at,
                }
            )

    def _sprint_rows(self) -> None:
        rows = self.rows.setdefault("sprints", [])
        team_size = len(self.admins) + len(self.members)  # viewers carry no capacity
        for sprint in self.sprints:
            committed = sorted(
                (i for i in sprint.items if not i.added_after_start), key=lambda i: (i.rank, i.id)
            )
            commitment = [
                {"item_id": i.id, "key": i.key, "estimate": i.estimate} for i in committed
            ]
            created = day_at(sprint.start - timedelta(days=7), 10)
            name = f"Sprint {sprint.index + 1}"
            actor = self.admins[0]
            self.emit(created, "sprint.created", sprint.id, actor, {"id": sprint.id, "name": name})
            points = round(sum(i.estimate or 0 for i in committed), 4)
            self.emit(
                sprint.started_at,
                "sprint.started",
                sprint.id,
                actor,
                {
                    "id": sprint.id,
                    "name": name,
                    "committed_items": len(committed),
                    "committed_points": points,
                },
            )
            report = None
            if not sprint.active:
                report = _report(sprint, committed, person_days=team_size * sprint.working_days)
                self.emit(
                    sprint.completed_at + timedelta(milliseconds=2),
                    "sprint.completed",
                    sprint.id,
                    actor,
                    {"id": sprint.id, "name": name, "report": report},
                )
            rows.append(
                {
                    "id": sprint.id,
                    "project_id": self.id,
                    "name": name,
                    "goal": f"Ship the {OBJECTS[sprint.index % len(OBJECTS)]} work",
                    "start_date": sprint.start,
                    "end_date": sprint.end,
                    "state": "active" if sprint.active else "completed",
                    "started_at": sprint.started_at,
                    "completed_at": None if sprint.active else sprint.completed_at,
                    "commitment": commitment,
                    "report": report,
                    "created_at": created,
                    "updated_at": sprint.started_at if sprint.active else sprint.completed_at,
                    "version": 2 if sprint.active else 3,
                }
            )

    def _item_rows(self, items: list[Item]) -> None:
        self.rows["items"] = [
            {
                "id": i.id,
                "project_id": self.id,
                "number": i.number,
                "key": i.key,
                "type": i.type,
                "title": i.title,
                "description": " ".join(self.rng.sample(SENTENCES, 3)),
                "status_id": self.statuses[i.status],
                "priority": i.priority,
                "assignee_id": i.assignee.id if i.assignee else None,
                "reporter_id": i.reporter.id if i.reporter else None,
                "estimate": i.estimate,
                "parent_id": i.parent.id if i.parent else None,
                "sprint_id": i.sprint_id,
                "due_date": None,
                "blocked": self.rng.random() < 0.03,
                "rank": i.rank,
                "started_at": i.started_at,
                "finished_at": i.finished_at,
                "created_at": i.created_at,
                "updated_at": i.updated_at,
                "version": i.version,
            }
            for i in items
        ]
        self.rows["item_labels"] = [
            {"item_id": i.id, "label_id": label_id} for i in items for label_id, _ in i.labels
        ]


def _tally(items: list[Item]) -> dict[str, Any]:
    return {"items": len(items), "points": round(sum(i.estimate or 0 for i in items), 4)}


def _report(sprint: Sprint, committed: list[Item], *, person_days: int) -> dict[str, Any]:
    """The frozen report (takt.sprints.schemas.SprintReport), as complete_sprint computes it."""
    in_scope = [i for i in sprint.items if i.fate != "cancelled"]
    done = [i for i in in_scope if i.fate == "done"]
    carried = [i for i in in_scope if i.fate == "carried"]
    added = [i for i in sprint.items if i.added_after_start]
    committed_points = sum(i.estimate or 0 for i in committed)
    committed_done = sum(i.estimate or 0 for i in committed if i.fate == "done")

    def ratio(value: float) -> float | None:
        return round(value / committed_points, 4) if committed_points else None

    added_points = sum(i.estimate or 0 for i in added)
    return {
        "committed": _tally(committed),
        "completed": _tally(done),
        "added": _tally(added),
        "removed": {"items": 0, "points": 0},
        "carried_over": _tally(carried),
        "say_do_ratio": ratio(committed_done),
        "scope_change": ratio(added_points),
        "carry_over_rate": ratio(sum(i.estimate or 0 for i in carried)),
        "unestimated": sum(1 for i in in_scope if i.estimate is None),
        "person_days": float(person_days),
        "carried_over_to": "backlog",
    }
