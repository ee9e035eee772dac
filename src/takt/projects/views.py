"""Project rows to API shapes."""

from __future__ import annotations

from takt.projects.models import Project
from takt.projects.schemas import ProjectRead, ProjectSettings


def project_read(project: Project, role: str | None) -> ProjectRead:
    return ProjectRead(
        id=project.id,
        key=project.key,
        name=project.name,
        description=project.description,
        settings=ProjectSettings.model_validate(project.settings),
        role=role,
        created_at=project.created_at,
        updated_at=project.updated_at,
        deleted_at=project.deleted_at,
        version=project.version,
    )
