"""Shapes of environments and deployments (the CI call, its answer, what a deployment
shipped)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.bounds import Instant
from takt.core.schemas import NOT_BLANK, NOT_NULL, Input
from takt.workflow.schemas import StatusRef

EnvironmentType = TypeAliasType(
    "EnvironmentType", Literal["development", "testing", "staging", "production"]
)
DeploymentState = TypeAliasType(
    "DeploymentState", Literal["pending", "in_progress", "success", "failure", "rolled_back"]
)
DeploymentSource = TypeAliasType("DeploymentSource", Literal["api", "github", "gitlab"])

MAX_LISTED_COMMITS = 1000

EnvironmentName = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=64,
        strip_whitespace=True,
        pattern=r"^[^\x00-\x1f\x7f]*[^\s\x85\ufeff\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
    ),
    Field(
        description="Free text, unique in the project ignoring case; no control characters.",
        examples=["production"],
    ),
]
Sha = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{7,64}$"),
    Field(
        description="A commit SHA (hex; a full 40- or 64-character SHA is best: Takt matches "
        "commits by their full SHA).",
        examples=["9f1c2ab0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9"],
    ),
]
WebUrl = Annotated[
    str,
    StringConstraints(max_length=2048, pattern=r"^https?://[^\s\x85\ufeff\x00-\x1f\x7f]+$"),
    Field(
        description="An http(s) link (the CI job, the release page).",
        examples=["https://github.com/acme/api/actions/runs/123"],
    ),
]
Label = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NOT_BLANK)]


# Environments -------------------------------------------------------------------------------------


class EnvironmentCreate(Input):
    name: EnvironmentName
    type: EnvironmentType = Field(
        description="What kind of place it is: `development`, `testing`, `staging` or "
        "`production` (DORA reads `production` unless asked)."
    )
    position: int | None = Field(
        None,
        ge=0,
        le=19,
        description="Its place on the promotion path (0 first); the ones from there move one "
        "on. Default: last.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "qa", "type": "testing", "position": 1}]},
    )


class EnvironmentUpdate(Input):
    name: Annotated[EnvironmentName | None, NOT_NULL] = None
    type: Annotated[EnvironmentType | None, NOT_NULL] = None
    position: Annotated[int | None, NOT_NULL] = Field(
        None,
        ge=0,
        le=19,
        description="Move it along the promotion path (the others close up around it).",
    )

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"position": 0}]})


class EnvironmentRef(BaseModel):
    id: str = Field(examples=["5b0f6f3e-3f43-4a8b-9a55-8f5f3d7f9d10"])
    name: str = Field(examples=["production"])
    type: EnvironmentType


class EnvironmentRead(EnvironmentRef):
    project_key: str = Field(examples=["API"])
    position: int = Field(description="Its place on the promotion path (0 first).")
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Goes up with each change; the `ETag` is built from it.")


class EnvironmentList(BaseModel):
    data: list[EnvironmentRead]
    next_cursor: None = Field(None, description="Always null: a project has at most 20.")


# Deployments --------------------------------------------------------------------------------------


class DeploymentCreate(Input):
    """What a CI job (or a person) reports about a deployment. Sent again with the same
    `pipeline_id`, `sequence` and `environment`, it is the same deployment: the answer is 200
    with it, its state moved forward if the report says so."""

    environment: EnvironmentName = Field(
        description="The environment's name (one of the project's, ignoring case).",
        examples=["production"],
    )
    state: DeploymentState = Field(
        description="`pending`, `in_progress`, `success` or `failure` (`rolled_back` only for "
        "a deployment that succeeded)."
    )
    ref: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=255,
        pattern=r"^[^\s\x85\ufeff\x00-\x1f\x7f]+$",
        description="The branch or tag deployed (`main`, `refs/heads/main`, `v1.4.2`).",
        examples=["main"],
    )
    sha: Annotated[Sha | None, NOT_NULL] = None
    version: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=NOT_BLANK,
        description="What was deployed, as the team names it.",
        examples=["v1.4.2"],
    )
    started_at: Annotated[Instant | None, NOT_NULL] = Field(
        None,
        description="With its offset, from 1970 to 9000. Default: when Takt first hears of it.",
    )
    finished_at: Annotated[Instant | None, NOT_NULL] = Field(
        None,
        description="For `success` and `failure`, with its offset, from 1970 to 9000; "
        "default: when Takt hears it finished.",
    )
    pipeline_id: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[^\s\x85\ufeff\x00-\x1f\x7f]+$",
        description="The CI run's id (`$GITHUB_RUN_ID`, `$CI_PIPELINE_ID`): with `sequence` and "
        "the environment, what makes a repeated call the same deployment. Without it every "
        "call is a new deployment.",
        examples=["9876543210"],
    )
    sequence: Annotated[int | None, NOT_NULL] = Field(
        None,
        ge=0,
        le=9_007_199_254_740_991,
        description="Which deployment of the pipeline this is (`$GITHUB_RUN_ATTEMPT`, "
        "`$CI_JOB_ID`). Default 1 when `pipeline_id` is given.",
        examples=[1],
    )
    triggered_by: Annotated[Label | None, NOT_NULL] = Field(
        None, description="Who or what triggered it (a CI name, a login).", examples=["octocat"]
    )
    is_hotfix: bool = Field(False, description="An unplanned fix (with `fixes_deployment_id`).")
    is_rollback: bool = Field(
        False, description="It puts back an earlier version (with `fixes_deployment_id`)."
    )
    fixes_deployment_id: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=36,
        description="The deployment this hotfix or rollback remediates: it becomes failed "
        "(needed remediation), is restored when this one succeeds, and a rollback that "
        "succeeds marks it `rolled_back`.",
    )
    commits: Annotated[list[Sha] | None, NOT_NULL] = Field(
        None,
        max_length=MAX_LISTED_COMMITS,
        description="The commits it ships, when the CI knows them (e.g. `git rev-list "
        "$PREVIOUS..$GITHUB_SHA`); otherwise Takt works them out from the pushes it saw.",
    )
    url: Annotated[WebUrl | None, NOT_NULL] = None
    description: Annotated[str | None, NOT_NULL] = Field(None, max_length=10_000)
    repository_id: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=1,
        max_length=36,
        description="The linked repository deployed (default: the one whose pushes had `sha`).",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "environment": "production",
                    "state": "success",
                    "ref": "main",
                    "sha": "9f1c2ab0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9",
                    "version": "v1.4.2",
                    "pipeline_id": "9876543210",
                    "sequence": 1,
                    "triggered_by": "github-actions",
                    "url": "https://github.com/acme/api/actions/runs/9876543210",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentCreate:
        if self.sequence is not None and self.pipeline_id is None:
            raise ValueError("sequence needs pipeline_id")
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        if self.is_hotfix and self.is_rollback:
            raise ValueError("a deployment is a hotfix or a rollback, not both")
        return self


class DeploymentUpdate(Input):
    state: Annotated[DeploymentState | None, NOT_NULL] = Field(
        None,
        description="Forward only: `pending` → `in_progress` → `success` | `failure`; "
        "`success` → `rolled_back`.",
    )
    version: Annotated[str | None, NOT_NULL] = Field(
        None, min_length=1, max_length=128, pattern=NOT_BLANK, examples=["v1.4.3"]
    )
    url: Annotated[WebUrl | None, NOT_NULL] = None
    description: Annotated[str | None, NOT_NULL] = Field(None, max_length=10_000)
    is_hotfix: Annotated[bool | None, NOT_NULL] = None
    is_rollback: Annotated[bool | None, NOT_NULL] = None
    fixes_deployment_id: Annotated[str | None, NOT_NULL] = Field(
        None, min_length=1, max_length=36, description="As in the report."
    )

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"state": "rolled_back"}]}
    )

    @model_validator(mode="after")
    def _not_both(self) -> DeploymentUpdate:
        if self.is_hotfix and self.is_rollback:
            raise ValueError("a deployment is a hotfix or a rollback, not both")
        return self


class DeploymentRead(BaseModel):
    id: str = Field(examples=["7d1b7a52-6a0e-4d0c-a1a4-1f0c3b3b1e2a"])
    project_key: str = Field(examples=["API"])
    environment: EnvironmentRef
    repository_id: str | None = Field(description="The linked repository deployed, if known.")
    source: DeploymentSource = Field(description="Where Takt learned of it.")
    external_id: str | None = Field(description="The provider's deployment id (GitHub, GitLab).")
    pipeline_id: str | None
    sequence: int | None
    ref: str | None = Field(examples=["main"])
    sha: str | None = Field(examples=["9f1c2ab0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9"])
    version: str | None = Field(description="What was deployed.", examples=["v1.4.2"])
    description: str
    url: str | None
    state: DeploymentState
    started_at: datetime
    finished_at: datetime | None
    succeeded_at: datetime | None = Field(
        description="When it reached `success` (kept when rolled back later)."
    )
    triggered_by: str | None = Field(description="Who or what triggered it, as reported.")
    reported_by: UserSummary | None = Field(description="The account that reported it.")
    is_hotfix: bool
    is_rollback: bool
    fixes_deployment_id: str | None = Field(description="The deployment it remediates.")
    failed: bool = Field(
        description="It needed remediation: an incident names it as its cause, it was rolled "
        "back, or a hotfix fixes it (what the change failure rate counts). A deployment that "
        "only finished in `failure` never went live and is not failed."
    )
    failed_at: datetime | None = Field(description="When the need for remediation began.")
    restored_at: datetime | None = Field(
        description="When service was restored (incident resolved, fixing deployment succeeded)."
    )
    previous_deployment_id: str | None = Field(
        description="The previous successful deployment to the environment (set on success)."
    )
    shipped_commit_count: int = Field(description="How many commits it shipped.")
    shipped_item_count: int = Field(
        description="How many work items it shipped (items in the trash aside): those listed "
        "in the single answer's `shipped.items` (the first 500)."
    )
    shipped_complete: bool = Field(
        description="Whether what it shipped is fully known (false: the previous deployment's "
        "commit or this one was never seen by Takt)."
    )
    revision: int = Field(description="Goes up with each change; the `ETag` is built from it.")
    created_at: datetime
    updated_at: datetime


class ShippedCommit(BaseModel):
    sha: str
    committed_at: datetime | None
    message: str | None = Field(description="Its first line, when Takt saw the commit.")
    author: str | None


class ShippedPullRequest(BaseModel):
    id: str
    repository_id: str
    number: int
    title: str
    url: str | None
    state: str


class ShippedItem(BaseModel):
    key: str = Field(examples=["API-42"])
    title: str
    status: StatusRef


class Shipped(BaseModel):
    complete: bool = Field(
        description="false: the previous successful deployment's commit, or this one, is "
        "unknown to Takt, so only what could be established is listed."
    )
    commit_count: int
    commits: list[ShippedCommit] = Field(description="The newest 100.")
    pull_requests: list[ShippedPullRequest] = Field(
        description="Pull requests whose head commit it shipped (at most 100)."
    )
    items: list[ShippedItem] = Field(
        description="Work items linked to its commits or pull requests (at most 500)."
    )


class DeploymentDetail(DeploymentRead):
    shipped: Shipped


class DeploymentFilters(BaseModel):
    """What a list of deployments is narrowed to (its query parameters)."""

    model_config = ConfigDict(frozen=True)

    environment: str | None = None
    state: DeploymentState | None = None
    sha: str | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None
