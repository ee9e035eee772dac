"""Shapes of work items, links, comments, board, bulk updates and history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import ESTIMATE_VALUES, CalendarDate
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.projects.schemas import DOR_ENTRY_ID_PATTERN, MAX_DOR_ENTRIES, DorEntry
from takt.workflow.schemas import LabelName, StatusRef

# Named aliases (TypeAliasType): each is one shared component of the OpenAPI schema, so a
# generated client has one enum per concept, whichever model it appears in.
ItemType = TypeAliasType("ItemType", Literal["epic", "story", "task", "bug", "spike"])
Priority = TypeAliasType("Priority", Literal["none", "low", "medium", "high", "urgent"])
LinkType = TypeAliasType(
    "LinkType", Literal["blocks", "blocked_by", "relates_to", "duplicates", "duplicated_by"]
)
StoredLinkType = TypeAliasType("StoredLinkType", Literal["blocks", "relates_to", "duplicates"])
"""A link as stored, from its source; `blocked_by` and `duplicated_by` are the other side."""
ItemKey = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,9}-[0-9]{1,9}$"),
    Field(description="`PROJECT-N`.", examples=["API-42"]),
]
ITEM_KEY_MIN, ITEM_KEY_MAX = 3, 24

ItemKeyPath = Annotated[
    str,
    Path(
        min_length=ITEM_KEY_MIN,
        max_length=ITEM_KEY_MAX,
        description="`PROJECT-N`.",
        examples=["API-42"],
    ),
]
"""An item's key as a path parameter (the items' routes and their history in `takt.events`)."""
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, strip_whitespace=True, pattern=NOT_BLANK),
    Field(examples=["Rate-limit the login endpoint"]),
]
Markdown = Annotated[str, Field(max_length=65536, description="Markdown, up to 64 KiB.")]
UserRef = Annotated[
    str, Field(min_length=1, max_length=64, description="Username or user id.", examples=["leo"])
]
Estimate = Annotated[
    float,
    Field(
        ge=0,
        le=1000,
        description="Points, a value of the project's estimate scale (`settings.estimate_scale`; "
        "fibonacci: any value listed; tshirt: 0, 1, 2, 3, 5, 8, 13). Another is refused with "
        "422 `estimate-off-scale`.",
        examples=[3],
        json_schema_extra={"enum": ESTIMATE_VALUES},
    ),
]
Labels = Annotated[list[LabelName], Field(max_length=20, description="Label names (existing).")]


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("entry ids must not repeat")
    return values


class ItemFields(Input):
    """Fields a client may set; the server owns key, rank, timestamps and version."""

    # NOT_NULL: may be left out, can't be cleared (null is refused).
    title: Annotated[Title | None, NOT_NULL] = None
    description: Annotated[Markdown | None, NOT_NULL] = None
    type: Annotated[ItemType | None, NOT_NULL] = None
    status: Annotated[str | None, NOT_NULL] = Field(
        None, max_length=50, description="Status name or id."
    )
    priority: Annotated[Priority | None, NOT_NULL] = None
    assignee: UserRef | None = Field(None, description="Username or id; null unassigns.")
    estimate: Estimate | None = None
    labels: Annotated[Labels | None, NOT_NULL] = None
    parent_key: ItemKey | None = Field(None, description="Parent item in the same project.")
    sprint_id: str | None = Field(None, max_length=36)
    due_date: CalendarDate | None = None
    blocked: Annotated[bool | None, NOT_NULL] = None


class ItemCreate(ItemFields):
    title: Title
    type: ItemType = "task"

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "bug",
                    "title": "Login returns 500 on empty password",
                    "priority": "high",
                    "assignee": "leo",
                    "estimate": 2,
                    "labels": ["api"],
                }
            ]
        },
    )


class ItemUpdate(ItemFields):
    """Only the fields you send change; send null to clear assignee, estimate, parent, sprint or
    due date (the other fields can't be null)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "In Progress", "assignee": "sara"}]},
    )


class PullRequestCounts(BaseModel):
    """The pull requests that name an item, counted by state."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "draft": 0,
                    "open": 1,
                    "approved": 0,
                    "changes_requested": 0,
                    "merged": 2,
                    "closed": 0,
                }
            ]
        }
    )

    draft: int = Field(ge=0, description="Drafts: not yet ready for review.")
    open: int = Field(ge=0, description="Ready for review, no verdict standing.")
    approved: int = Field(ge=0, description="Open with an approving review.")
    changes_requested: int = Field(ge=0, description="Open with changes requested.")
    merged: int = Field(ge=0, description="Merged.")
    closed: int = Field(ge=0, description="Closed without a merge.")


class SprintRef(BaseModel):
    """The sprint an item is in, named, so a client needs no second read for its name."""

    id: str = Field(examples=["0b9f5c1e-6a3d-4c1f-9a57-2f1d8e4b7c10"])
    name: str = Field(examples=["Sprint 14"])


class ItemSummary(BaseModel):
    key: str = Field(examples=["API-42"])
    project_key: str
    type: ItemType
    title: str
    status: StatusRef
    priority: Priority
    assignee: UserSummary | None
    reporter: UserSummary | None
    estimate: float | None
    labels: list[str]
    parent_key: str | None
    sprint_id: str | None = Field(description="The id of the sprint it is in (`sprint.id`).")
    sprint: SprintRef | None = Field(
        description="The sprint it is in, with its name; null when it is in no sprint.",
        examples=[{"id": "0b9f5c1e-6a3d-4c1f-9a57-2f1d8e4b7c10", "name": "Sprint 14"}],
    )
    due_date: date | None
    blocked: bool
    rank: str = Field(description="Backlog order key; compare as bytes.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = Field(description="First entry into an in-progress status.")
    finished_at: datetime | None = Field(description="Entry into a done status.")
    version: int = Field(description="Changes on every write; the ETag carries it.")
    ready: bool = Field(
        description="Has an estimate, a description and every entry of the project's "
        "Definition of Ready ticked (`missing` is empty)."
    )
    missing: list[str] = Field(
        description="What keeps the item from `ready`, in this order: `estimate` (none), "
        "`description` (empty), then `dor:<entry id>` for each entry of the project's "
        "Definition of Ready not ticked, in the checklist's order. Empty when ready.",
        examples=[["estimate", "dor:acceptance-criteria"]],
    )
    dor_checked: list[str] = Field(
        description="The ids of the Definition of Ready entries ticked on this item, in the "
        "checklist's order (`PUT /items/{item_key}/readiness` sets them).",
        examples=[["designs-attached"]],
    )
    pull_requests: PullRequestCounts = Field(
        description="How many pull requests name this item (its key in their branch, title or "
        "description), by state; every state is present, 0 when none is in it (all zeros for an "
        "item no pull request names). The pull requests themselves: "
        "`GET /items/{item_key}/pull-requests`."
    )


class ItemRead(ItemSummary):
    description: str


class ItemPage(BaseModel):
    data: list[ItemSummary]
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None = Field(
        None, description="With `?facets=`: counts per value over the whole filtered set."
    )


class ReadinessUpdate(Input):
    """The Definition of Ready entries the item meets: exactly these are ticked afterwards."""

    checked: Annotated[
        list[Annotated[str, StringConstraints(pattern=DOR_ENTRY_ID_PATTERN)]],
        Field(
            max_length=MAX_DOR_ENTRIES,
            description="Entry ids of the project's Definition of Ready (`settings."
            "definition_of_ready`), each once; an entry left out is unticked. An id that is not "
            "an entry → 422 `unknown-dor-entry`.",
            json_schema_extra={"uniqueItems": True},
        ),
        AfterValidator(_distinct),
    ]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"checked": ["acceptance-criteria", "designs-attached"]}]},
    )


class RefinementPage(BaseModel):
    """The refinement queue: the backlog's items that are not ready, top-ranked first."""

    data: list[ItemSummary] = Field(
        description="In rank order, each with what it lacks (`missing`)."
    )
    next_cursor: str | None
    definition_of_ready: list[DorEntry] = Field(
        description="The project's Definition of Ready, to read the `dor:<entry id>` of "
        "`missing` by."
    )


class MoveRequest(Input):
    """Put the item directly before or after another item of the project in backlog order."""

    before: ItemKey | None = None
    after: ItemKey | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MoveRequest:
        if (self.before is None) == (self.after is None):
            raise ValueError("give exactly one of before, after")
        return self

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"before": "API-7"}]})


class LinkCreate(Input):
    type: LinkType
    target: ItemKey

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"type": "blocks", "target": "API-9"}]}
    )


class LinkRead(BaseModel):
    id: str
    type: LinkType = Field(description="As seen from this item.")
    target: str = Field(description="The other item's key.")
    target_title: str
    created_at: datetime


class LinkList(BaseModel):
    data: list[LinkRead]
    next_cursor: None = None


class CommentCreate(Input):
    body: Annotated[
        str, Field(min_length=1, max_length=65536, description="Markdown; `@user` mentions.")
    ]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "@leo can you take a look?"}]},
    )


class CommentUpdate(CommentCreate):
    pass


class CommentRead(BaseModel):
    id: str
    item_key: str
    author: UserSummary | None
    imported_author: str | None = Field(
        None,
        description="A comment brought in by a project import: its author's username as the "
        "document gave it (`author` is then null; never an account here).",
    )
    body: str
    mentions: list[UserSummary] = Field(description="Project members mentioned with @username.")
    created_at: datetime
    updated_at: datetime


class BoardColumn(BaseModel):
    status: StatusRef
    wip_limit: int | None
    count: int = Field(description="Items in this status (all of them, not only those listed).")
    over_limit: bool
    items: list[ItemSummary] = Field(description="In rank order, at most `per_column`.")


class Board(BaseModel):
    sprint_id: str | None = Field(
        description="The sprint shown (the active one's id for `sprint_id=current`); null for "
        "the whole project."
    )
    sprint: SprintRef | None = Field(
        description="The sprint shown, with its name; null for the whole project.",
        examples=[{"id": "0b9f5c1e-6a3d-4c1f-9a57-2f1d8e4b7c10", "name": "Sprint 14"}],
    )
    columns: list[BoardColumn]


class BulkUpdate(ItemUpdate):
    key: ItemKey

    model_config = ConfigDict(extra="forbid")


class BulkRequest(Input):
    updates: Annotated[list[BulkUpdate], Field(min_length=1, max_length=100)]
    atomic: bool = Field(False, description="All or nothing.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "updates": [
                        {"key": "API-1", "priority": "high"},
                        {"key": "API-2", "status": "Done"},
                    ],
                    "atomic": False,
                }
            ]
        },
    )


class BulkError(BaseModel):
    code: str
    detail: str


class BulkResult(BaseModel):
    key: str
    status: int = Field(description="HTTP-like status of this update: 200 or a 4xx.")
    item: ItemSummary | None = None
    error: BulkError | None = None


class BulkResponse(BaseModel):
    results: list[BulkResult]


class TrashedItem(BaseModel):
    """An item in the trash: restorable until `purge_at`, then gone for good."""

    key: str = Field(examples=["API-42"], description="Kept: a key is never handed out again.")
    type: ItemType
    title: str
    estimate: float | None
    sprint_id: str | None = Field(description="The sprint it was in when deleted.")
    deleted_at: datetime
    deleted_by: UserSummary | None = Field(description="Who deleted it.")
    purge_at: datetime = Field(description="When it is purged (30 days after deletion).")


class TrashPage(BaseModel):
    data: list[TrashedItem] = Field(description="Most recently deleted first.")
    next_cursor: str | None
