"""The events of delivery: the catalogue's `repository.*`, `pull_request.*` and `commit.*`.

A pull request's or a commit's event is written once for each work item it links, with that
item as its subject (so it shows in the item's history, `GET /items/{key}/history`) and its key
in `item_key`; when it links none, once, about the pull request or commit itself, with
`item_key` null. Its actor is the Takt user whose linked identity made the change (null when
nobody's is linked).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from takt.core.events import EventChanges, EventData

# Repositories -------------------------------------------------------------------------------------


class RepositoryLinked(EventData):
    """A GitHub or GitLab repository was linked to the project (its secret is never in an
    event)."""

    event_type: ClassVar[str] = "repository.linked"
    id: str
    provider: str = Field(description="`github` or `gitlab`.")
    full_name: str = Field(examples=["acme/api"])


class RepositoryChanges(EventChanges):
    full_name: tuple[str, str] | None = None
    default_branch: tuple[str, str] | None = None


class RepositoryUpdated(EventData):
    """A linked repository's name or default branch changed."""

    event_type: ClassVar[str] = "repository.updated"
    changes_model: ClassVar[type[EventChanges] | None] = RepositoryChanges
    id: str
    full_name: str


class RepositorySecretRotated(EventData):
    """A linked repository got a new webhook secret; deliveries signed with the old one are
    refused from now on."""

    event_type: ClassVar[str] = "repository.secret_rotated"
    id: str
    full_name: str


class RepositoryUnlinked(EventData):
    """A repository was unlinked: its pull requests, commits and inbox went with it."""

    event_type: ClassVar[str] = "repository.unlinked"
    id: str
    provider: str
    full_name: str


# Pull requests ------------------------------------------------------------------------------------


class PullRequestEvent(EventData):
    """What every pull-request event carries (no type of its own)."""

    id: str = Field(description="The pull request's id in Takt.")
    repository_id: str
    repository: str = Field(description="The repository's full name.", examples=["acme/api"])
    number: int = Field(examples=[42])
    title: str
    url: str | None = None
    author: str | None = Field(None, description="The author's provider login.")
    state: str = Field(
        description="After the change: `draft`, `open`, `approved`, `changes_requested`, "
        "`merged` or `closed`."
    )
    item_key: str | None = Field(
        None, description="The work item this copy of the event is about (null: none linked)."
    )


class PullRequestOpened(PullRequestEvent):
    """A pull request was opened (or first seen), as a draft or ready for review."""

    event_type: ClassVar[str] = "pull_request.opened"
    draft: bool = False
    source_branch: str | None = None
    target_branch: str | None = None


class PullRequestLinked(PullRequestEvent):
    """A pull request already known came to name this work item (an edited title, description
    or branch)."""

    event_type: ClassVar[str] = "pull_request.linked"


class PullRequestReadyForReview(PullRequestEvent):
    """A draft pull request was marked ready for review."""

    event_type: ClassVar[str] = "pull_request.ready_for_review"


class PullRequestConvertedToDraft(PullRequestEvent):
    """A pull request went back to draft."""

    event_type: ClassVar[str] = "pull_request.converted_to_draft"


class PullRequestReviewRequested(PullRequestEvent):
    """Someone was asked to review the pull request."""

    event_type: ClassVar[str] = "pull_request.review_requested"
    reviewer: str = Field(description="The reviewer's provider login.")


class PullRequestReviewSubmitted(PullRequestEvent):
    """A review was submitted: approved, changes requested or commented (GitLab: an approval,
    or a comment on the merge request)."""

    event_type: ClassVar[str] = "pull_request.review_submitted"
    reviewer: str = Field(description="The reviewer's provider login.")
    review_state: str = Field(description="`approved`, `changes_requested` or `commented`.")


class PullRequestReviewDismissed(PullRequestEvent):
    """A review was dismissed (GitLab: an approval withdrawn)."""

    event_type: ClassVar[str] = "pull_request.review_dismissed"
    reviewer: str


class PullRequestMerged(PullRequestEvent):
    """A pull request was merged."""

    event_type: ClassVar[str] = "pull_request.merged"
    approved: bool = Field(description="Whether an approving review stood when it merged.")


class PullRequestClosed(PullRequestEvent):
    """A pull request was closed without being merged."""

    event_type: ClassVar[str] = "pull_request.closed"


class PullRequestReopened(PullRequestEvent):
    """A closed pull request was reopened."""

    event_type: ClassVar[str] = "pull_request.reopened"


# Commits ------------------------------------------------------------------------------------------


class CommitPushed(EventData):
    """A commit was pushed (learned from a push; a commit already known is not recorded
    again)."""

    event_type: ClassVar[str] = "commit.pushed"
    id: str = Field(description="The commit's id in Takt.")
    repository_id: str
    repository: str
    sha: str
    message: str = Field(description="The first line of the message (at most 255 characters).")
    branch: str | None = None
    author: str | None = Field(None, description="The author's provider login, or name.")
    forced: bool = Field(False, description="Pushed with --force.")
    item_key: str | None = None
