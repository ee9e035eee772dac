"""Project rows to the API's response shapes."""

from __future__ import annotations

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.projects.models import Project, ProjectMember
from takt.projects.schemas import MemberRead, ProjectRead, ProjectSettings


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


def user_summary(user: User) -> UserSummary:
    """Someone as colleagues see them (never their email)."""
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def member_read(member: ProjectMember, user: User) -> MemberRead:
    return MemberRead(user=user_summary(user), role=member.role, added_at=member.created_at)
