"""Replaying the event log: where each item stood (in the sprint? estimate? category?) at any
moment. Pure functions over event-like records, so the numbers can be checked by hand."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from takt.core.events import parse_event
from takt.items.events import ItemChanges, ItemCreated, ItemDeleted, ItemRestored, ItemUpdated


class EventLike(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def subject_id(self) -> str | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def data(self) -> dict[str, Any]: ...
    @property
    def changes(self) -> dict[str, Any] | None: ...


@dataclass
class ItemState:
    key: str = ""
    in_sprint: bool = False
    estimate: float | None = None
    category: str | None = None

    @property
    def in_scope(self) -> bool:
        """Cancelled items leave scope (docs/metrics.md)."""
        return self.in_sprint and self.category != "cancelled"

    @property
    def done(self) -> bool:
        return self.category == "done"

    @property
    def points(self) -> float:
        return self.estimate or 0.0


def apply(state: ItemState, event: EventLike, sprint_id: str) -> None:
    """Move `state` past one event of its item, read through the event catalogue's models."""
    if event.type not in _REPLAYED:
        return
    data, changes = parse_event(event.type, event.data or {}, event.changes)
    if isinstance(data, ItemCreated):
        state.key = data.key
        state.in_sprint = data.sprint_id == sprint_id
        state.estimate = data.estimate
        state.category = data.category
    elif isinstance(data, ItemUpdated) and isinstance(changes, ItemChanges):
        if changes.sprint_id is not None:
            state.in_sprint = changes.sprint_id[1] == sprint_id
        if changes.estimate is not None:
            state.estimate = changes.estimate[1]
        if changes.category is not None:
            state.category = changes.category[1]
    elif isinstance(data, ItemDeleted):
        state.in_sprint = False
    elif isinstance(data, ItemRestored):
        # Back from the trash, into the sprint it names (None when it returned to the backlog).
        state.in_sprint = data.sprint_id == sprint_id


# The event types that move an item's sprint, estimate or category.
_REPLAYED = frozenset(t.event_type for t in (ItemCreated, ItemUpdated, ItemDeleted, ItemRestored))


@dataclass
class Totals:
    scope_points: float = 0.0
    scope_items: int = 0
    remaining_points: float = 0.0
    remaining_items: int = 0
    unestimated: int = 0

    @property
    def completed_points(self) -> float:
        return self.scope_points - self.remaining_points

    @property
    def completed_items(self) -> int:
        return self.scope_items - self.remaining_items


def totals(states: Iterable[ItemState]) -> Totals:
    result = Totals()
    for state in states:
        if not state.in_scope:
            continue
        result.scope_items += 1
        result.scope_points += state.points
        if state.estimate is None:
            result.unestimated += 1
        if not state.done:
            result.remaining_items += 1
            result.remaining_points += state.points
    return result


@dataclass
class Replay:
    """Steps through events in order, answering "as of" questions along the way."""

    sprint_id: str
    events: Sequence[EventLike]
    states: dict[str, ItemState] = field(default_factory=dict)
    position: int = 0

    def until(self, moment: datetime) -> dict[str, ItemState]:
        """Apply every event before `moment` (moments must not go backwards)."""
        while self.position < len(self.events):
            event = self.events[self.position]
            if event.occurred_at >= moment:
                break
            if event.subject_id:
                state = self.states.setdefault(event.subject_id, ItemState())
                apply(state, event, self.sprint_id)
            self.position += 1
        return self.states


def ideal_line(start_remaining: float, days: int) -> list[float]:
    """The ideal remaining on each of `days` working days, `I(k) = R(start) x (1 - k/K)`
    (docs/metrics.md): the first day carries the remaining points at the start, and each day after
    takes off an even share."""
    if days <= 0:
        return []
    return [round(start_remaining * (1 - k / days), 4) for k in range(days)]


def percentile_nearest_rank(sorted_values: Sequence[int], percent: float) -> int:
    """The nearest-rank percentile of an ascending list."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def daily_counts(days: Sequence[date], finished_on: Iterable[date]) -> list[int]:
    """Items finished on each day of `days` (zero days included)."""
    index = {day: i for i, day in enumerate(days)}
    counts = [0] * len(days)
    for day in finished_on:
        if day in index:
            counts[index[day]] += 1
    return counts
