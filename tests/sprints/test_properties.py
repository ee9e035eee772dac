"""Property: on every day of any burndown, remaining + completed = scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takt.sprints.timeline import ItemState, Replay, totals

STATUS = ["backlog", "todo", "in_progress", "done", "cancelled"]


class FakeEvent:
    def __init__(
        self,
        type: str,
        subject: str,
        when: datetime,
        data: dict[str, object],
        changes: dict[str, object] | None = None,
    ) -> None:
        self.type, self.subject_id, self.occurred_at = type, subject, when
        self.data, self.changes = data, changes


actions = st.lists(
    st.tuples(
        st.integers(0, 5),  # which item
        st.sampled_from(["estimate", "category", "sprint", "delete"]),
        st.one_of(st.none(), st.sampled_from([0, 1, 2, 3, 5, 8, 13])),
        st.sampled_from(STATUS),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_remaining_plus_completed_is_scope_every_day(steps: list[tuple]) -> None:  # type: ignore[type-arg]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    events: list[FakeEvent] = [
        FakeEvent(
            "item.created",
            f"i{n}",
            start,
            {
                "key": f"K-{n}",
                "title": "t",
                "type": "task",
                "status": "To Do",
                "priority": "none",
                "assignee": None,
                "parent_key": None,
                "labels": [],
                "sprint_id": "S",
                "estimate": 3,
                "category": "todo",
            },
        )
        for n in range(6)
    ]
    for index, (who, what, estimate, category, joins) in enumerate(steps):
        when = start + timedelta(hours=6 * (index + 1))
        changes: dict[str, object] = {}
        if what == "estimate":
            changes = {"estimate": [None, estimate]}
        elif what == "category":
            changes = {"category": [None, category]}
        elif what == "sprint":
            changes = {"sprint_id": [None, "S" if joins else None]}
        kind = "item.deleted" if what == "delete" else "item.updated"
        data: dict[str, object] = {"key": f"K-{who}"}
        if kind == "item.deleted":
            data["title"] = "t"
        events.append(FakeEvent(kind, f"i{who}", when, data, changes or None))
    replay = Replay("S", events)
    for day in range(12):
        counted = totals(replay.until(start + timedelta(days=day + 1)).values())
        assert counted.remaining_points + counted.completed_points == counted.scope_points
        assert counted.remaining_items + counted.completed_items == counted.scope_items
        assert 0 <= counted.remaining_points <= counted.scope_points
        assert 0 <= counted.completed_items <= counted.scope_items


def test_cancelled_items_leave_scope_and_unestimated_count_zero() -> None:
    assert not ItemState(in_sprint=True, category="cancelled").in_scope
    assert ItemState(in_sprint=True, estimate=None, category="todo").points == 0
