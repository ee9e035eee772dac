"""`RiskContextDep`: the risk in the path, found only inside a project the caller sees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from takt.auth.deps import CurrentPrincipal
from takt.core.deps import SessionDep
from takt.projects.service import load_in_project
from takt.risks import repository as repo
from takt.risks.service import RiskContext

RiskIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The risk's id.")]


async def get_risk_context(
    risk_id: RiskIdPath, principal: CurrentPrincipal, session: SessionDep
) -> RiskContext:
    found = await load_in_project(
        session, principal, repo.RISK_BY_ID, risk_id, missing="No such risk."
    )
    (owner,) = found.extras
    return RiskContext(access=found.access, risk=found.child, owner=owner)


RiskContextDep = Annotated[RiskContext, Depends(get_risk_context)]
