"""Stand-up rows and reports to the API's response shapes."""

from __future__ import annotations

from typing import Protocol

from takt.auth.schemas import UserSummary
from takt.standups.config import Resolved
from takt.standups.drafts import DraftData
from takt.standups.models import StandupEntry
from takt.standups.schemas import (
    Draft,
    DraftLine,
    EntryRead,
    Participation,
    Question,
    RecordedSummary,
    SprintOutlook,
    StandupConfigRead,
    StandupSummary,
    SuggestedBlocker,
)
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


def draft_read(draft: DraftData) -> Draft:
    return Draft(
        project_key=draft.project_key,
        date=draft.day,
        since=draft.since,
        until=draft.until,
        answers=draft.answers,
        blocked=draft.blocked,
        lines=[
            DraftLine(
                section=line.section,
                kind=line.kind,
                text=line.text,
                item_key=line.item_key,
                event_id=line.event_id,
                occurred_at=line.occurred_at,
                detail=line.detail,
            )
            for line in draft.lines
        ],
        suggested_blockers=[
            SuggestedBlocker(
                item_key=s.item_key,
                reason=s.reason,
                source=s.source,
                blocker_id=s.blocker_id,
                event_id=s.event_id,
            )
            for s in draft.suggested_blockers
        ],
        entry=entry_read(*draft.entry, draft.project_key) if draft.entry else None,
    )


def summary_read(data: SummaryData) -> StandupSummary:
    numbers, outlook, recorded = data.numbers, data.outlook, data.recorded
    return StandupSummary(
        project_key=data.project_key,
        date=data.day,
        cutoff_at=data.cutoff_at,
        past_cutoff=data.past_cutoff,
        open_blockers=data.open_blockers,
        open_blocker_count=data.open_blocker_count,
        missing=[user_summary(u) for u in numbers.missing],
        absent=[user_summary(u) for u in numbers.absent],
        entries=[entry_read(e, u, data.project_key) for e, u in numbers.entries],
        participation=Participation(
            participants=len(numbers.participants),
            absent=len(numbers.absent),
            expected=numbers.expected,
            submitted=numbers.submitted,
            rate=numbers.participation,
        ),
        blocked_rate=numbers.blocked_rate,
        sprint=(
            SprintOutlook(
                sprint_id=outlook.sprint_id,
                name=outlook.name,
                probability=outlook.probability,
                as_of=outlook.as_of,
                previous_date=outlook.previous_date,
                previous_probability=outlook.previous_probability,
                change=outlook.change,
                reason=outlook.reason,
            )
            if outlook is not None
            else None
        ),
        recorded=(
            RecordedSummary(
                recorded_at=recorded.recorded_at,
                expected=recorded.expected,
                submitted=recorded.submitted,
                participation=recorded.participation,
                blocked_rate=recorded.blocked_rate,
                open_blockers=recorded.open_blockers,
            )
            if recorded is not None
            else None
        ),
    )
