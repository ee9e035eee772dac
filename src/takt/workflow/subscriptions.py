"""How the workflow follows the lower domains' changes: a new project gets its default
statuses (`takt.projects.hooks.project_created`, in the creation's transaction)."""

from __future__ import annotations

from takt.projects.hooks import project_created
from takt.workflow import service


def connect() -> None:
    project_created.subscribe(service.create_default_workflow)
