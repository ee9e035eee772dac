"""The project export document: one JSON object that `POST /projects/import` takes back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from takt.core.schemas import Input
from takt.items.ranking import is_valid_rank
from takt.projects.schemas import ProjectKey, ProjectSettings

FORMAT = "takt.project"
MAX_ITEMS = 20_000


def _valid_rank(key: str) -> str:
    # A malformed key would make the next create or move in the project fail.
    if not is_valid_rank(key):
        raise ValueError("not a rank key this server issues (base 62, not ending in 0)")
    return key


class Doc(Input):
    """Document parts: strict like every request body."""


class ProjectDoc(Doc):
    key: str = Field(max_length=10)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(max_length=65536)
    settings: ProjectSettings


class MemberDoc(Doc):
    username: str = Field(max_length=32)
    role: Literal["admin", "member", "viewer"]


class StatusDoc(Doc):
    name: str = Field(max_length=50)
    category: Literal["backlog", "todo", "in_progress", "in_review", "done", "cancelled"]
    position: int = Field(ge=0, le=49)
    wip_limit: int | None = Field(None, ge=1, le=1000)


class LabelDoc(Doc):
    name: str = Field(max_length=50)
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")


class ItemDoc(Doc):
    key: str = Field(max_length=24)
    number: int = Field(ge=1)
    type: Literal["epic", "story", "task", "bug", "spike"]
    title: str = Field(min_length=1, max_length=255)
    description: str = Field(max_length=65536)
    status: str = Field(max_length=50)
    priority: Literal["none", "low", "medium", "high", "urgent"]
    assignee: str | None = Field(max_length=32)
    reporter: str | None = Field(max_length=32)
    estimate: float | None = Field(ge=0, le=1000)
    labels: list[str] = Field(max_length=20)
    parent_key: str | None = Field(max_length=24)
    sprint_id: str | None = Field(max_length=36)
    due_date: date | None
    blocked: bool
    rank: Annotated[str, AfterValidator(_valid_rank)] = Field(max_length=64)
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class LinkDoc(Doc):
    source: str = Field(max_length=24)
    target: str = Field(max_length=24)
    type: Literal["blocks", "relates_to", "duplicates"]


class CommentDoc(Doc):
    item_key: str = Field(max_length=24)
    author: str | None = Field(max_length=32)
    body: str = Field(max_length=65536)
    mentions: list[str] = Field(max_length=50)
    created_at: datetime
    updated_at: datetime


class EventDoc(Doc):
    type: str = Field(max_length=64)
    occurred_at: datetime
    actor: str | None = Field(max_length=32)
    subject_key: str | None = Field(max_length=24, description="The item it is about, if any.")
    data: dict[str, Any]
    changes: dict[str, list[Any]] | None


class ExportDocument(Doc):
    """Everything about a project, with people named by username and items by key."""

    format: Literal["takt.project"] = "takt.project"
    version: Literal[1] = 1
    project: ProjectDoc
    members: Annotated[list[MemberDoc], Field(max_length=1000)]
    statuses: Annotated[list[StatusDoc], Field(min_length=1, max_length=50)]
    labels: Annotated[list[LabelDoc], Field(max_length=500)]
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
