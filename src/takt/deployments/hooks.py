"""Where higher domains act when an environment changes, in its transaction (see
`takt.core.hooks`): an environment incidents were recorded in can't be deleted."""

from __future__ import annotations

from dataclasses import dataclass

from takt.core.hooks import Hook
from takt.deployments.models import Environment
from takt.projects.policies import ProjectAccess


@dataclass(frozen=True)
class EnvironmentDeleting:
    """`environment` is about to be deleted from the promotion path."""

    access: ProjectAccess
    environment: Environment


environment_deleting = Hook[EnvironmentDeleting]("deployments.environment_deleting", required=True)
"""Fired before an environment is deleted, after deployments' own check (no deployment went to
it). Required: incidents (`takt.incidents`) refuse the deletion of an environment they were
recorded in (`environment-in-use`), which would take them with it."""
