"""The events of sprints: the catalogue's `sprint.*`."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from takt.core.events import EventChanges, EventData


class SprintCreated(EventData):
    """A sprint was planned."""

    event_type: ClassVar[str] = "sprint.created"
    id: str
    name: str
    start_date: str = Field(description="ISO date.")
    end_date: str = Field(description="ISO date.")


class SprintChanges(EventChanges):
    """The fields a `sprint.updated` event may change, each as `[old, new]`."""

    name: tuple[str, str] | None = None
    goal: tuple[str | None, str | None] | None = None
    dates: tuple[tuple[str, str], tuple[str, str]] | None = Field(
        None, description="[[old start, old end], [new start, new end]], ISO dates."
    )


class SprintUpdated(EventData):
    """A sprint's name, goal or dates changed."""

    event_type: ClassVar[str] = "sprint.updated"
    changes_model: ClassVar[type[EventChanges] | None] = SprintChanges
    id: str


class SprintDeleted(EventData):
    """A planned or cancelled sprint was deleted (its items went back to the backlog)."""

    event_type: ClassVar[str] = "sprint.deleted"
    id: str
    name: str


class SprintStarted(EventData):
    """A sprint started: its scope at that moment is the commitment."""

    event_type: ClassVar[str] = "sprint.started"
    id: str
    name: str
    committed_items: int
    committed_points: float


class SprintCompleted(EventData):
    """A sprint completed; `report` is its frozen report (as `GET /sprints/{id}/report`)."""

    event_type: ClassVar[str] = "sprint.completed"
    id: str
    name: str
    report: dict[str, Any]


class SprintCancelled(EventData):
    """An active or planned sprint was cancelled."""

    event_type: ClassVar[str] = "sprint.cancelled"
    id: str
    name: str


class SprintScopeChanged(EventData):
    """An item joined or left a sprint. After the start (`after_start`) this is scope change,
    counted with the estimate the item had at that moment."""

    event_type: ClassVar[str] = "sprint.scope_changed"
    sprint_id: str
    key: str
    change: Literal["added", "removed"]
    estimate: float | None
    after_start: bool
    reason: str | None = Field(
        None, description="Why, when not an edit of the item: `carry_over`, `deleted`, …"
    )
