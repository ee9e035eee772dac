"""Project rules: creation, settings, soft deletion, membership and the last-admin guard."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.audit import ClientContext
from takt.core.audit import record_by as audit_by
from takt.core.concurrency import claim
from takt.core.direct import DirectReader
from takt.core.errors import Conflict, NotFound
from takt.core.events import EVENT_TYPES, emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.projects import repository as repo
from takt.projects.events import (
    ProjectChanges,
    ProjectCreated,
    ProjectDeleted,
    ProjectRestored,
    ProjectUpdated,
    RoleChanges,
)
from takt.projects.hooks import project_created
from takt.projects.models import Project, ProjectMember
from takt.projects.policies import ProjectAccess
from takt.projects.repository import ChildFinder
from takt.projects.schemas import MemberAdd, ProjectCreate, ProjectSettings, ProjectUpdate


class ProjectKeyTaken(Conflict):
    """A project with this key exists (or existed: keys are never reused). Choose another key."""

    code = "project-key-taken"
    title = "Project key taken"


class LastAdmin(Conflict):
    """A project must keep at least one admin. Make someone else admin first."""

    code = "last-admin"
    title = "Last admin"


class UnknownUser(NotFound):
    """No account you can add by that id, username or email. By username or email you find only
    people who share a project with you (instance admins: everyone); anyone else can tell you
    their user id (`GET /api/v1/users/me`), which always works."""

    code = "unknown-user"
    title = "Unknown user"

    def __init__(self) -> None:
        super().__init__("No account you can add by that id, username or email.")


class AlreadyMember(Conflict):
    """That user is already a member of the project; change their role instead."""

    code = "already-member"
    title = "Already a member"


async def access(
    session: AsyncSession, principal: Principal, key: str, *, include_deleted: bool = False
) -> ProjectAccess:
    """The project behind `key` if the principal may see it, else 404 (never 403: a stranger
    must not learn that the project exists)."""
    found = await repo.get_visible_project(session, principal, key, include_deleted=include_deleted)
    return _access_or_not_found(found, principal, key)


async def direct_access(reader: DirectReader, principal: Principal, key: str) -> ProjectAccess:
    """`access` to a live project for a direct read (takt.core.direct)."""
    found = await repo.direct_visible_project(reader, principal, key)
    return _access_or_not_found(found, principal, key)


def _access_or_not_found(
    found: tuple[Project, str | None] | None, principal: Principal, key: str
) -> ProjectAccess:
    if found is None:
        raise NotFound(f"No project with key {key!r}.")
    project, role = found
    return ProjectAccess(project=project, principal=principal, member_role=role)


async def list_projects(
    session: AsyncSession, principal: Principal, *, page: PageRequest
) -> tuple[list[tuple[Project, str | None]], str | None]:
    """One page of the projects the principal can see, by key, each with the principal's role."""
    rows, next_cursor = await page.fetch(
        session,
        repo.visible_projects(principal),
        keys=[SortKey(Project.key)],
        key_of=lambda row: (row[0].key,),
        sort_name="key",
        scalars=False,
    )
    return [(p, role) for p, role in rows], next_cursor


async def list_members(
    session: AsyncSession, access: ProjectAccess, *, page: PageRequest
) -> tuple[list[tuple[ProjectMember, User]], str | None]:
    """One page of the project's members, in the order they were added."""
    rows, next_cursor = await page.fetch(
        session,
        repo.members_of(access.project.id),
        keys=[SortKey(ProjectMember.created_at), SortKey(ProjectMember.id)],
        key_of=lambda row: (row[0].created_at, row[0].id),
        sort_name="added_at",
        scalars=False,
    )
    return [(m, u) for m, u in rows], next_cursor


async def search_users(
    session: AsyncSession, principal: Principal, *, q: str | None, page: PageRequest
) -> tuple[list[User], str | None]:
    """One page of the people the principal may find (`repo.findable_users`) matching `q`, by
    username."""
    return await page.fetch(
        session,
        repo.matching_users(repo.findable_users(principal), q),
        keys=[SortKey(User.username_key)],
        key_of=lambda u: (u.username_key,),
        sort_name="username",
    )


T = TypeVar("T")


@dataclass(frozen=True)
class InProject(Generic[T]):
    """A child of a project (the resource in a path such as `/sprints/{id}`), the caller's access
    to its project, and the extra columns its finder selects."""

    access: ProjectAccess
    child: T
    extras: tuple[Any, ...] = ()


async def load_in_project(
    session: AsyncSession,
    principal: Principal,
    finder: ChildFinder[T],
    value: str,
    *,
    missing: str,
    params: Mapping[str, Any] | None = None,
    lock: bool = False,
) -> InProject[T]:
    """The child `finder` finds by `value`, if the principal can see its project, else 404 with
    `missing` (the same answer as for a child that doesn't exist). One query. Every resource that
    lives in a project but is addressed without the project's key loads through here."""
    found = await repo.find_visible_child(session, principal, finder, value, params, lock=lock)
    if found is None:
        raise NotFound(missing)
    child, project, extras, role = found
    access = ProjectAccess(project=project, principal=principal, member_role=role)
    return InProject(access=access, child=child, extras=extras)


async def create_project(
    session: AsyncSession, principal: Principal, data: ProjectCreate, *, client: ClientContext
) -> ProjectAccess:
    principal.require_unlimited("Creating a project")
    if await repo.key_exists(session, data.key):
        raise ProjectKeyTaken(f"The key {data.key} is taken.")
    project = Project(
        key=data.key,
        name=data.name,
        description=data.description,
        settings=data.settings.model_dump(mode="json"),
        created_by_id=principal.id,
    )
    session.add(project)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ProjectKeyTaken(f"The key {data.key} is taken.") from exc
    session.add(ProjectMember(project_id=project.id, user_id=principal.id, role="admin"))
    await session.flush()
    created = ProjectAccess(project=project, principal=principal, member_role="admin")
    await project_created.fire(session, created)  # the workflow gives it its default statuses
    await emit(
        session,
        ProjectCreated(key=project.key, name=project.name),
        project,
        principal,
        subject=project,
    )
    await audit_by(
        session,
        principal,
        "project.created",
        client=client,
        project_id=project.id,
        target_type="project",
        target_id=project.key,
    )
    return created


async def update_project(
    session: AsyncSession, access: ProjectAccess, data: ProjectUpdate, *, if_match: str | None
) -> ProjectAccess:
    access.require_admin("Changing project settings")
    project = access.project
    await claim(session, project, if_match)
    changes: dict[str, list[Any]] = {}
    if data.name is not None and data.name != project.name:
        changes["name"] = [project.name, data.name]
        project.name = data.name
    if data.description is not None and data.description != project.description:
        changes["description"] = [project.description, data.description]
        project.description = data.description
    if data.settings is not None:
        # null means "leave as is", like an omitted field
        update = data.settings.model_dump(exclude_none=True, mode="json")
        merged = {**project.settings, **update}
        merged = ProjectSettings.model_validate(merged).model_dump(mode="json")
        if merged != project.settings:
            changes["settings"] = [project.settings, merged]
            project.settings = merged
    if changes:
        project.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            ProjectUpdated(key=project.key),
            project,
            access.principal,
            ProjectChanges.model_validate(changes),
            subject=project,
        )
    return access


async def delete_project(
    session: AsyncSession, access: ProjectAccess, *, if_match: str | None, client: ClientContext
) -> None:
    access.require_admin("Deleting a project")
    project = access.project
    await claim(session, project, if_match)
    project.deleted_at = utcnow()
    await session.flush()
    await emit(session, ProjectDeleted(key=project.key), project, access.principal, subject=project)
    await audit_by(
        session,
        access.principal,
        "project.deleted",
        client=client,
        project_id=project.id,
        target_type="project",
        target_id=project.key,
    )


async def restore_project(
    session: AsyncSession, principal: Principal, key: str, *, client: ClientContext
) -> ProjectAccess:
    """Undo a soft delete. Instance admins only."""
    if not principal.is_instance_admin:
        raise NotFound(f"No deleted project with key {key!r}.")
    found = await access(session, principal, key, include_deleted=True)
    project = found.project
    if project.deleted_at is None:
        raise Conflict(f"Project {key} is not deleted.")
    project.deleted_at = None
    await session.flush()
    await emit(session, ProjectRestored(key=project.key), project, principal, subject=project)
    await audit_by(
        session,
        principal,
        "project.restored",
        client=client,
        project_id=project.id,
        target_type="project",
        target_id=project.key,
    )
    return found


async def _lock_membership(session: AsyncSession, access: ProjectAccess, action: str) -> None:
    """One membership change of a project at a time (its row's lock), by an admin as the
    memberships stand once the lock is held: the caller's role was read before it, and a
    concurrent change may have demoted or removed them since (two admins demoting each other
    at once would otherwise both succeed, each on the strength of the role the other took)."""
    access.require_admin(action)
    project = access.project
    await repo.lock_project(session, project.id)
    if access.principal.is_admin:  # an instance admin's role doesn't come from a membership
        return
    role = await repo.member_role(session, project.id, access.principal.id)
    if role is None:  # removed meanwhile: the project is out of sight, as for any stranger
        raise NotFound(f"No project with key {project.key!r}.")
    ProjectAccess(project=project, principal=access.principal, member_role=role).require_admin(
        action
    )


async def add_member(
    session: AsyncSession, access: ProjectAccess, data: MemberAdd, *, client: ClientContext
) -> tuple[ProjectMember, User]:
    access.require_admin("Adding members")
    user = await repo.find_user_for(
        session, access.principal, user_id=data.user_id, username=data.username, email=data.email
    )
    if user is None:
        # The same answer for an unknown account, a disabled one and one the caller may not look
        # up: adding a member must not tell whether an email address has an account.
        raise UnknownUser()
    project = access.project
    await _lock_membership(session, access, "Adding members")
    if await repo.get_member(session, project.id, user.id):
        raise AlreadyMember(f"{user.username} is already a member.")
    member = ProjectMember(project_id=project.id, user_id=user.id, role=data.role)
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyMember(f"{user.username} is already a member.") from exc
    await _membership_changed(
        session, access, "member.added", user, {"role": data.role}, client=client
    )
    return member, user


async def _membership_changed(
    session: AsyncSession,
    access: ProjectAccess,
    action: str,
    user: User,
    details: dict[str, Any],
    *,
    client: ClientContext,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    """A membership change is both a project event and a security audit entry."""
    declared = EVENT_TYPES[action]
    await emit(
        session,
        declared.model_validate({"user_id": user.id, "username": user.username, **details}),
        access.project,
        access.principal,
        RoleChanges.model_validate(changes) if changes else None,
        subject=user,
    )
    await audit_by(
        session,
        access.principal,
        action,
        client=client,
        project_id=access.project.id,
        target_type="user",
        target_id=user.id,
        details=details,
    )


async def _member_or_404(
    session: AsyncSession, project: Project, user_id: str
) -> tuple[ProjectMember, User]:
    found = await repo.get_member(session, project.id, user_id)
    if found is None:
        raise NotFound("No such member.")
    return found


async def change_role(
    session: AsyncSession,
    access: ProjectAccess,
    user_id: str,
    role: str,
    *,
    client: ClientContext,
) -> tuple[ProjectMember, User]:
    project = access.project
    await _lock_membership(session, access, "Changing roles")
    member, user = await _member_or_404(session, project, user_id)
    old = member.role
    if old == role:
        return member, user
    if old == "admin" and await repo.count_admins(session, project.id) <= 1:
        raise LastAdmin("This is the project's last admin.")
    member.role = role
    await session.flush()
    await _membership_changed(
        session,
        access,
        "member.role_changed",
        user,
        {"from": old, "to": role},
        client=client,
        changes={"role": [old, role]},
    )
    return member, user


async def remove_member(
    session: AsyncSession, access: ProjectAccess, user_id: str, *, client: ClientContext
) -> None:
    project = access.project
    await _lock_membership(session, access, "Removing members")
    member, user = await _member_or_404(session, project, user_id)
    if member.role == "admin" and await repo.count_admins(session, project.id) <= 1:
        raise LastAdmin("This is the project's last admin.")
    await session.delete(member)
    await session.flush()
    await _membership_changed(
        session, access, "member.removed", user, {"role": member.role}, client=client
    )


async def next_item_number(session: AsyncSession, project: Project) -> tuple[int, str | None]:
    """The project's next work-item number (items ask here: the counter is the project's), and
    its bottom rank (an upper bound of its items' ranks; None: not known). The project row stays
    locked until the transaction ends, so concurrent creates never share one."""
    return await repo.next_item_number(session, project.id)


async def lock_bottom_rank(session: AsyncSession, project: Project) -> str | None:
    """The project's bottom rank (None: not known), its row locked until the transaction ends:
    a write putting an item at the bottom takes the place after it, then raises it."""
    return await repo.lock_bottom_rank(session, project.id)


async def set_bottom_rank(session: AsyncSession, project: Project, rank: str | None) -> None:
    """Records the bottom rank after a write that put an item there, or None when a write
    changed ranks wholesale (an import): the next create reads its items' last rank."""
    await repo.set_bottom_rank(session, project.id, rank)


def continue_item_numbers(project: Project, last_used: int) -> None:
    """An imported project goes on numbering after the last number its document used, and its
    bottom rank is found again from the imported items by the next create."""
    project.item_seq = max(project.item_seq, last_used)
    project.bottom_rank = None
