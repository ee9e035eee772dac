"""Stand-up rows and reports to the API's response shapes."""

from __future__ import annotations

from typing import Any, Protocol

from takt.auth.schemas import UserSummary
from takt.blockers.views import blocker_datas_of
from takt.standups.config import Resolved
from takt.standups.drafts import DraftData
from takt.standups.models import StandupEntry
from takt.standups.schemas import EntryRead, Question, StandupConfigRead
from takt.standups.summary import SummaryData


class Person(Protocol):
    """A user row, or the caller's own account (`Principal.user`)."""

    @property
    def id(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...


def user_summary(user: Person) -> UserSummary:
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def config_read(config: Resolved) -> StandupConfigRead:
    calendar = config.calendar
    return StandupConfigRead(
        project_key=config.project.key,
        questions=[Question.model_validate(q) for q in config.questions],
        weekdays=list(calendar.weekdays),
        follows_working_days=config.weekdays is None,
        cutoff=config.cutoff,
        time_zone=calendar.time_zone,
        participants=list(config.participants) if config.participants is not None else None,
        share_answers_in_events=config.share_answers_in_events,
        updated_at=config.updated_at,
        version=config.version,
    )


def entry_read(entry: StandupEntry, user: Person, project_key: str) -> EntryRead:
    return EntryRead(
        id=entry.id,
        project_key=project_key,
        date=entry.standup_date,
        user=user_summary(user),
        answers=dict(entry.answers),
        blocked=entry.blocked,
        blocker_ids=list(entry.blocker_ids),
        late=entry.late,
        submitted_at=entry.submitted_at,
        updated_at=entry.updated_at,
        version=entry.version,
    )


# The draft and the summary are the hot reads of stand-ups (the whole team opens them around
# the stand-up): plain data in the `Draft` and `StandupSummary` shapes, written once with orjson
# (`core.openapi.json_data_response`; the routes keep `response_model=` for the schema).
# tests/standups/test_plain_answers.py checks each against its model, byte for byte.


def _person(user: Person) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def entry_data(entry: StandupEntry, user: Person, project_key: str) -> dict[str, Any]:
    """`entry_read` as plain data."""
    return {
        "id": entry.id,
        "project_key": project_key,
        "date": entry.standup_date,
        "user": _person(user),
        "answers": dict(entry.answers),
        "blocked": entry.blocked,
        "blocker_ids": list(entry.blocker_ids),
        "late": entry.late,
        "submitted_at": entry.submitted_at,
        "updated_at": entry.updated_at,
        "version": entry.version,
    }


def draft_data(draft: DraftData) -> dict[str, Any]:
    """The `Draft` answer."""
    return {
        "project_key": draft.project_key,
        "date": draft.day,
        "since": draft.since,
        "until": draft.until,
        "answers": draft.answers,
        "blocked": draft.blocked,
        "lines": [
            {
                "section": line.section,
                "kind": line.kind,
                "text": line.text,
                "item_key": line.item_key,
                "event_id": line.event_id,
                "occurred_at": line.occurred_at,
                "detail": line.detail,
            }
            for line in draft.lines
        ],
        "suggested_blockers": [
            {
                "item_key": s.item_key,
                "reason": s.reason,
                "source": s.source,
                "blocker_id": s.blocker_id,
                "event_id": s.event_id,
                "waiting_on": s.waiting_on,
            }
            for s in draft.suggested_blockers
        ],
        "entry": entry_data(*draft.entry, draft.project_key) if draft.entry else None,
    }


def summary_data(data: SummaryData) -> dict[str, Any]:
    """The `StandupSummary` answer: its open blockers aged at `data.now`."""
    numbers, outlook, recorded = data.numbers, data.outlook, data.recorded
    key = data.project.key
    return {
        "project_key": key,
        "date": data.day,
        "cutoff_at": data.cutoff_at,
        "past_cutoff": data.past_cutoff,
        "open_blockers": blocker_datas_of(data.open_blockers, data.project, now=data.now),
        "open_blocker_count": data.open_blocker_count,
        "missing": [_person(u) for u in numbers.missing],
        "absent": [_person(u) for u in numbers.absent],
        "entries": [entry_data(e, u, key) for e, u in numbers.entries],
        "participation": {
            "participants": len(numbers.participants),
            "absent": len(numbers.absent),
            "expected": numbers.expected,
            "submitted": numbers.submitted,
            "rate": _float(numbers.participation),
        },
        "blocked_rate": _float(numbers.blocked_rate),
        "sprint": (
            {
                "sprint_id": outlook.sprint_id,
                "name": outlook.name,
                "probability": _float(outlook.probability),
                "as_of": outlook.as_of,
                "previous_date": outlook.previous_date,
                "previous_probability": _float(outlook.previous_probability),
                "change": _float(outlook.change),
                "reason": outlook.reason,
            }
            if outlook is not None
            else None
        ),
        "recorded": (
            {
                "recorded_at": recorded.recorded_at,
                "expected": recorded.expected,
                "submitted": recorded.submitted,
                "participation": _float(recorded.participation),
                "blocked_rate": _float(recorded.blocked_rate),
                "open_blockers": recorded.open_blockers,
            }
            if recorded is not None
            else None
        ),
    }
