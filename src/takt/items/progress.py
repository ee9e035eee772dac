"""When an item starts and finishes: what entering a status does to started_at and finished_at.

The one rule that a move of one item (`service`) and a workflow edit moving all of a status's
items at once (`repository`, in SQL) both apply, so the two can't disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# finished_at on entry: becomes the moment of entry, stays as it was, or is cleared.
Finish = Literal["finish", "keep", "clear"]


@dataclass(frozen=True)
class EntryMarks:
    """What entering a status does to an item's marks.

    `start`: started_at becomes the moment of entry unless the item has started already: only
    the first entry into in_progress starts it, so an item sent back and taken up again keeps
    the start its cycle time runs from (docs/metrics.md, Flow). `finish`: what becomes of
    finished_at."""

    start: bool
    finish: Finish


def entry_marks(old: str | None, new: str) -> EntryMarks:
    """The marks of an item entering a status of category `new` from one of category `old`
    (None: the item is new). started_at: first entry into in_progress (in_review alone doesn't
    start an item). finished_at: entry into done from any other category; a move between two
    done statuses keeps the finish it had, and any category other than done clears it, so a
    reopened item is not finished until it finishes again."""
    finish: Finish
    if new != "done":
        finish = "clear"
    elif old == "done":
        finish = "keep"
    else:
        finish = "finish"
    return EntryMarks(start=new == "in_progress", finish=finish)
