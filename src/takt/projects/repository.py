"""Every query of projects and members. `restrict_to_visible` is the one visibility rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.projects.models import Project, ProjectMember


def restrict_to_visible(
    stmt: Select[*tuple[Any, ...]], principal: Principal, *, include_deleted: bool = False
) -> Select[*tuple[Any, ...]]:
    """The one visibility rule. `stmt` selects from `projects`; the result keeps only projects
    the principal may see and adds the principal's role as the last column (None for an instance
    admin who is not a member). Every project-scoped read goes through here."""
    membership = and_(ProjectMember.project_id == Project.id, ProjectMember.user_id == principal.id)
    stmt = stmt.outerjoin(ProjectMember, membership).add_columns(ProjectMember.role)
    if not principal.is_admin:
        stmt = stmt.where(ProjectMember.id.is_not(None))
    if not include_deleted:
        stmt = stmt.where(Project.deleted_at.is_(None))
    if principal.project_keys is not None:
        stmt = stmt.where(
            Project.key.in_(sorted(principal.project_keys))
            if principal.project_keys
            else literal(False)
        )
    return stmt


def visible_projects(
    principal: Principal, *, include_deleted: bool = False
) -> Select[*tuple[Any, ...]]:
    """Projects the principal may see, each with the principal's role."""
    return restrict_to_visible(select(Project), principal, include_deleted=include_deleted)


async def get_visible_project(
    session: AsyncSession, principal: Principal, key: str, *, include_deleted: bool = False
) -> tuple[Project, str | None] | None:
    row = (
        await session.execute(
            visible_projects(principal, include_deleted=include_deleted).where(Project.key == key)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def key_exists(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(Project.id).where(Project.key == key)) is not None


def members_of(project_id: str) -> Select[ProjectMember, User]:
    return (
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
    )


async def get_member(
    session: AsyncSession, project_id: str, user_id: str
) -> tuple[ProjectMember, User] | None:
    row = (
        await session.execute(members_of(project_id).where(ProjectMember.user_id == user_id))
    ).first()
    return (row[0], row[1]) if row else None


async def count_admins(session: AsyncSession, project_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.role == "admin")
        )
        or 0
    )


async def lock_project(session: AsyncSession, project_id: str) -> None:
    """Serialize membership changes of one project (FOR UPDATE on PostgreSQL; SQLite's write
    transactions are serialized already), so two admins can't demote each other at once."""
    await session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
