"""Shapes of the stand-up config, entries, drafts and the daily summary."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.blockers.schemas import BlockerCreate, BlockerRead, WaitingOn
from takt.core.schemas import NOT_BLANK, Input
from takt.projects.schemas import Weekday, WorkingDays
from takt.standups.calendar import DEFAULT_CUTOFF, DEFAULT_QUESTIONS

QuestionKind = TypeAliasType("QuestionKind", Literal["text", "yes_no"])
DraftSection = TypeAliasType("DraftSection", Literal["yesterday", "today", "blockers"])

MAX_QUESTIONS = 10
MAX_ANSWER_LENGTH = 4000
MAX_ENTRY_BLOCKERS = 10
# Blockers one entry raises over all its submissions (it keeps every one's id).
MAX_BLOCKERS_PER_ENTRY = 50
QUESTION_ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

QuestionId = Annotated[
    str,
    StringConstraints(pattern=QUESTION_ID_PATTERN),
    Field(
        description="Lower-case letters, digits and `_`, starting with a letter; at most 32.",
        examples=["yesterday"],
    ),
]
CutoffTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(
        description='Local wall-clock time "HH:MM" (24 h) in the project\'s time zone.',
        examples=["10:00"],
    ),
]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=36)]


def _answer(value: Any) -> str | bool:
    # One check for both shapes, so a bad answer gets one error at its own pointer (a union
    # would report each alternative's complaint at a pointer of its own).
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > MAX_ANSWER_LENGTH:
            raise ValueError(f"an answer has at most {MAX_ANSWER_LENGTH} characters")
        # A plain validator gets the text as JSON decoding left it, unchecked: half of a
        # surrogate pair (`"\ud800"`) is no Unicode text, and no database stores it.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("an answer must be Unicode text (no lone surrogate)") from None
        return value
    raise ValueError("an answer is text, or true or false")


Answer = Annotated[
    str | bool,
    PlainValidator(_answer),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "maxLength": MAX_ANSWER_LENGTH}, {"type": "boolean"}],
            "description": "Text (up to 4,000 characters) for a `text` question, `true` or "
            "`false` for a `yes_no` one.",
        }
    ),
]


class Question(BaseModel):
    id: QuestionId
    text: str = Field(description="What the question asks.", examples=["What did you do?"])
    kind: QuestionKind = Field(description="`text` or `yes_no`.")


class QuestionWrite(Input):
    id: QuestionId
    text: str = Field(
        min_length=1,
        max_length=200,
        pattern=NOT_BLANK,
        description="What the question asks.",
        examples=["What did you do since the last stand-up?"],
    )
    kind: QuestionKind = Field("text", description="`text` (the default) or `yes_no`.")


def _default_questions() -> list[QuestionWrite]:
    return [QuestionWrite.model_validate(q) for q in DEFAULT_QUESTIONS]


class StandupConfigWrite(Input):
    """The whole config: a field left out takes its default (PUT replaces)."""

    questions: list[QuestionWrite] = Field(
        default_factory=_default_questions,
        min_length=1,
        max_length=MAX_QUESTIONS,
        description="1 to 10 questions with distinct ids. Default: yesterday, today, blockers.",
    )
    weekdays: WorkingDays | None = Field(
        None,
        description="The days stand-ups run; null (the default) follows the project's working "
        "days, also when they change.",
        examples=[["mon", "tue", "wed", "thu", "fri"]],
    )
    cutoff: CutoffTime = DEFAULT_CUTOFF
    participants: list[UserId] | None = Field(
        None,
        max_length=100,
        description="User ids of the members who take part (each a member or admin of the "
        "project; viewers never take part). Null (the default): every member and admin.",
        json_schema_extra={"uniqueItems": True},
    )
    share_answers_in_events: bool = Field(
        False,
        description="Copy answers into `standup.*` events, and so into webhooks and Slack. Off "
        "by default: answers can be personal.",
    )

    @field_validator("questions")
    @classmethod
    def _distinct_ids(cls, questions: list[QuestionWrite]) -> list[QuestionWrite]:
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be distinct in a stand-up config")
        return questions

    @field_validator("participants")
    @classmethod
    def _distinct_people(cls, participants: list[str] | None) -> list[str] | None:
        if participants is not None and len(set(participants)) != len(participants):
            raise ValueError("participants must not repeat")
        return participants

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "questions": [
                        {"id": "yesterday", "text": "What did you finish?", "kind": "text"},
                        {"id": "today", "text": "What's next?", "kind": "text"},
                        {"id": "on_track", "text": "Is the sprint on track?", "kind": "yes_no"},
                    ],
                    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                    "cutoff": "10:00",
                    "share_answers_in_events": False,
                }
            ]
        },
    )


class StandupConfigRead(BaseModel):
    project_key: str
    questions: list[Question]
    weekdays: list[Weekday] = Field(description="The days stand-ups run.")
    follows_working_days: bool = Field(
        description="True when `weekdays` are the project's working days (none were set)."
    )
    cutoff: str = Field(description='Local "HH:MM" in `time_zone`.', examples=["10:00"])
    time_zone: str = Field(description="The project's time zone (project settings).")
    participants: list[str] | None = Field(
        description="User ids; null means every member and admin of the project."
    )
    share_answers_in_events: bool
    updated_at: dt.datetime | None = Field(description="Null while the project runs on defaults.")
    version: int = Field(description="0 while the project runs on defaults; the ETag carries it.")


class EntryWrite(Input):
    """Your check-in for the day. Every structured blocker is raised as a real blocker (its
    item is flagged blocked); sending the same one again raises nothing new."""

    answers: dict[QuestionId, Answer] = Field(
        default_factory=dict,
        max_length=MAX_QUESTIONS,
        description="By question id (see the config); a question left out stays unanswered.",
        examples=[{"yesterday": "Finished API-12.", "today": "Start API-14."}],
        # Pydantic states the key pattern as `patternProperties` only, which lets any other key
        # through in the schema; the model refuses them, so the schema says so too.
        json_schema_extra={
            "propertyNames": {"pattern": QUESTION_ID_PATTERN},
            "additionalProperties": False,
        },
    )
    blocked: bool = Field(
        False, description="Are you blocked? Set as well when `blockers` is not empty."
    )
    blockers: list[BlockerCreate] = Field(
        default_factory=list,
        max_length=MAX_ENTRY_BLOCKERS,
        description="What blocks you, each raised as a blocker of the project (an entry "
        "raises at most 50 over all its submissions).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "answers": {
                        "yesterday": "Finished API-12, reviewed API-9.",
                        "today": "API-14: the refund endpoint.",
                        "blockers": "Waiting for the bank's sandbox.",
                    },
                    "blocked": True,
                }
            ]
        },
    )


class EntryRead(BaseModel):
    id: str
    project_key: str
    date: dt.date = Field(description="The stand-up day (the project's local date).")
    user: UserSummary
    answers: dict[str, str | bool] = Field(description="By question id.")
    blocked: bool
    blocker_ids: list[str] = Field(description="Blockers raised through this entry (at most 50).")
    late: bool = Field(description="Submitted or edited after the day's cut-off.")
    submitted_at: dt.datetime
    updated_at: dt.datetime
    version: int


class DraftLine(BaseModel):
    """One thing that happened (or stands), with the event it came from."""

    section: DraftSection = Field(description="The question it answers.")
    kind: str = Field(
        description="What it is: `moved`, `finished`, `created`, `commented`, `in_progress`, "
        "`blocked_item`, `open_blocker`; more come with new draft sources.",
        examples=["moved"],
    )
    text: str = Field(examples=["API-12 In Progress → In Review: Refund endpoint"])
    item_key: str | None = Field(description="The item it is about.")
    event_id: str | None = Field(description="The event it came from.")
    occurred_at: dt.datetime | None = Field(description="When that event happened.")
    detail: dict[str, Any] = Field(
        default_factory=dict,
        description="The source's particulars (`from`, `to` for a move; `blocker_id`).",
    )


SuggestionSource = TypeAliasType(
    "SuggestionSource",
    Literal["blocked_item", "open_blocker", "pull_request_waiting", "deployment"],
)


class SuggestedBlocker(BaseModel):
    item_key: str
    reason: str
    source: SuggestionSource = Field(
        description="`blocked_item`: an item of yours flagged blocked; `open_blocker`: a "
        "blocker you raised that is still open; `pull_request_waiting`: a pull request of "
        "yours naming the item has waited more than 24 h for a review; `deployment`: a "
        "deployment that shipped your change to the item failed and service is not restored "
        "yet."
    )
    blocker_id: str | None = Field(description="The open blocker, when there is one.")
    event_id: str | None = Field(description="The event it came from.")
    waiting_on: WaitingOn | None = Field(
        description="Whom or what it waits on, when known, in the shape a blocker's body takes "
        "(send it back as it is in the entry's `blockers`): the open blocker's, or for an item "
        'flagged blocked the unfinished item it is linked `blocked_by` (`{"kind": "item", '
        '"item_key": "API-7"}`); null when nothing says.'
    )


class Draft(BaseModel):
    project_key: str
    date: dt.date
    since: dt.datetime = Field(
        description="From your last entry before this day (or three working days back)."
    )
    until: dt.datetime
    answers: dict[str, str | bool] = Field(
        description="Pre-filled answers, by question id, each short enough for an entry (4,000 "
        "characters): when a section's lines are longer, the latest of them, after a line "
        "saying how many earlier ones `lines` holds. Send them back as they are, or edit them."
    )
    blocked: bool = Field(description="Suggested: true when there is a suggested blocker.")
    lines: list[DraftLine] = Field(description="Every line behind the answers, with its source.")
    suggested_blockers: list[SuggestedBlocker]
    entry: EntryRead | None = Field(description="Your entry for this day, if you sent one.")


class Participation(BaseModel):
    """METRICS.md, Stand-ups: submitted / (participants - absent)."""

    participants: int
    absent: int = Field(description="Participants absent that day (sprint capacity).")
    expected: int = Field(description="participants - absent.")
    submitted: int = Field(description="Entries of expected participants.")
    rate: float | None = Field(description="submitted / expected; null when none is expected.")


OutlookMoment = TypeAliasType("OutlookMoment", Literal["cutoff", "now"])


class SprintOutlook(BaseModel):
    sprint_id: str
    name: str
    probability: float | None = Field(
        description="Chance the sprint's remaining items finish by its end (the sprint "
        "forecast); null with `reason` when it can't be forecast."
    )
    as_of: OutlookMoment = Field(
        description="`cutoff`: the figure recorded at the day's cut-off; `now`: forecast now."
    )
    previous_date: dt.date | None = Field(description="The previous stand-up day with a figure.")
    previous_probability: float | None
    change: float | None = Field(description="probability - previous_probability.")
    reason: str | None = None


class RecordedSummary(BaseModel):
    """The day's numbers as they stood at the cut-off (what `standup.summary_ready` sent)."""

    recorded_at: dt.datetime
    expected: int
    submitted: int
    participation: float | None
    blocked_rate: float | None
    open_blockers: int


class StandupSummary(BaseModel):
    project_key: str
    date: dt.date
    cutoff_at: dt.datetime = Field(description="The day's cut-off, UTC.")
    past_cutoff: bool
    open_blockers: list[BlockerRead] = Field(
        description="The project's open blockers, oldest first (at most 200)."
    )
    open_blocker_count: int = Field(description="All open blockers, also those not listed.")
    missing: list[UserSummary] = Field(
        description="Expected participants with no entry yet (absent people are not missing)."
    )
    absent: list[UserSummary] = Field(description="Participants absent that day.")
    entries: list[EntryRead] = Field(description="The day's entries, by username.")
    participation: Participation
    blocked_rate: float | None = Field(
        description="Entries flagged blocked / entries; null with no entries."
    )
    sprint: SprintOutlook | None = Field(description="The active sprint's outlook, if any.")
    recorded: RecordedSummary | None = Field(description="Set once the cut-off was recorded.")
