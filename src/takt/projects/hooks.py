"""Where higher domains react to a project's life, in its transaction (see `takt.core.hooks`)."""

from __future__ import annotations

from takt.core.hooks import Hook
from takt.projects.policies import ProjectAccess

project_created = Hook[ProjectAccess]("projects.project_created", required=True)
"""A project was just created (its creator is its admin). Required: a project starts with the
workflow `takt.workflow` gives it."""
