"""The events of deployments: the catalogue's `environment.*` and `deployment.*`.

A deployment's event is written once, about the deployment itself; its items are listed in
`item_keys` (the first 100) so a subscriber can follow its work without another call.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from takt.core.events import EventChanges, EventData

# Environments -------------------------------------------------------------------------------------


class EnvironmentEvent(EventData):
    """What every environment event carries (no type of its own)."""

    id: str
    name: str = Field(examples=["production"])
    type: str = Field(description="`development`, `testing`, `staging` or `production`.")
    position: int = Field(description="Its place on the promotion path (0 first).")


class EnvironmentCreated(EnvironmentEvent):
    """An environment was added to the project's promotion path."""

    event_type: ClassVar[str] = "environment.created"


class EnvironmentChanges(EventChanges):
    name: tuple[str, str] | None = None
    type: tuple[str, str] | None = None
    position: tuple[int, int] | None = None


class EnvironmentUpdated(EnvironmentEvent):
    """An environment was renamed, retyped or moved along the promotion path."""

    event_type: ClassVar[str] = "environment.updated"
    changes_model: ClassVar[type[EventChanges] | None] = EnvironmentChanges


class EnvironmentDeleted(EnvironmentEvent):
    """An environment with no deployments was removed."""

    event_type: ClassVar[str] = "environment.deleted"


# Deployments --------------------------------------------------------------------------------------


class DeploymentEvent(EventData):
    """What every deployment event carries (no type of its own)."""

    id: str = Field(description="The deployment's id.")
    environment_id: str
    environment: str = Field(description="The environment's name.", examples=["production"])
    environment_type: str = Field(examples=["production"])
    state: str = Field(
        description="After the change: `pending`, `in_progress`, `success`, `failure` or "
        "`rolled_back`."
    )
    ref: str | None = Field(None, examples=["main"])
    sha: str | None = Field(None, examples=["9f1c2ab0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9"])
    version: str | None = Field(None, examples=["v1.4.2"])
    url: str | None = None
    triggered_by: str | None = Field(None, description="Who or what triggered it.")
    is_hotfix: bool = False
    is_rollback: bool = False
    item_keys: list[str] = Field(
        default_factory=list, description="The work items it shipped (the first 100)."
    )


class DeploymentCreated(DeploymentEvent):
    """A deployment was reported (by a CI call, GitHub or GitLab, or a person)."""

    event_type: ClassVar[str] = "deployment.created"


class DeploymentChanges(EventChanges):
    state: tuple[str, str] | None = None


class DeploymentStarted(DeploymentEvent):
    """A deployment began (`in_progress`)."""

    event_type: ClassVar[str] = "deployment.started"
    changes_model: ClassVar[type[EventChanges] | None] = DeploymentChanges


class DeploymentSucceeded(DeploymentEvent):
    """A deployment finished successfully; `item_keys` are the items it shipped."""

    event_type: ClassVar[str] = "deployment.succeeded"
    changes_model: ClassVar[type[EventChanges] | None] = DeploymentChanges
    commit_count: int = Field(0, description="How many commits it shipped.")


class DeploymentFailed(DeploymentEvent):
    """A deployment failed: it finished in `failure`, was rolled back, or needed remediation
    (an incident caused by it, or a hotfix fixing it)."""

    event_type: ClassVar[str] = "deployment.failed"
    changes_model: ClassVar[type[EventChanges] | None] = DeploymentChanges
    reason: str = Field(
        description="`failure` (it finished failed), `rolled_back`, `incident` or `hotfix`."
    )


class DeploymentUpdateChanges(EventChanges):
    restored_at: tuple[str | None, str | None] | None = Field(
        None,
        description="RFC 3339 times: service was restored, then an incident it caused was "
        "reopened (or a new one opened), so it is not restored any more (null).",
    )


class DeploymentUpdated(DeploymentEvent):
    """A deployment's other details changed (version, URL, description, hotfix or rollback
    marks), or its restore was withdrawn (`changes.restored_at`: an incident it caused was
    reopened, so its recovery time runs until that incident is resolved again)."""

    event_type: ClassVar[str] = "deployment.updated"
    changes_model: ClassVar[type[EventChanges] | None] = DeploymentUpdateChanges
