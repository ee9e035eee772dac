"""The project export document: one JSON object that `POST /projects/import` takes back.

People are named by username, items by key, statuses and labels by name. Where the server itself
keeps ids (a sprint, a blocker, a risk, history data, a sprint's commitment and report), the
document carries references instead (`takt.transfer.refs`): the same thing has the same reference
throughout the document, and exporting an imported copy gives the same references again.

Version 3 added blockers, risks and stand-ups; version 4 environments, deployments, incidents and
the readiness policy. Older documents (without them) still import.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, model_validator

from takt.blockers.schemas import BlockerState, PartyName, Reason, WaitingOnKind
from takt.core.bounds import MAX_ITEM_NUMBER
from takt.core.schemas import Input
from takt.deployments.environments import MAX_ENVIRONMENTS
from takt.deployments.schemas import (
    DeploymentSource,
    DeploymentState,
    EnvironmentName,
    EnvironmentType,
    Label,
    Sha,
    WebUrl,
)
from takt.deployments.shipped import MAX_SHIPPED_COMMITS
from takt.incidents.schemas import IncidentSeverity, IncidentState, IncidentTitle
from takt.items.ranking import MAX_RANK_LENGTH, is_valid_rank
from takt.items.schemas import ItemType, Markdown, Priority, StoredLinkType
from takt.projects.schemas import (
    MAX_DOR_ENTRIES,
    DorEntryId,
    ProjectKey,
    ProjectSettings,
    Role,
    WorkingDays,
)
from takt.readiness.schemas import PolicyChecks
from takt.risks.schemas import Level, RiskStatus, RiskTitle
from takt.sprints.schemas import SprintState
from takt.standups.schemas import (
    MAX_QUESTIONS,
    Answer,
    CutoffTime,
    QuestionId,
    QuestionWrite,
)
from takt.workflow.schemas import StatusCategory

FORMAT = "takt.project"
# 3: blockers, risks and stand-ups; 4: environments, deployments, incidents and the readiness
# policy. Version 2 and 3 documents (without them) import as they are.
VERSION = 4
OLDEST_VERSION = 2
MAX_ITEMS = 20_000
MAX_BLOCKERS = 100_000
MAX_RISKS = 10_000
MAX_STANDUP_ENTRIES = 200_000
MAX_STANDUP_SUMMARIES = 20_000
MAX_DEPLOYMENTS = 100_000
MAX_INCIDENTS = 20_000
# Counts fit the database's 32-bit integer on both databases.
MAX_NUMBER = 2**31 - 1
# Item and incident numbers have at most nine digits, as item keys do (`ItemKey`), so the next
# number the copy hands out still fits that integer (2**31 - 1 made the next create fail).
MAX_DOC_NUMBER = MAX_ITEM_NUMBER
# How deeply free-form data (history's `data` and `changes`) may nest: the catalogue's deepest
# payloads nest four or five levels; a value nested hundreds deep made the import's walks run out
# of stack (a 500) and would make the export's encoder fail.
MAX_DATA_DEPTH = 32


def _valid_rank(key: str) -> str:
    # A malformed key would make the next create or move in the project fail.
    if not is_valid_rank(key):
        raise ValueError("not a rank key this server issues (base 62, not ending in 0)")
    return key


_REF_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
Ref = Annotated[
    str,
    Field(
        pattern=rf"^{_REF_PATTERN}$",
        description="A reference local to the document; the import gives it a new id.",
        examples=["00000000-0000-4000-8000-000000000001"],
    ),
]
Username = Annotated[str, Field(max_length=32)]
DocItemKey = Annotated[str, Field(max_length=24, description="An item's key in the document.")]
# Instants: with a time zone (the databases store UTC), in the years a date may have.
Instant = Annotated[
    AwareDatetime,
    Field(
        ge=datetime(1970, 1, 1, tzinfo=UTC),
        le=datetime(9000, 12, 31, tzinfo=UTC),
        # Bounds stated without a pattern: a document has many times, and generated documents
        # should not be thrown away for one of them (the import answers 422 outside).
        json_schema_extra={
            "formatMinimum": "1970-01-01T00:00:00Z",
            "formatMaximum": "9000-12-31T00:00:00Z",
        },
    ),
]
# Dates (a sprint's, a due date, a stand-up day): the arithmetic behind burndowns, reports and
# calendars adds days to them.
DocDate = Annotated[
    date,
    Field(
        ge=date(1970, 1, 1),
        le=date(9000, 12, 31),
        json_schema_extra={"formatMinimum": "1970-01-01", "formatMaximum": "9000-12-31"},
    ),
]


def _shallow(value: Any) -> Any:
    """`value` (JSON), refused when its arrays and objects nest deeper than MAX_DATA_DEPTH
    (walked without recursion, and no further than that)."""
    pending = [(value, 1)]
    while pending:
        current, level = pending.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            if level > MAX_DATA_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DATA_DEPTH} levels")
            pending.extend((child, level + 1) for child in current)
    return value


class Doc(Input):
    """Document parts: strict like every request body."""


class ProjectDoc(Doc):
    ref: Ref | None = None
    # A project's key, as every export writes it: its item keys in the document are `KEY-N`,
    # and in data the import gives every string equal to it the new key, so a key like
    # `added` would turn `"change": "added"` in history into something outside the catalogue.
    key: ProjectKey
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(max_length=65536)
    settings: ProjectSettings
    next_number: int = Field(
        0, ge=0, le=MAX_DOC_NUMBER, description="The last item number used (deleted items count)."
    )


class MemberDoc(Doc):
    username: Username
    role: Role


class StatusDoc(Doc):
    ref: Ref | None = None
    name: str = Field(max_length=50)
    category: StatusCategory
    position: int = Field(ge=0, le=49)
    wip_limit: int | None = Field(None, ge=1, le=1000)


class LabelDoc(Doc):
    ref: Ref | None = None
    name: str = Field(max_length=50)
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class CapacityDoc(Doc):
    username: Username
    allocation: float = Field(ge=0, le=1)
    absent_days: list[DocDate] = Field(max_length=366)


class CommitmentDoc(Doc):
    """An item of a sprint's commitment as it was at the start."""

    item_id: Ref = Field(description="The item (a reference; it may since have been deleted).")
    key: DocItemKey
    estimate: float | None = Field(ge=0, le=1000)


Points = Annotated[float, Field(ge=0, le=1e12)]
Ratio = Annotated[float, Field(ge=-1e12, le=1e12)]


class TallyDoc(Doc):
    items: int = Field(ge=0, le=MAX_NUMBER)
    points: Points


class SprintReportDoc(Doc):
    """A completed sprint's frozen report, as `GET /sprints/{id}/report` shows it."""

    committed: TallyDoc
    completed: TallyDoc
    added: TallyDoc
    removed: TallyDoc
    carried_over: TallyDoc
    say_do_ratio: Ratio | None
    scope_change: Ratio | None
    carry_over_rate: Ratio | None
    unestimated: int = Field(ge=0, le=MAX_NUMBER)
    person_days: Points
    carried_over_to: str | None = Field(
        pattern=rf"^(backlog|{_REF_PATTERN})$",
        description="`backlog`, or the reference of the sprint they went to.",
    )


class SprintDoc(Doc):
    ref: Ref
    name: str = Field(min_length=1, max_length=100)
    goal: str = Field(max_length=2000)
    start_date: DocDate
    end_date: DocDate
    state: SprintState
    started_at: Instant | None
    completed_at: Instant | None
    created_at: Instant
    updated_at: Instant
    # Typed as the sprint's answers read them: free-form, a report or commitment they can't
    # read made every answer showing the sprint fail.
    commitment: list[CommitmentDoc] | None = Field(
        max_length=MAX_ITEMS, description="Frozen at start: item, key and estimate of each item."
    )
    report: SprintReportDoc | None = Field(description="Frozen at completion.")
    capacity: list[CapacityDoc] = Field(max_length=1000)

    @model_validator(mode="after")
    def _ordered(self) -> SprintDoc:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ItemDoc(Doc):
    ref: Ref | None = None
    key: str = Field(max_length=24, description="`KEY-number`, the project's key and `number`.")
    number: int = Field(ge=1, le=MAX_DOC_NUMBER)
    type: ItemType
    title: str = Field(min_length=1, max_length=255)
    description: str = Field(max_length=65536)
    status: str = Field(max_length=50)
    priority: Priority
    assignee: Username | None
    reporter: Username | None
    estimate: float | None = Field(ge=0, le=1000)
    labels: list[str] = Field(max_length=20)
    parent_key: str | None = Field(max_length=24)
    sprint: Ref | None = Field(description="The `ref` of the item's sprint.")
    due_date: DocDate | None
    blocked: bool
    # No longer than the server's own keys: the next key next to one is a character longer, and
    # a 64-character key left no room in the column (every create and move then failed).
    rank: Annotated[str, AfterValidator(_valid_rank)] = Field(
        max_length=MAX_RANK_LENGTH,
        pattern=r"^[0-9A-Za-z]*[1-9A-Za-z]$",  # is_valid_rank, said in the schema
    )
    created_at: Instant
    updated_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    dor_checked: list[DorEntryId] = Field(
        default_factory=list,
        max_length=MAX_DOR_ENTRIES,
        description="The ids of the entries of the project's Definition of Ready "
        "(`project.settings.definition_of_ready`) ticked on the item, each once; an id that is "
        "not an entry of it is refused. Left out (documents exported before it): none ticked.",
        examples=[["designs-attached"]],
    )


class LinkDoc(Doc):
    ref: Ref | None = None
    source: str = Field(max_length=24)
    target: str = Field(max_length=24)
    type: StoredLinkType
    created_at: Instant | None = None


class CommentDoc(Doc):
    ref: Ref | None = None
    item_key: str = Field(max_length=24)
    author: Username | None
    body: str = Field(max_length=65536)
    created_at: Instant
    updated_at: Instant


class EventDoc(Doc):
    type: str = Field(max_length=64)
    occurred_at: Instant
    actor: Username | None = Field(description="Who did it, as the exporting server named them.")
    subject: Ref | None = Field(description="What it is about (an item, a sprint, …), if anything.")
    data: Annotated[dict[str, Any], AfterValidator(_shallow)]
    changes: Annotated[dict[str, list[Any]] | None, AfterValidator(_shallow)]


class WaitingOnDoc(Doc):
    """Whom or what a blocker waits on: the field of its `kind` is set, the others are null."""

    kind: WaitingOnKind
    user: Username | None = Field(
        None, description="`person`: the username (null when the account is gone)."
    )
    name: PartyName | None = Field(None, description="`team` and `external`: the name.")
    item_key: DocItemKey | None = Field(
        None, description="`item`: the key of an item of the document (null when it is gone)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> WaitingOnDoc:
        wrong = {
            "person": ("name", "item_key"),
            "team": ("user", "item_key"),
            "external": ("user", "item_key"),
            "item": ("user", "name"),
        }[self.kind]
        for field in wrong:
            if getattr(self, field) is not None:
                raise ValueError(f"{field} must be null when the kind is {self.kind}")
        if self.kind in ("team", "external") and self.name is None:
            raise ValueError(f"name is required when the kind is {self.kind}")
        return self


class BlockerDoc(Doc):
    """A blocker of an item of the document, as it stood."""

    ref: Ref | None = None
    item_key: DocItemKey = Field(description="The blocked item.")
    reason: Reason
    waiting_on: WaitingOnDoc
    status: BlockerState
    raised_by: Username | None
    raised_at: Instant
    resolved_by: Username | None
    resolved_at: Instant | None = Field(description="Set exactly when `status` is `resolved`.")
    resolution: str = Field(max_length=2000)
    resolved_age_hours: float | None = Field(
        ge=0,
        le=100_000_000,
        description="Its age in working hours, fixed when it was resolved (null while open).",
    )
    escalated_at: Instant | None
    risk: Ref | None = Field(description="The `ref` of the risk it was promoted to.")
    created_at: Instant
    updated_at: Instant

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "00000000-0000-4000-8000-000000000031",
                    "item_key": "API-12",
                    "reason": "The processor's sandbox rejects every 3-D Secure challenge",
                    "waiting_on": {
                        "kind": "external",
                        "user": None,
                        "name": "Stripe support",
                        "item_key": None,
                    },
                    "status": "open",
                    "raised_by": "leo",
                    "raised_at": "2026-11-16T09:12:00Z",
                    "resolved_by": None,
                    "resolved_at": None,
                    "resolution": "",
                    "resolved_age_hours": None,
                    "escalated_at": "2026-11-18T09:12:00Z",
                    "risk": "00000000-0000-4000-8000-000000000035",
                    "created_at": "2026-11-16T09:12:00Z",
                    "updated_at": "2026-11-18T09:12:00Z",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _resolved(self) -> BlockerDoc:
        if (self.status == "resolved") != (self.resolved_at is not None):
            raise ValueError("resolved_at is set exactly when the status is resolved")
        if self.status == "open" and (self.resolved_by or self.resolved_age_hours is not None):
            raise ValueError("an open blocker has no resolved_by nor resolved_age_hours")
        return self


class RiskDoc(Doc):
    """A risk of the register, with the items and sprints of the document it threatens."""

    ref: Ref | None = None
    title: RiskTitle
    description: Markdown
    likelihood: Level
    impact: Level
    status: RiskStatus
    owner: Username | None
    mitigation: Markdown
    review_date: DocDate | None
    item_keys: list[DocItemKey] = Field(max_length=100, description="Items it threatens.")
    sprints: list[Ref] = Field(max_length=20, description="The `ref`s of sprints it threatens.")
    blocker: Ref | None = Field(description="The `ref` of the blocker it was promoted from.")
    created_by: Username | None
    created_at: Instant
    updated_at: Instant

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "00000000-0000-4000-8000-000000000035",
                    "title": "API-12 blocked: the processor's sandbox rejects 3-D Secure",
                    "description": "",
                    "likelihood": 4,
                    "impact": 3,
                    "status": "mitigating",
                    "owner": "maya",
                    "mitigation": "Mock the challenge in our tests.",
                    "review_date": "2026-11-25",
                    "item_keys": ["API-12"],
                    "sprints": ["00000000-0000-4000-8000-000000000007"],
                    "blocker": "00000000-0000-4000-8000-000000000031",
                    "created_by": "maya",
                    "created_at": "2026-11-18T10:00:00Z",
                    "updated_at": "2026-11-18T10:00:00Z",
                }
            ]
        },
    )


class StandupConfigDoc(Doc):
    """The project's stand-up config (absent while the project runs on the defaults)."""

    questions: list[QuestionWrite] = Field(min_length=1, max_length=MAX_QUESTIONS)
    weekdays: WorkingDays | None = Field(description="Null follows the project's working days.")
    cutoff: CutoffTime
    participants: list[Username] | None = Field(
        max_length=100, description="Usernames; null: every member and admin of the project."
    )
    share_answers_in_events: bool
    created_at: Instant
    updated_at: Instant

    @model_validator(mode="after")
    def _distinct(self) -> StandupConfigDoc:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be distinct in a stand-up config")
        people = [p.lower() for p in self.participants or []]
        if len(set(people)) != len(people):
            raise ValueError("participants must not repeat")
        return self


Rate = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0, le=MAX_NUMBER)]


class StandupEntryDoc(Doc):
    """A member's check-in for one stand-up day."""

    ref: Ref | None = None
    user: Username = Field(description="Whose entry it is.")
    date: DocDate = Field(description="The stand-up day (the project's local date).")
    answers: dict[QuestionId, Answer] = Field(max_length=MAX_QUESTIONS)
    blocked: bool
    blockers: list[Ref] = Field(
        max_length=MAX_BLOCKERS,
        description="The `ref`s of the blockers raised through this entry (each once; an entry "
        "edited many times may have raised many).",
    )
    late: bool
    submitted_at: Instant
    updated_at: Instant

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "00000000-0000-4000-8000-000000000040",
                    "user": "leo",
                    "date": "2026-11-16",
                    "answers": {"yesterday": "Finished API-11.", "today": "API-12."},
                    "blocked": True,
                    "blockers": ["00000000-0000-4000-8000-000000000031"],
                    "late": False,
                    "submitted_at": "2026-11-16T09:12:00Z",
                    "updated_at": "2026-11-16T09:12:00Z",
                }
            ]
        },
    )


class StandupSummaryDoc(Doc):
    """A stand-up day's figures as recorded at its cut-off."""

    ref: Ref | None = None
    date: DocDate
    recorded_at: Instant
    expected: Count
    submitted: Count
    participation: Rate | None
    blocked_rate: Rate | None
    open_blockers: Count
    sprint: Ref | None = Field(description="The `ref` of the sprint active at the cut-off.")
    sprint_probability: Rate | None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ref": "00000000-0000-4000-8000-000000000050",
                    "date": "2026-11-16",
                    "recorded_at": "2026-11-16T09:05:00Z",
                    "expected": 5,
                    "submitted": 4,
                    "participation": 0.8,
                    "blocked_rate": 0.25,
                    "open_blockers": 2,
                    "sprint": "00000000-0000-4000-8000-000000000007",
                    "sprint_probability": 0.72,
                }
            ]
        },
    )


class StandupsDoc(Doc):
    config: StandupConfigDoc | None = None
    entries: Annotated[list[StandupEntryDoc], Field(max_length=MAX_STANDUP_ENTRIES)] = []
    summaries: Annotated[list[StandupSummaryDoc], Field(max_length=MAX_STANDUP_SUMMARIES)] = []


# Delivery: environments, deployments, incidents ------------------------------------------------


class EnvironmentDoc(Doc):
    """An environment of the promotion path."""

    ref: Ref
    name: EnvironmentName
    type: EnvironmentType
    position: int = Field(ge=0, le=MAX_ENVIRONMENTS - 1, description="0 first.")
    created_at: Instant
    updated_at: Instant


class ShippedCommitDoc(Doc):
    sha: Sha
    committed_at: Instant | None


class DeploymentDoc(Doc):
    """A deployment with what it shipped. The repository and the commits Takt saw in pushes
    are not part of the document: the copy's deployment names no repository, and its shipped
    commits keep their SHA and time only."""

    ref: Ref
    environment: Ref = Field(description="The `ref` of its environment.")
    source: DeploymentSource
    external_id: str | None = Field(max_length=64)
    pipeline_id: str | None = Field(max_length=128)
    sequence: int | None = Field(ge=0, le=2**63 - 1)
    git_ref: str | None = Field(max_length=255, description="The branch or tag (`ref`).")
    sha: str | None = Field(max_length=64, pattern=r"^[0-9a-fA-F]+$")
    version: str | None = Field(max_length=128, description="What was deployed (`v1.4.2`).")
    description: str = Field(max_length=10_000)
    url: WebUrl | None
    state: DeploymentState
    started_at: Instant
    finished_at: Instant | None
    succeeded_at: Instant | None
    triggered_by: Label | None
    reported_by: Username | None = Field(description="The account that reported it.")
    is_hotfix: bool
    is_rollback: bool
    fixes: Ref | None = Field(description="The `ref` of the deployment it remediates.")
    failed_at: Instant | None
    restored_at: Instant | None
    rolled_back_at: Instant | None = Field(
        default=None,
        description="When it became `rolled_back` (absent in older documents: the import takes "
        "the best moment known, as the migration did).",
    )
    previous: Ref | None = Field(description="The `ref` of the previous successful deployment.")
    shipped_complete: bool
    commits: list[ShippedCommitDoc] = Field(max_length=MAX_SHIPPED_COMMITS)
    item_keys: list[DocItemKey] = Field(
        max_length=MAX_ITEMS, description="The items of the document it shipped."
    )
    created_at: Instant
    updated_at: Instant

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentDoc:
        if self.is_hotfix and self.is_rollback:
            raise ValueError("a deployment is a hotfix or a rollback, not both")
        if self.restored_at is not None and self.failed_at is None:
            raise ValueError("restored_at without failed_at")
        if self.rolled_back_at is not None and self.state != "rolled_back":
            raise ValueError("rolled_back_at on a deployment not rolled back")
        return self


class IncidentDoc(Doc):
    ref: Ref
    number: int = Field(ge=1, le=MAX_DOC_NUMBER, description="Kept: INC-3 stays INC-3.")
    title: IncidentTitle
    description: Markdown
    severity: IncidentSeverity
    state: IncidentState
    environment: Ref = Field(description="The `ref` of its environment.")
    opened_at: Instant
    resolved_at: Instant | None = Field(description="Set exactly when `state` is `resolved`.")
    caused_by: Ref | None = Field(description="The `ref` of the deployment that caused it.")
    fixed_by: Ref | None = Field(description="The `ref` of the deployment that fixed it.")
    opened_by: Username | None
    created_at: Instant
    updated_at: Instant

    @model_validator(mode="after")
    def _consistent(self) -> IncidentDoc:
        if (self.state == "resolved") != (self.resolved_at is not None):
            raise ValueError("resolved_at is set exactly when the state is resolved")
        if self.resolved_at is not None and self.resolved_at < self.opened_at:
            raise ValueError("resolved_at is before opened_at")
        return self


class ExportDocument(Doc):
    """Everything about a project, with people named by username and items by key."""

    format: Literal["takt.project"] = "takt.project"
    version: int = Field(
        VERSION,
        ge=OLDEST_VERSION,
        le=VERSION,
        description="4; 3 for a document made before environments, deployments, incidents and "
        "the readiness policy, 2 before blockers, risks and stand-ups.",
    )
    project: ProjectDoc
    members: Annotated[list[MemberDoc], Field(max_length=1000)]
    statuses: Annotated[list[StatusDoc], Field(min_length=1, max_length=50)]
    labels: Annotated[list[LabelDoc], Field(max_length=500)]
    sprints: Annotated[list[SprintDoc], Field(max_length=5000)] = []
    items: Annotated[list[ItemDoc], Field(max_length=MAX_ITEMS)]
    links: Annotated[list[LinkDoc], Field(max_length=100_000)]
    comments: Annotated[list[CommentDoc], Field(max_length=100_000)]
    blockers: Annotated[list[BlockerDoc], Field(max_length=MAX_BLOCKERS)] = []
    risks: Annotated[list[RiskDoc], Field(max_length=MAX_RISKS)] = []
    standups: StandupsDoc = Field(default_factory=StandupsDoc)
    environments: Annotated[list[EnvironmentDoc], Field(max_length=MAX_ENVIRONMENTS)] | None = (
        Field(
            None,
            description="The promotion path. Left out (documents before version 4): the new "
            "project gets the default one (development, staging, production).",
        )
    )
    deployments: Annotated[list[DeploymentDoc], Field(max_length=MAX_DEPLOYMENTS)] = []
    incidents: Annotated[list[IncidentDoc], Field(max_length=MAX_INCIDENTS)] = []
    readiness_policy: PolicyChecks | None = Field(
        None,
        description="The readiness checks, environments by name; null: the defaults.",
    )
    history: Annotated[list[EventDoc], Field(max_length=1_000_000)]


class ImportRequest(Doc):
    key: ProjectKey = Field(description="Key of the new project.")
    name: str | None = Field(
        None, min_length=1, max_length=100, description="Default: the exported name."
    )
    document: ExportDocument
