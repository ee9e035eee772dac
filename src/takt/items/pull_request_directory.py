"""What items asks of delivery, answered by `takt.delivery` at start-up: a port, not an import.

Items sit below delivery (docs/architecture.md, *Boundaries*), yet every item answer shows a
summary of the pull requests that name it: how many are in each state (`draft`, `open`,
`approved`, `changes_requested`, `merged`, `closed`). Items declares the question here
(`PullRequestDirectory`); `takt.delivery.subscriptions.connect()` provides the answer
(`provide`), so items never imports delivery. Asking before anything was provided raises
`HookNotConnected`, as a required hook does.

The answer is a statement items nests in its own SQL (`states`, a scalar subquery correlated to
the item's id, in `takt.items.repository.item_rows()` and the write context's read), so the
summary costs no statement more: one item is still one statement, a page of items one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from takt.core.hooks import HookNotConnected

ItemIdColumn = ColumnElement[str] | InstrumentedAttribute[str]
"""An item's id column in the enclosing statement (`Item.id`, or an alias's)."""

PULL_REQUEST_STATES = ("draft", "open", "approved", "changes_requested", "merged", "closed")
"""The states a pull request is in, in the order the summary shows them."""

SEPARATOR = ","
"""Joins the states of an item's pull requests in the nested column (a state has no comma)."""


class PullRequestDirectory(Protocol):
    """The pull-request lookup items needs: a statement to nest."""

    def states(self, item_id: ItemIdColumn) -> Any:
        """A scalar subquery, correlated to `item_id` (an item's id column): the states of the
        pull requests that name the item, joined by `SEPARATOR`, or NULL when none does."""


_provided: list[PullRequestDirectory] = []


def provide(directory: PullRequestDirectory) -> None:
    """Answer items' pull-request lookup with `directory` (the wiring does this; again
    replaces)."""
    _provided[:] = [directory]


def withdraw() -> PullRequestDirectory | None:
    """Take the directory away (as in a process that never ran the wiring); returns it."""
    previous = _provided[0] if _provided else None
    _provided.clear()
    return previous


def directory() -> PullRequestDirectory:
    """The provided directory; `HookNotConnected` if the start-up wiring did not run."""
    if not _provided:
        raise HookNotConnected(
            "No pull-request directory was provided to takt.items: call takt.wiring.connect() "
            "at start-up."
        )
    return _provided[0]


def summary(states: str | None) -> Mapping[str, int]:
    """The count of pull requests in each state, every state present (all zeros with none),
    from the nested column's value."""
    counts = dict.fromkeys(PULL_REQUEST_STATES, 0)
    if states:
        for state in states.split(SEPARATOR):
            if state in counts:
                counts[state] += 1
    return counts
