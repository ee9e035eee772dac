"""Shapes of readiness: the checklist's answer, the project's policy, and the promotion
timeline of an item or a pull request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from takt.core.schemas import Input
from takt.incidents.schemas import IncidentSeverity

CheckName = TypeAliasType(
    "CheckName",
    Literal[
        "items_done",
        "pull_requests_approved",
        "no_open_blockers",
        "promoted_through_previous",
        "no_open_incidents",
    ],
)
StageName = TypeAliasType(
    "StageName", Literal["committed", "pull_request_ready", "first_review", "merged", "deployed"]
)
EnvironmentName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="An environment of the project, by name (ignoring case).",
        examples=["staging"],
    ),
]

# At most this many items are asked about at once (`items=`), and a commit's items evaluated.
MAX_ITEMS = 200
# At most this many environments a policy names a required predecessor for.
MAX_POLICY_ENVIRONMENTS = 50


# The answer -----------------------------------------------------------------------------------


class ItemRef(BaseModel):
    key: str = Field(examples=["API-42"])
    title: str
    status: str = Field(description="Its status's name.", examples=["In progress"])
    category: str = Field(description="Its status's category.", examples=["in_progress"])


class PullRequestRef(BaseModel):
    id: str = Field(description="The pull request's id in Takt.")
    repository: str = Field(examples=["acme/checkout"])
    number: int = Field(examples=[128])
    title: str
    state: str = Field(description="`draft`, `open`, `approved`, `changes_requested`, `merged`.")
    approved: bool = Field(description="Whether an approving review stands (stood at merge).")
    url: str | None
    items: list[str] = Field(description="The keys of the evaluated items it names.")


class BlockerRef(BaseModel):
    id: str
    item_key: str = Field(examples=["API-42"])
    reason: str
    raised_at: datetime


class IncidentRef(BaseModel):
    id: str
    number: int = Field(description="Numbered per project (INC-1, INC-2, …).", examples=[4])
    title: str
    severity: IncidentSeverity
    opened_at: datetime


class DeploymentRef(BaseModel):
    id: str
    version: str | None = Field(description="What was deployed, as the team names it.")
    succeeded_at: datetime | None


class CheckDetails(BaseModel):
    """What a check found wrong (or, for the promotion check, what it looked at). Lists hold
    only the offending entries; each is empty when the check passed."""

    items: list[ItemRef] = Field(
        default_factory=list,
        description="Items not done (`items_done`), or not shipped to `environment` "
        "(`promoted_through_previous`).",
    )
    pull_requests: list[PullRequestRef] = Field(
        default_factory=list, description="Pull requests not merged with an approving review."
    )
    blockers: list[BlockerRef] = Field(
        default_factory=list, description="Open blockers on the items."
    )
    incidents: list[IncidentRef] = Field(
        default_factory=list, description="Open incidents at or above the severity threshold."
    )
    environment: str | None = Field(
        None, description="`promoted_through_previous`: the environment that must come first."
    )
    deployment: DeploymentRef | None = Field(
        None,
        description="`promoted_through_previous` for a commit: its latest successful "
        "deployment to `environment`, if any.",
    )


class CheckResult(BaseModel):
    check: CheckName
    enabled: bool = Field(description="Off in the project's policy: not evaluated, not counted.")
    passed: bool | None = Field(description="Null when the check is off.")
    reason: str = Field(
        description="Why it passed or failed, in a sentence.",
        examples=["2 of 5 items are not done: API-3 (In progress), API-7 (To do)."],
    )
    details: CheckDetails


class ReadinessAnswer(BaseModel):
    """Whether a commit or a set of items is ready to go to an environment."""

    ready: bool = Field(description="Every check that is on passed.")
    environment: str = Field(examples=["production"])
    ref: str | None = Field(description="The commit asked about (`ref=`); null for `items=`.")
    items: list[str] = Field(
        description="The items evaluated: those asked about, or those found for the commit."
    )
    checks: list[CheckResult] = Field(
        description="Failing checks first, then passing ones, then those turned off; in the "
        "order of `CHECKS` within each group."
    )
    evaluated_at: datetime


# The policy -----------------------------------------------------------------------------------


class CheckSwitch(Input):
    enabled: bool = Field(True, description="Whether the check runs.")


class PromotionCheck(Input):
    enabled: bool = Field(True, description="Whether the check runs.")
    required_before: dict[EnvironmentName, EnvironmentName | None] = Field(
        default_factory=dict,
        max_length=MAX_POLICY_ENVIRONMENTS,
        description="Target environment → the environment a change must reach first. A target "
        "not named here needs the environment just before it on the promotion path; `null` "
        "needs none.",
        examples=[{"production": "staging"}],
    )


class IncidentCheck(Input):
    enabled: bool = Field(True, description="Whether the check runs.")
    min_severity: IncidentSeverity = Field(
        "sev2",
        description="Open incidents of this severity or worse (sev1 is the worst) block.",
    )


class PolicyChecks(Input):
    """Each check's settings; a check left out takes its defaults (on)."""

    items_done: CheckSwitch = Field(default_factory=CheckSwitch)
    pull_requests_approved: CheckSwitch = Field(default_factory=CheckSwitch)
    no_open_blockers: CheckSwitch = Field(default_factory=CheckSwitch)
    promoted_through_previous: PromotionCheck = Field(default_factory=PromotionCheck)
    no_open_incidents: IncidentCheck = Field(default_factory=IncidentCheck)


class ReadinessPolicyWrite(Input):
    checks: PolicyChecks = Field(default_factory=PolicyChecks)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "checks": {
                        "no_open_blockers": {"enabled": False},
                        "promoted_through_previous": {"required_before": {"production": "staging"}},
                        "no_open_incidents": {"min_severity": "sev1"},
                    }
                }
            ]
        },
    )


class ReadinessPolicyRead(BaseModel):
    project_key: str = Field(examples=["API"])
    checks: PolicyChecks = Field(description="Every check, with defaults filled in.")
    updated_at: datetime | None = Field(description="Null while the project uses the defaults.")
    version: int = Field(description="0 while the project uses the defaults.")


# The promotion timeline -----------------------------------------------------------------------


class PromotionStage(BaseModel):
    stage: StageName
    environment: str | None = Field(description="For `deployed`: where to.")
    environment_type: str | None = Field(description="For `deployed`: the environment's type.")
    deployment_id: str | None = Field(
        description="For `deployed`: the first successful deployment that shipped it there."
    )
    at: datetime | None = Field(description="When the stage was reached; null if not (yet).")
    seconds_since_previous: int | None = Field(
        description="Seconds since the stage reached just before it in this list (missing "
        "ones skipped; never negative: a stage reached before the one listed above it counts "
        "0); null when this stage or every earlier one is missing.",
        examples=[5400],
    )


class PromotionTimeline(BaseModel):
    """A change's way to production: committed → pull request ready → first review → merged →
    deployed to each environment in promotion order."""

    item_key: str | None = Field(description="The item asked about, or null.")
    pull_request_id: str | None = Field(description="The pull request asked about, or null.")
    stages: list[PromotionStage]
    total_seconds: int | None = Field(
        description="From the first stage reached to the last one reached; null with fewer "
        "than two."
    )
