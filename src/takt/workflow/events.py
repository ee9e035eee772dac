"""The events of a project's workflow: the catalogue's `status.*` and `label.*`."""

from __future__ import annotations

from typing import ClassVar

from takt.core.events import EventChanges, EventData


class StatusCreated(EventData):
    """A status was added to the workflow."""

    event_type: ClassVar[str] = "status.created"
    id: str
    name: str
    category: str


class StatusChanges(EventChanges):
    """The fields a `status.updated` event may change, each as `[old, new]`."""

    name: tuple[str, str] | None = None
    category: tuple[str, str] | None = None
    wip_limit: tuple[int | None, int | None] | None = None
    position: tuple[int, int] | None = None


class StatusUpdated(EventData):
    """A status was renamed, recategorised, reordered or given a WIP limit."""

    event_type: ClassVar[str] = "status.updated"
    changes_model: ClassVar[type[EventChanges] | None] = StatusChanges
    id: str
    name: str


class StatusDeleted(EventData):
    """A status was deleted; its items moved to `moved_to`."""

    event_type: ClassVar[str] = "status.deleted"
    id: str
    name: str
    moved_items: int
    moved_to: str | None


class LabelCreated(EventData):
    """A label was added to the project."""

    event_type: ClassVar[str] = "label.created"
    id: str
    name: str
    color: str | None


class LabelChanges(EventChanges):
    """The fields a `label.updated` event may change."""

    name: tuple[str, str] | None = None
    color: tuple[str | None, str | None] | None = None


class LabelUpdated(EventData):
    """A label was renamed or recoloured."""

    event_type: ClassVar[str] = "label.updated"
    changes_model: ClassVar[type[EventChanges] | None] = LabelChanges
    id: str
    name: str


class LabelDeleted(EventData):
    """A label was deleted (and taken off its items)."""

    event_type: ClassVar[str] = "label.deleted"
    id: str
    name: str
