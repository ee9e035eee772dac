"""Shapes of statuses and labels."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.core.schemas import NOT_BLANK, NOT_NULL, Input

StatusCategory = TypeAliasType(
    "StatusCategory", Literal["backlog", "todo", "in_progress", "in_review", "done", "cancelled"]
)
Category = StatusCategory
StatusName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50, strip_whitespace=True, pattern=NOT_BLANK),
    Field(description="Shown on the board; unique in the project.", examples=["In Progress"]),
]
LabelName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=50,
        strip_whitespace=True,
        pattern=r"^[^\x00-\x1f\x7f]*[^\s\x85\ufeff\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",  # not blank
    ),
    Field(description="No control characters.", examples=["api"]),
]
Color = Annotated[
    str,
    StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$"),
    Field(description="`#rrggbb`.", examples=["#3b82f6"]),
]


class StatusRef(BaseModel):
    id: str
    name: str
    category: Category


class StatusRead(StatusRef):
    position: int = Field(description="0-based place in the workflow.")
    wip_limit: int | None = Field(description="Most items allowed in this status; null: no limit.")


class StatusCreate(Input):
    name: StatusName
    category: Category
    wip_limit: int | None = Field(None, ge=1, le=1000)
    position: int | None = Field(None, ge=0, le=49, description="Default: last.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "QA", "category": "in_review", "wip_limit": 3}]},
    )


class StatusUpdate(Input):
    name: Annotated[StatusName | None, NOT_NULL] = None
    category: Annotated[StatusCategory | None, NOT_NULL] = None
    wip_limit: Annotated[int | None, NOT_NULL] = Field(
        None, ge=0, le=1000, description="0 removes the limit."
    )
    position: Annotated[int | None, NOT_NULL] = Field(None, ge=0, le=49)


class StatusList(BaseModel):
    data: list[StatusRead]
    next_cursor: None = Field(None, description="Always null: a workflow has at most 50.")


class LabelCreate(Input):
    name: LabelName
    color: Color = "#6b7280"


class LabelUpdate(Input):
    name: Annotated[LabelName | None, NOT_NULL] = None
    color: Annotated[Color | None, NOT_NULL] = None


class LabelRead(BaseModel):
    id: str
    name: str
    color: str


class LabelList(BaseModel):
    data: list[LabelRead]
    next_cursor: None = Field(None, description="Always null: a project has at most 500.")
