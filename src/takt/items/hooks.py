"""Where higher domains act when an item changes, in its transaction (see `takt.core.hooks`):
sprints check a move between sprints and record it as a change of their scope; blockers keep
the `blocked` flag set while one of the item's blockers is open."""

from __future__ import annotations

from dataclasses import dataclass

from takt.core.hooks import Hook
from takt.items.models import Item
from takt.items.sprint_directory import SprintView
from takt.projects.policies import ProjectAccess


@dataclass(frozen=True)
class SprintChanging:
    """An item (new, or `item`) is about to leave the sprint `left` and/or enter the sprint
    `joined_id` (None: it goes to the backlog). The sprints are as the directory found them in
    the item's project: `joined` is None when `joined_id` names none of its sprints."""

    access: ProjectAccess
    item: Item | None
    left: SprintView | None
    joined_id: str | None
    joined: SprintView | None


@dataclass(frozen=True)
class SprintChanged:
    """`item` left the scope of the sprint `left` and/or entered that of `joined` (with its key
    and estimate as they are now). Besides a change of `sprint_id`, deleting an item takes it
    out of a planned or active sprint's scope and restoring it brings it back, with its
    `sprint_id` unchanged. `reason` says why, when it was not a plain edit: `deleted`,
    `restored`, `carry-over`, `sprint deleted`, `sprint cancelled`."""

    access: ProjectAccess
    item: Item
    left: SprintView | None
    joined: SprintView | None
    reason: str | None = None


sprint_changing = Hook[SprintChanging]("items.sprint_changing", required=True)
"""Fired before the item's sprint changes. Required: a sprint decides who may leave or join it
(`takt.sprints`: a completed sprint keeps its items; only a planned or active one takes more)."""

sprint_changed = Hook[SprintChanged]("items.sprint_changed", required=True)
"""Fired after the change (and after the item's own event). Required: the sprint records it as
`sprint.scope_changed` (`takt.sprints`), or its burndown would miss the change."""


@dataclass(frozen=True)
class BlockedClearing:
    """`item`'s `blocked` flag is about to be cleared (set from true to false) by an update."""

    access: ProjectAccess
    item: Item


blocked_clearing = Hook[BlockedClearing]("items.blocked_clearing", required=True)
"""Fired before an update clears an item's `blocked` flag, whoever sends it (a PATCH, a bulk
edit, a service). Required: the flag says an open blocker exists (`takt.blockers`), which
refuses to let it go by hand while one is open; resolving the last blocker clears it."""
