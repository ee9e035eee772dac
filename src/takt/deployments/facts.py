"""A deployment as one report tells it, in one shape for every source: the CI call
(`POST /projects/{key}/deployments`), GitHub's `deployment`/`deployment_status` and GitLab's
`Deployment Hook`/`Pipeline Hook` (parsed by `takt.integrations`). `deployments.service
.record_deployment` records it, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

DeploymentState = Literal["pending", "in_progress", "success", "failure", "rolled_back"]
DeploymentSource = Literal["api", "github", "gitlab"]
EnvironmentType = Literal["development", "testing", "staging", "production"]


@dataclass(frozen=True)
class DeploymentReport:
    """What a source says about one deployment. None: the report doesn't say.

    The same deployment is recognised again by `(source, external_id)` (providers) or by
    `(environment, pipeline_id, sequence)` (CI calls), so a report sent twice records it once
    and a later report moves its state on."""

    environment: str
    state: DeploymentState
    source: DeploymentSource = "api"
    # Used only when a provider names an environment the project doesn't have yet (it is
    # created at the end of the promotion path, with this type or one guessed from its name).
    environment_type: EnvironmentType | None = None
    external_id: str | None = None
    pipeline_id: str | None = None
    sequence: int | None = None
    ref: str | None = None
    sha: str | None = None
    version: str | None = None
    description: str | None = None
    url: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    triggered_by: str | None = None
    is_hotfix: bool = False
    is_rollback: bool = False
    # The deployment this one remediates (a hotfix's or a rollback's target), when known.
    fixes_deployment_id: str | None = None
    # The commits it ships, when the caller lists them (oldest first); otherwise they are
    # worked out from the commits Takt has seen on the branch.
    commits: tuple[str, ...] | None = None
