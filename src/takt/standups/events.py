"""The events of stand-ups: the catalogue's `standup.*`.

Stand-up answers can be personal: they are copied into these events (and so into webhooks, Slack
and the event log) only when the project's stand-up config sets `share_answers_in_events`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from takt.core.events import EventData


class StandupQuestionData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    kind: str = Field(description="`text` or `yes_no`.")


class StandupConfigUpdated(EventData):
    """A project's stand-up config was replaced; `data` is the config as it now stands."""

    event_type: ClassVar[str] = "standup.config_updated"
    questions: list[StandupQuestionData] = Field(description="Each `{id, text, kind}`.")
    weekdays: list[str] | None = Field(
        description="Weekday names; null follows the project's working days."
    )
    cutoff: str = Field(description='Local "HH:MM" in the project\'s time zone.')
    participants: list[str] | None = Field(
        description="User ids; null means every member and admin of the project."
    )
    share_answers_in_events: bool = Field(description="Whether answers go into events.")


class StandupEntrySubmitted(EventData):
    """A member submitted or edited their stand-up entry for a day. `answers` is there only
    when the project shares answers in events (`share_answers_in_events`)."""

    event_type: ClassVar[str] = "standup.entry_submitted"
    entry_id: str = Field(description="The entry (one per member and day).")
    date: str = Field(description="The stand-up day, ISO date (the project's local date).")
    user_id: str
    username: str
    blocked: bool
    late: bool = Field(description="Submitted or edited after the day's cut-off.")
    edited: bool = Field(description="False for the first submission, true for an edit.")
    blocker_ids: list[str] = Field(description="Blockers raised through this entry so far.")
    answers: dict[str, str | bool] | None = Field(
        None, description="By question id; only when the project shares answers in events."
    )


class SharedAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str
    answers: dict[str, str | bool]


class StandupSummaryReady(EventData):
    """A stand-up day's cut-off passed: its summary as it stood then (recorded once per project
    and day by the worker). `answers` is there only when the project shares answers in
    events."""

    event_type: ClassVar[str] = "standup.summary_ready"
    date: str = Field(description="The stand-up day, ISO date.")
    cutoff_at: str = Field(description="The cut-off instant, RFC 3339 UTC.")
    expected: int = Field(description="Participants minus those absent that day.")
    submitted: int = Field(description="Entries of expected participants.")
    participation: float | None = Field(description="submitted / expected; null if none expected.")
    blocked_rate: float | None = Field(description="Entries flagged blocked / entries.")
    open_blockers: int = Field(description="Open blockers of the project at the cut-off.")
    missing: list[str] = Field(description="Usernames of expected participants with no entry.")
    sprint_id: str | None = Field(None, description="The active sprint at the cut-off.")
    sprint_probability: float | None = Field(
        None, description="The active sprint's chance of finishing, as forecast at the cut-off."
    )
    sprint_probability_change: float | None = Field(
        None, description="Change since the previous stand-up day's recorded figure."
    )
    answers: list[SharedAnswers] | None = Field(
        None,
        description="`{username, answers}` per entry; only when the project shares answers.",
    )
