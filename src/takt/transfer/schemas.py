"""The project export document: one JSON object that `POST /projects/import` takes back.

People are named by username, items by key, statuses and labels by name. Where the server itself
keeps ids (a sprint, history data, a sprint's commitment and report), the document carries
references instead (`takt.transfer.refs`): the same thing has the same reference throughout the
document, and exporting an imported copy gives the same references again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from takt.core.schemas import Input
from takt.items.ranking import is_valid_rank
from takt.items.schemas import ItemType, Priority, StoredLinkType
from takt.projects.schemas import ProjectKey, ProjectSettings, Role
from takt.sprints.schemas import SprintState
from takt.workflow.schemas import StatusCategory

FORMAT = "takt.project"
VERSION = 2
MAX_ITEMS = 20_000
# Item numbers and the next number fit the database's 32-bit integer on both databases.
MAX_NUMBER = 2**31 - 1


def _valid_rank(key: str) -> str:
    # A malformed key would make the next create or move in the project fail.
    if not is_valid_rank(key):
        raise ValueError("not a rank key this server issues (base 62, not ending in 0)")
    return key


Ref = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="A reference local to the document; the import gives it a new id.",
        examples=["00000000-0000-4000-8000-000000000001"],
    ),
]
Username = Annotated[str, Field(max_length=32)]
# Dates a sprint can have: the arithmetic behind burndowns and reports adds a sprint's length
# to them.
SprintDate = Annotated[date, Field(ge=date(1970, 1, 1), le=date(9000, 12, 31))]


class Doc(Input):
    """Document parts: strict like every request body."""


class ProjectDoc(Doc):
    ref: Ref | None = None
    key: str = Field(max_length=10)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(max_length=65536)
    settings: ProjectSettings
    next_number: int = Field(
        0, ge=0, le=MAX_NUMBER, description="The last item number used (deleted items count)."
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
    absent_days: list[date] = Field(max_length=366)


class SprintDoc(Doc):
    ref: Ref
    name: str = Field(min_length=1, max_length=100)
    goal: str = Field(max_length=2000)
    start_date: SprintDate
    end_date: SprintDate
    state: SprintState
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    commitment: list[dict[str, Any]] | None = Field(
        max_length=MAX_ITEMS, description="Frozen at start: item, key and estimate of each item."
    )
    report: dict[str, Any] | None = Field(description="Frozen at completion.")
    capacity: list[CapacityDoc] = Field(max_length=1000)

    @model_validator(mode="after")
    def _ordered(self) -> SprintDoc:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ItemDoc(Doc):
    ref: Ref | None = None
    key: str = Field(max_length=24)
    number: int = Field(ge=1, le=MAX_NUMBER)
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
    due_date: date | None
    blocked: bool
    rank: Annotated[str, AfterValidator(_valid_rank)] = Field(
        max_length=64,
        pattern=r"^[0-9A-Za-z]*[1-9A-Za-z]$",  # is_valid_rank, said in the schema
    )
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LinkDoc(Doc):
    ref: Ref | None = None
    source: str = Field(max_length=24)
    target: str = Field(max_length=24)
    type: StoredLinkType
    created_at: datetime | None = None


class CommentDoc(Doc):
    ref: Ref | None = None
    item_key: str = Field(max_length=24)
    author: Username | None
    body: str = Field(max_length=65536)
    created_at: datetime
    updated_at: datetime


class EventDoc(Doc):
    type: str = Field(max_length=64)
    occurred_at: datetime
    actor: Username | None = Field(description="Who did it, as the exporting server named them.")
    subject: Ref | None = Field(description="What it is about (an item, a sprint, …), if anything.")
    data: dict[str, Any]
    changes: dict[str, list[Any]] | None


class ExportDocument(Doc):
    """Everything about a project, with people named by username and items by key."""

    format: Literal["takt.project"] = "takt.project"
    version: Literal[2] = 2
    project: ProjectDoc
    members: Annotated[list[MemberDoc], Field(max_length=1000)]
    statuses: Annotated[list[StatusDoc], Field(min_length=1, max_length=50)]
    labels: Annotated[list[LabelDoc], Field(max_length=500)]
    sprints: Annotated[list[SprintDoc], Field(max_length=5000)] = []
    items: Annotated[list[ItemDoc], Field(max_length=MAX_ITEMS)]
    links: Annotated[list[LinkDoc], Field(max_length=100_000)]
    comments: Annotated[list[CommentDoc], Field(max_length=100_000)]
    history: Annotated[list[EventDoc], Field(max_length=1_000_000)]


class ImportRequest(Doc):
    key: ProjectKey = Field(description="Key of the new project.")
    name: str | None = Field(
        None, min_length=1, max_length=100, description="Default: the exported name."
    )
    document: ExportDocument
