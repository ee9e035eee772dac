"""The one rule of when an item starts and finishes (`takt.items.progress`), over every move
between the workflow's categories and every category a new item can be created in. A move of
one item and a workflow edit's bulk move both apply it: tests/items/test_items.py and
tests/metrics/test_flow_workflow_edits.py check each does."""

from __future__ import annotations

import pytest

from takt.items.progress import EntryMarks, entry_marks
from takt.workflow.models import CATEGORIES

# What entering each category does, coming from any other category or as a new item.
ENTERING = {
    "backlog": EntryMarks(start=False, finish="clear"),
    "todo": EntryMarks(start=False, finish="clear"),
    "in_progress": EntryMarks(start=True, finish="clear"),
    "in_review": EntryMarks(start=False, finish="clear"),
    "done": EntryMarks(start=False, finish="finish"),
    "cancelled": EntryMarks(start=False, finish="clear"),
}
# Every (old, new) but a move between two done statuses; None: a new item.
ENTRIES = [
    (old, new) for old in (None, *CATEGORIES) for new in CATEGORIES if not old == new == "done"
]


def test_the_table_names_every_category() -> None:
    assert set(ENTERING) == set(CATEGORIES)


@pytest.mark.parametrize(("old", "new"), ENTRIES)
def test_entering_a_category_marks_the_item_as_the_table_says(old: str | None, new: str) -> None:
    assert entry_marks(old, new) == ENTERING[new]


def test_moving_between_done_statuses_keeps_the_finish() -> None:
    """The item finished when it first entered done; a move within done is no new finish."""
    assert entry_marks("done", "done") == EntryMarks(start=False, finish="keep")
