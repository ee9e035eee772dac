"""What items asks of sprints, answered by `takt.sprints` at start-up: a port, not an import.

Items sit below sprints (docs/architecture.md, *Boundaries*), yet an item names its sprint: the
board shows one sprint's items, the filter language finds items by a sprint's name or id and by
`sprint:current`, and the trash decides by the sprint's state where a restored item goes. Items
declares the questions here (`SprintDirectory`); `takt.sprints.subscriptions.connect()` provides
the answers (`provide`), so items never imports sprints. Asking before anything was provided
raises `HookNotConnected`, as a required hook does.

The lookups hand back statements where items nests them in its own SQL (`names`, `active_ids`,
`name_of`), so answering through the port costs no statement more than reading the table
directly: every item answer shows its sprint's name (`name_of`, nested in
`takt.items.repository.item_rows()` and the write context's read) and one item is still one
statement, a page of items one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from takt.core.hooks import HookNotConnected

SprintIdColumn = ColumnElement[str | None] | InstrumentedAttribute[str | None]
"""An item's sprint id column in the enclosing statement (`Item.sprint_id`)."""


class SprintView(Protocol):
    """A sprint, as much of it as items reads (a `takt.sprints` row fits)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> str:
        """planned, active, completed or cancelled."""

    @property
    def completed_at(self) -> datetime | None:
        """When the sprint was completed or cancelled; None while it is planned or active."""


class SprintDirectory(Protocol):
    """The sprint lookups items needs, each one statement or a statement to nest."""

    async def find(
        self, session: AsyncSession, project_id: str, sprint_ids: Sequence[str]
    ) -> Mapping[str, SprintView]:
        """Those of `sprint_ids` that are sprints of the project, by id (one statement), for a
        write that moves an item in or out of them: read as they are now, and kept so until the
        transaction ends (a sprint that completes meanwhile waits for the move, or the move for
        it, and then sees the sprint completed)."""

    def names(self, project_id: str) -> Select[str, str]:
        """A statement of (id, name) for each of the project's sprints."""

    def active_ids(self, project_id: str) -> Select[str]:
        """A statement of the id of the project's active sprint (none or one)."""

    def name_of(self, sprint_id: SprintIdColumn) -> Any:
        """A scalar subquery, correlated to `sprint_id` (an item's sprint id column): the
        sprint's name, NULL when the item is in no sprint."""


_provided: list[SprintDirectory] = []


def provide(directory: SprintDirectory) -> None:
    """Answer items' sprint lookups with `directory` (the wiring does this; again replaces)."""
    _provided[:] = [directory]


def withdraw() -> SprintDirectory | None:
    """Take the directory away (as in a process that never ran the wiring); returns it."""
    previous = _provided[0] if _provided else None
    _provided.clear()
    return previous


def directory() -> SprintDirectory:
    """The provided directory; `HookNotConnected` if the start-up wiring did not run."""
    if not _provided:
        raise HookNotConnected(
            "No sprint directory was provided to takt.items: call takt.wiring.connect() at "
            "start-up."
        )
    return _provided[0]
