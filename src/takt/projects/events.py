"""The events of projects and their members: the catalogue's `project.*` and `member.*`."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from takt.core.events import EventChanges, EventData


class ProjectCreated(EventData):
    """A project was created (by import too: then `imported` events follow)."""

    event_type: ClassVar[str] = "project.created"
    key: str
    name: str


class ProjectChanges(EventChanges):
    """The fields a `project.updated` event may change, each as `[old, new]`."""

    name: tuple[str, str] | None = None
    description: tuple[str | None, str | None] | None = None
    settings: tuple[dict[str, Any], dict[str, Any]] | None = None


class ProjectUpdated(EventData):
    """A project's name, description or settings changed."""

    event_type: ClassVar[str] = "project.updated"
    changes_model: ClassVar[type[EventChanges] | None] = ProjectChanges
    key: str


class ProjectDeleted(EventData):
    """A project was deleted (an instance admin can restore it)."""

    event_type: ClassVar[str] = "project.deleted"
    key: str


class ProjectRestored(EventData):
    """A deleted project was restored."""

    event_type: ClassVar[str] = "project.restored"
    key: str


class MemberAdded(EventData):
    """Someone joined the project with a role."""

    event_type: ClassVar[str] = "member.added"
    user_id: str
    username: str
    role: str


class RoleChanges(EventChanges):
    """A member's change of role."""

    role: tuple[str, str] | None = None


class MemberRoleChanged(EventData):
    """A member's role changed (`from` → `to`)."""

    event_type: ClassVar[str] = "member.role_changed"
    changes_model: ClassVar[type[EventChanges] | None] = RoleChanges
    user_id: str
    username: str
    from_: str = Field(alias="from")
    to: str


class MemberRemoved(EventData):
    """Someone left the project."""

    event_type: ClassVar[str] = "member.removed"
    user_id: str
    username: str
    role: str
