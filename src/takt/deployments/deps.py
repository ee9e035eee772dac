"""FastAPI dependencies of deployments: the resources in its paths, loaded through the
visibility rule (`EnvironmentContextDep`, `DeploymentContextDep`; `…ForUpdate`: read `FOR
UPDATE` on PostgreSQL for a write)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Query

from takt.auth.deps import CurrentPrincipal
from takt.auth.principal import Principal
from takt.core.bounds import in_instants, in_utc
from takt.core.deps import SessionDep
from takt.core.errors import ValidationFailed
from takt.deployments import repository as repo
from takt.deployments.environments import EnvironmentContext
from takt.deployments.service import DeploymentContext
from takt.projects.service import load_in_project

# A day (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 date-time with its offset: not a number of
# seconds, which a date-time parser would also take. Its years are `core.bounds.Instant`'s.
MOMENT_PATTERN = (
    r"^(19[7-9][0-9]|[2-8][0-9]{3}|9000)-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|z|[+-][0-9]{2}:[0-9]{2}))?$"
)


FromQuery = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=MOMENT_PATTERN,
        description="Only those started at or after this moment: a date-time with its offset, "
        "or a day (midnight UTC); from 1970 to 9000.",
        examples=["2026-11-01T00:00:00Z"],
        json_schema_extra={"format": "date-time"},
    ),
]
ToQuery = Annotated[
    str | None,
    Query(
        pattern=MOMENT_PATTERN,
        description="Only those started before this moment (as `from`).",
        examples=["2026-12-01"],
        json_schema_extra={"format": "date-time"},
    ),
]


def moment(name: str, value: str | None) -> datetime | None:
    """The moment a `FromQuery` or `ToQuery` parameter names, in UTC (422 at it for an
    impossible date, or one outside `Instant`'s range)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.upper() if "T" in value.upper() else value)
    except ValueError:
        raise ValidationFailed.at(f"/query/{name}", f"{value!r} is no date-time") from None
    parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if not in_instants(parsed):
        raise ValidationFailed.at(
            f"/query/{name}",
            "out of range",
            detail=f"`{name}` is outside 1970-01-01T00:00:00Z to 9000-12-31T00:00:00Z.",
        )
    return in_utc(parsed)


EnvironmentIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The environment's id.")
]
DeploymentIdPath = Annotated[
    str, Path(min_length=1, max_length=36, description="The deployment's id.")
]


async def _environment(
    environment_id: str, principal: Principal, session: SessionDep, *, lock: bool
) -> EnvironmentContext:
    found = await load_in_project(
        session,
        principal,
        repo.ENVIRONMENT_BY_ID,
        environment_id,
        missing="No such environment.",
        lock=lock,
    )
    return EnvironmentContext(access=found.access, environment=found.child)


async def get_environment_for_update(
    environment_id: EnvironmentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> EnvironmentContext:
    return await _environment(environment_id, principal, session, lock=True)


async def _deployment(
    deployment_id: str, principal: Principal, session: SessionDep, *, lock: bool
) -> DeploymentContext:
    found = await load_in_project(
        session,
        principal,
        repo.DEPLOYMENT_BY_ID,
        deployment_id,
        missing="No such deployment.",
        lock=lock,
    )
    return DeploymentContext(
        access=found.access, deployment=found.child, environment=found.extras[0]
    )


async def get_deployment_context(
    deployment_id: DeploymentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> DeploymentContext:
    return await _deployment(deployment_id, principal, session, lock=False)


async def get_deployment_for_update(
    deployment_id: DeploymentIdPath, principal: CurrentPrincipal, session: SessionDep
) -> DeploymentContext:
    return await _deployment(deployment_id, principal, session, lock=True)


EnvironmentForUpdateDep = Annotated[EnvironmentContext, Depends(get_environment_for_update)]
DeploymentContextDep = Annotated[DeploymentContext, Depends(get_deployment_context)]
DeploymentForUpdateDep = Annotated[DeploymentContext, Depends(get_deployment_for_update)]
