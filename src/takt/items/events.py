"""The events of work items, their links and comments: the catalogue's `item.*` and `comment.*`."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from takt.core.events import EventChanges, EventData

Pair = tuple[Any, Any]


class ItemChanges(EventChanges):
    """The fields an `item.updated` event may change, each as `[old, new]`."""

    title: tuple[str, str] | None = None
    description: tuple[str | None, str | None] | None = None
    type: tuple[str, str] | None = None
    blocked: tuple[bool, bool] | None = None
    estimate: tuple[float | None, float | None] | None = Field(
        None, description="Story points before and after."
    )
    due_date: tuple[str | None, str | None] | None = Field(None, description="ISO dates.")
    priority: tuple[str, str] | None = None
    status: tuple[str | None, str] | None = Field(None, description="Status names.")
    category: tuple[str | None, str] | None = Field(
        None, description="Status categories (backlog, todo, in_progress, done)."
    )
    assignee: tuple[str | None, str | None] | None = Field(None, description="Usernames.")
    parent_key: tuple[str | None, str | None] | None = None
    sprint_id: tuple[str | None, str | None] | None = None
    labels: tuple[list[str], list[str]] | None = None
    dor_checked: tuple[list[str], list[str]] | None = Field(
        None,
        description="The Definition of Ready entries ticked on the item (entry ids, "
        "`PUT /items/{item_key}/readiness`).",
    )


class ItemCreated(EventData):
    """A work item was created; `data` is the item as it was created."""

    event_type: ClassVar[str] = "item.created"
    key: str
    title: str
    type: str
    status: str
    category: str
    priority: str
    estimate: float | None
    assignee: str | None = Field(description="Username.")
    parent_key: str | None
    sprint_id: str | None
    labels: list[str]


class ItemUpdated(EventData):
    """Fields of a work item changed: `changes` lists each as `[old, new]`. `reason` is set when
    the change came from something else than an edit of the item (`workflow`: its status's
    category changed or its status was deleted; `review-automation`: the review automation moved
    it, and the actor is the automation's id, `takt-automation`, no account)."""

    event_type: ClassVar[str] = "item.updated"
    changes_model: ClassVar[type[EventChanges] | None] = ItemChanges
    key: str
    reason: Literal["workflow", "review-automation"] | None = Field(
        None,
        description="Why, when not an edit of the item by someone: `workflow` (its status was "
        "recategorised or deleted in the workflow) or `review-automation` (a pull request "
        "naming the item was opened or merged, and the project's review automation moved it).",
        examples=["review-automation"],
    )


class ItemDeleted(EventData):
    """A work item went to the trash (restorable for 30 days)."""

    event_type: ClassVar[str] = "item.deleted"
    key: str
    title: str
    sprint_id: str | None = Field(
        None, description="The sprint it was in (kept, so a restore knows where it came from)."
    )


class ItemRestored(EventData):
    """A work item came back from the trash."""

    event_type: ClassVar[str] = "item.restored"
    changes_model: ClassVar[type[EventChanges] | None] = ItemChanges
    key: str
    title: str
    sprint_id: str | None = Field(
        None,
        description="The sprint it is back in; null when it returned to the backlog (its sprint "
        "ended while it was in the trash; `changes.sprint_id` then says so).",
    )


class RankChanges(EventChanges):
    """A move's change of rank."""

    rank: tuple[str, str] | None = None


class ItemMoved(EventData):
    """A work item moved in the backlog order, before or after another."""

    event_type: ClassVar[str] = "item.moved"
    changes_model: ClassVar[type[EventChanges] | None] = RankChanges
    key: str
    before: str | None
    after: str | None


class ItemLinked(EventData):
    """A link between two items was made; `type` is as seen from `key`."""

    event_type: ClassVar[str] = "item.linked"
    key: str
    type: str
    target: str
    link_id: str


class ItemUnlinked(EventData):
    """A link between two items was removed; `type` is as seen from `key`."""

    event_type: ClassVar[str] = "item.unlinked"
    key: str
    type: str
    target: str


class CommentCreated(EventData):
    """A comment was added to an item (`body`: its first 500 characters)."""

    event_type: ClassVar[str] = "comment.created"
    key: str
    comment_id: str
    body: str


class BodyChanges(EventChanges):
    """A comment's edit (first 500 characters of each version)."""

    body: tuple[str, str] | None = None


class CommentUpdated(EventData):
    """A comment was edited."""

    event_type: ClassVar[str] = "comment.updated"
    changes_model: ClassVar[type[EventChanges] | None] = BodyChanges
    key: str
    comment_id: str


class CommentDeleted(EventData):
    """A comment was deleted."""

    event_type: ClassVar[str] = "comment.deleted"
    key: str
    comment_id: str


class CommentMentioned(EventData):
    """Someone was @mentioned in a comment (once per person and comment)."""

    event_type: ClassVar[str] = "comment.mentioned"
    key: str
    comment_id: str
    user_id: str
    username: str
