"""The events of blockers: the catalogue's `blocker.*`."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from takt.core.events import EventChanges, EventData

WAITING_ON_DOC = (
    "Whom or what it waits on: `{kind, user}` (a username) for a person, `{kind, name}` for a "
    "team or an outside party, `{kind, item_key}` for an item."
)


class BlockerRaised(EventData):
    """A blocker was raised on an item (which is then flagged `blocked`)."""

    event_type: ClassVar[str] = "blocker.raised"
    id: str
    item_key: str
    reason: str
    waiting_on: dict[str, Any] = Field(description=WAITING_ON_DOC)


class BlockerChanges(EventChanges):
    """The fields a `blocker.updated` event may change, each as `[old, new]`."""

    reason: tuple[str, str] | None = None
    waiting_on: tuple[dict[str, Any], dict[str, Any]] | None = Field(
        None, description=WAITING_ON_DOC
    )
    risk_id: tuple[str | None, str | None] | None = Field(
        None, description="The risk it was promoted to (null once that risk is deleted)."
    )


class BlockerUpdated(EventData):
    """An open blocker's reason or what it waits on changed, or its risk was deleted."""

    event_type: ClassVar[str] = "blocker.updated"
    changes_model: ClassVar[type[EventChanges] | None] = BlockerChanges
    id: str
    item_key: str


class BlockerResolved(EventData):
    """A blocker was resolved; when it was the item's last open one, the item's `blocked`
    flag was cleared."""

    event_type: ClassVar[str] = "blocker.resolved"
    id: str
    item_key: str
    age_working_hours: float = Field(description="From raised to resolved.")
    resolution: str = ""


class BlockerEscalated(EventData):
    """An open blocker grew older than the project's threshold (`blocker_escalation_hours`);
    written once per blocker, by the worker's sweep. It says what the blocker is about, so a
    channel that receives it needs nothing else (events written before 2026-11-27 lack
    `reason`, `waiting_on` and `raised_by`)."""

    event_type: ClassVar[str] = "blocker.escalated"
    id: str
    item_key: str
    age_working_hours: float = Field(description="From raised to the sweep, in working hours.")
    threshold_hours: float = Field(description="The project's `blocker_escalation_hours`.")
    reason: str | None = Field(None, description="Why the item is blocked.")
    waiting_on: dict[str, Any] | None = Field(None, description=WAITING_ON_DOC)
    raised_by: str | None = Field(
        None, description="Username of who raised it (null once that account is deleted)."
    )


class BlockerPromoted(EventData):
    """A blocker was promoted to a risk of the register (`risk.created` names the same
    blocker)."""

    event_type: ClassVar[str] = "blocker.promoted"
    id: str
    item_key: str
    risk_id: str
