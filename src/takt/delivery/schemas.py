"""Shapes of repositories, linked identities and pull requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypeAliasType

from takt.auth.schemas import UserSummary
from takt.core.schemas import NOT_NULL, Input

Provider = TypeAliasType("Provider", Literal["github", "gitlab"])
PullRequestState = TypeAliasType(
    "PullRequestState",
    Literal["draft", "open", "approved", "changes_requested", "merged", "closed"],
)
ReviewVerdict = TypeAliasType(
    "ReviewVerdict", Literal["approved", "changes_requested", "commented", "dismissed"]
)

# GitHub: `owner/repo`; GitLab: `group/subgroup/…/project`. Letters, digits, `.`, `_`, `-`.
FULL_NAME_PATTERN = r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)+$"
FullName = Annotated[
    str,
    Field(
        min_length=3,
        max_length=255,
        pattern=FULL_NAME_PATTERN,
        description="The repository's full name as the provider shows it: `owner/repo` on "
        "GitHub, `group/subgroup/project` on GitLab (matched ignoring case). Deliveries about "
        "another repository are recorded as ignored.",
        examples=["acme/api"],
    ),
]
Branch = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\s\x85\ufeff\x00~^:?*\[\\]+$",
        description="A branch name.",
        examples=["main"],
    ),
]
Login = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-\[\]]*$",
        description="Your login on the provider (GitHub login, GitLab username).",
        examples=["octocat"],
    ),
]


class RepositoryCreate(Input):
    provider: Provider = Field(description="`github` or `gitlab`.")
    full_name: FullName
    default_branch: Branch = "main"

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"provider": "github", "full_name": "acme/api", "default_branch": "main"}]
        },
    )

    @model_validator(mode="after")
    def _github_names_have_two_parts(self) -> RepositoryCreate:
        if self.provider == "github" and self.full_name.count("/") != 1:
            raise ValueError("a GitHub repository's full name is `owner/repo`")
        return self


class RepositoryUpdate(Input):
    full_name: Annotated[str | None, NOT_NULL] = Field(
        None,
        min_length=3,
        max_length=255,
        pattern=FULL_NAME_PATTERN,
        description="The new full name (after a rename or a transfer on the provider).",
    )
    default_branch: Annotated[Branch | None, NOT_NULL] = None

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"default_branch": "develop"}]}
    )


class RepositoryRead(BaseModel):
    id: str = Field(examples=["0c8e2f4a-51a2-4d7e-9a61-0f3c2b9d7e15"])
    project_key: str = Field(examples=["API"])
    provider: Provider
    full_name: str = Field(examples=["acme/api"])
    default_branch: str = Field(examples=["main"])
    webhook_url: str = Field(
        description="Paste this into the provider's webhook settings (Payload URL on GitHub, "
        "URL on GitLab).",
        examples=[
            "https://takt.example.com/api/v1/hooks/github/0c8e2f4a-51a2-4d7e-9a61-0f3c2b9d7e15"
        ],
    )
    secret_rotated_at: datetime | None = Field(description="When the secret was last replaced.")
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Goes up with each change; the `ETag` is built from it.")


class RepositoryWithSecret(RepositoryRead):
    secret: str = Field(
        description="The webhook secret: GitHub's *Secret*, GitLab's *Secret token*. Shown only "
        "in this response: paste it into the provider now. Rotate it to get a new one.",
        examples=["Zq3o0V8cN0mY1i0iJ3k2mBvQp7x4rT9sWl6uE5aD1fg"],
    )


class IdentityWrite(Input):
    login: Login

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"login": "octocat"}]}
    )


class IdentityRead(BaseModel):
    provider: Provider
    login: str = Field(examples=["octocat"])
    created_at: datetime


class IdentityList(BaseModel):
    data: list[IdentityRead]


class PersonRead(BaseModel):
    login: str | None = Field(description="The provider login.", examples=["octocat"])
    user: UserSummary | None = Field(
        description="The Takt user who linked this login (`PUT /users/me/identities/{provider}`)."
    )
    is_bot: bool = Field(False, description="A bot account (dependabot, renovate…).")


class ReviewerRead(BaseModel):
    login: str
    user: UserSummary | None
    requested: bool = Field(description="Asked to review and hasn't answered the request yet.")
    verdict: ReviewVerdict | None = Field(
        description="Their latest review: `approved`, `changes_requested`, `commented` or "
        "`dismissed` (null: none yet)."
    )


class SizeRead(BaseModel):
    additions: int | None = Field(description="Lines added (null: the provider didn't say).")
    deletions: int | None
    changed_files: int | None
    commits: int | None


class PullRequestRead(BaseModel):
    id: str
    project_key: str
    repository_id: str
    repository: str = Field(description="The repository's full name.", examples=["acme/api"])
    provider: Provider
    number: int = Field(examples=[42])
    title: str
    url: str | None = Field(description="The pull request on the provider.")
    author: PersonRead
    source_branch: str | None = Field(examples=["feature/API-42-refunds"])
    target_branch: str | None = Field(examples=["main"])
    state: PullRequestState
    opened_at: datetime
    ready_at: datetime | None = Field(description="When it was (first) ready for review.")
    first_review_at: datetime | None = Field(
        description="The first review by someone else than the author after it was ready."
    )
    approved_at: datetime | None = Field(description="The first approving review.")
    merged_at: datetime | None
    closed_at: datetime | None
    waiting_since: datetime | None = Field(
        description="Since when it has waited for a review (ready or re-requested, and not "
        "reviewed since); null when it isn't waiting."
    )
    review_rounds: int = Field(
        description="How many times changes were requested and a review requested again."
    )
    size: SizeRead
    reviewers: list[ReviewerRead]
    item_keys: list[str] = Field(description="The work items it names.", examples=[["API-42"]])
    updated_at: datetime


class PullRequestFilters(BaseModel):
    """What a list of pull requests is narrowed to (its query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: PullRequestState | None = None
    author: str | None = None
    reviewer: str | None = None
    item: str | None = None
    waiting_for_review_hours: float | None = None
    repository_id: str | None = None
