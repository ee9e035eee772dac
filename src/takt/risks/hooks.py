"""Where higher domains act when a risk changes, in its transaction (see `takt.core.hooks`):
a blocker promoted to a risk that is deleted stops naming it."""

from __future__ import annotations

from dataclasses import dataclass

from takt.core.hooks import Hook
from takt.projects.policies import ProjectAccess
from takt.risks.models import Risk


@dataclass(frozen=True)
class RiskDeleting:
    """`risk` is about to be deleted from the register."""

    access: ProjectAccess
    risk: Risk


risk_deleting = Hook[RiskDeleting]("risks.risk_deleting", required=True)
"""Fired before a risk is deleted. Required: the blocker it was promoted from
(`takt.blockers`) must stop naming it, and record that it did, before the row goes."""
