"""What sprints asks of deployments, answered by `takt.readiness` at start-up: a port, not an
import.

The sprint review lists the sprint's done items as "in production" or "done, not yet in
production" (`GET /sprints/{sprint_id}/review`), yet sprints sit below deployments (docs/
architecture.md, *Boundaries*). Sprints declares the question here (`ReleaseDirectory`);
`takt.readiness.subscriptions.connect()` provides the answer (`provide`), so sprints never
imports deployments. Asking before anything was provided raises `HookNotConnected`, as a
required hook does.

The answer is a statement sprints nests in its own SQL (`in_production_since`, a scalar subquery
correlated to the item's id), so the review stays one statement whatever the sprint's size.
"""

from __future__ import annotations

from typing import Any, Protocol

from takt.core.hooks import HookNotConnected
from takt.items.pull_request_directory import ItemIdColumn

IN_PRODUCTION = "in production"
NOT_IN_PRODUCTION = "done, not yet in production"


class ReleaseDirectory(Protocol):
    """The release lookup sprints needs: a statement to nest."""

    def in_production_since(self, item_id: ItemIdColumn) -> Any:
        """A scalar subquery, correlated to `item_id` (an item's id column): when a successful
        deployment to an environment of type `production` first shipped the item (its
        `deployment_items` name it), or NULL when none did."""


_provided: list[ReleaseDirectory] = []


def provide(directory: ReleaseDirectory) -> None:
    """Answer sprints' release lookup with `directory` (the wiring does this; again replaces)."""
    _provided[:] = [directory]


def withdraw() -> ReleaseDirectory | None:
    """Take the directory away (as in a process that never ran the wiring); returns it."""
    previous = _provided[0] if _provided else None
    _provided.clear()
    return previous


def directory() -> ReleaseDirectory:
    """The provided directory; `HookNotConnected` if the start-up wiring did not run."""
    if not _provided:
        raise HookNotConnected(
            "No release directory was provided to takt.sprints: call takt.wiring.connect() "
            "at start-up."
        )
    return _provided[0]
