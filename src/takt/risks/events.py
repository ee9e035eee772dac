"""The events of the risk register: the catalogue's `risk.*`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from takt.core.events import EventChanges, EventData


class RiskCreated(EventData):
    """A risk was added to the register (by hand, or promoted from a blocker)."""

    event_type: ClassVar[str] = "risk.created"
    id: str
    title: str
    likelihood: int = Field(description="1 to 5.")
    impact: int = Field(description="1 to 5.")
    score: int = Field(description="likelihood x impact.")
    severity: str = Field(description="low, medium, high or critical.")
    status: str
    owner: str | None = Field(None, description="The owner's username.")
    blocker_id: str | None = Field(None, description="The blocker it was promoted from.")
    item_keys: list[str] = Field(default_factory=list)
    sprint_ids: list[str] = Field(default_factory=list)


class RiskChanges(EventChanges):
    """The fields a `risk.updated` event may change, each as `[old, new]`."""

    title: tuple[str, str] | None = None
    description: tuple[str, str] | None = None
    likelihood: tuple[int, int] | None = None
    impact: tuple[int, int] | None = None
    score: tuple[int, int] | None = None
    severity: tuple[str, str] | None = None
    owner: tuple[str | None, str | None] | None = Field(None, description="Usernames.")
    mitigation: tuple[str, str] | None = None
    status: tuple[str, str] | None = None
    review_date: tuple[str | None, str | None] | None = Field(None, description="ISO dates.")
    item_keys: tuple[list[str], list[str]] | None = None
    sprint_ids: tuple[list[str], list[str]] | None = None


class RiskUpdated(EventData):
    """A risk changed: its rating, owner, mitigation, status, review date or links."""

    event_type: ClassVar[str] = "risk.updated"
    changes_model: ClassVar[type[EventChanges] | None] = RiskChanges
    id: str


class RiskDeleted(EventData):
    """A risk was taken out of the register (a blocker promoted to it can be promoted again)."""

    event_type: ClassVar[str] = "risk.deleted"
    id: str
    title: str
