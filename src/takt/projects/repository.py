"""Every query of projects and members. `restrict_to_visible` is the one visibility rule."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.concurrency import loaded_locked
from takt.core.direct import DirectReader, detached_entity
from takt.projects.models import Project, ProjectMember

# The viewer enters the visibility rule as bound parameters, so a statement built once for a
# shape of viewer (instance admin or not, token limited to projects or not) serves every request:
# SQLAlchemy then reuses its compiled form without rebuilding and re-hashing the statement tree,
# which for the item reads cost more than running the query.
VIEWER_ID = "viewer_id"
VIEWER_PROJECT_KEYS = "viewer_project_keys"


def visible_to(
    stmt: Select[*tuple[Any, ...]], *, admin: bool, limited: bool, include_deleted: bool = False
) -> Select[*tuple[Any, ...]]:
    """The one visibility rule. `stmt` selects from `projects`; the result keeps only projects
    the viewer may see and adds the viewer's role as the last column (None for an instance admin
    who is not a member). Execute it with `viewer_params(principal)`; `restrict_to_visible` binds
    them in one go. Every project-scoped read goes through here."""
    membership = and_(
        ProjectMember.project_id == Project.id, ProjectMember.user_id == bindparam(VIEWER_ID)
    )
    stmt = stmt.outerjoin(ProjectMember, membership).add_columns(ProjectMember.role)
    if not admin:
        stmt = stmt.where(ProjectMember.id.is_not(None))
    if not include_deleted:
        stmt = stmt.where(Project.deleted_at.is_(None))
    if limited:
        # An empty list matches nothing (a token limited to no project sees none).
        stmt = stmt.where(Project.key.in_(bindparam(VIEWER_PROJECT_KEYS, expanding=True)))
    return stmt


def viewer_shape(principal: Principal) -> dict[str, bool]:
    """The keyword arguments of `visible_to` for this principal."""
    return {"admin": principal.is_admin, "limited": principal.project_keys is not None}


def viewer_params(principal: Principal) -> dict[str, Any]:
    params: dict[str, Any] = {VIEWER_ID: principal.id}
    if principal.project_keys is not None:
        params[VIEWER_PROJECT_KEYS] = sorted(principal.project_keys)
    return params


def restrict_to_visible(
    stmt: Select[*tuple[Any, ...]], principal: Principal, *, include_deleted: bool = False
) -> Select[*tuple[Any, ...]]:
    """`visible_to` with the principal's parameters bound (for statements built per request)."""
    return visible_to(stmt, **viewer_shape(principal), include_deleted=include_deleted).params(
        viewer_params(principal)
    )


def visible_projects(
    principal: Principal, *, include_deleted: bool = False
) -> Select[*tuple[Any, ...]]:
    """Projects the principal may see, each with the principal's role."""
    return restrict_to_visible(select(Project), principal, include_deleted=include_deleted)


def visible_project_ids(principal: Principal, *, include_deleted: bool = False) -> Select[str]:
    """The ids of the projects the principal may see, for `IN (...)` filters of instance-wide
    lists (a project-limited token's lists stop at its projects)."""
    visible = restrict_to_visible(
        select(Project.id), principal, include_deleted=include_deleted
    ).subquery()
    return select(visible.c.id)


def findable_users(principal: Principal) -> Select[User]:
    """The active accounts the principal may look up (by search, or by username or email when
    adding a member): everyone for a credential that sees the whole instance; otherwise the
    members of the projects it can see, and the caller. Anyone else answers as if unknown."""
    stmt = select(User).where(User.is_active.is_(True))
    if principal.sees_all:
        return stmt
    shared = select(ProjectMember.user_id).where(
        ProjectMember.project_id.in_(visible_project_ids(principal))
    )
    return stmt.where(or_(User.id.in_(shared), User.id == principal.id))


def matching_users(stmt: Select[User], q: str | None) -> Select[User]:
    """`q` as a case-insensitive substring of the username or display name, or a whole email
    address (a part of one matches nothing, so a search can't spell out addresses)."""
    if not q:
        return stmt
    needle = q.strip().lower()
    return stmt.where(
        or_(
            User.username_key.contains(needle, autoescape=True),
            func.lower(User.display_name).contains(needle, autoescape=True),
            User.email_key == needle,
        )
    )


async def find_user_for(
    session: AsyncSession,
    principal: Principal,
    *,
    user_id: str | None,
    username: str | None,
    email: str | None,
) -> User | None:
    """An active account named by id, username or email. By id any account is found (ids are
    random: only someone who was told one can use it); by username or email only those the
    principal may look up (`findable_users`)."""
    if user_id:
        return await session.scalar(
            select(User).where(User.id == user_id, User.is_active.is_(True))
        )
    stmt = findable_users(principal)
    if username:
        return await session.scalar(stmt.where(User.username_key == username.strip().lower()))
    if email:
        return await session.scalar(stmt.where(User.email_key == email.strip().lower()))
    return None


@functools.cache
def _visible_project_by_key(
    *, admin: bool, limited: bool, include_deleted: bool
) -> Select[*tuple[Any, ...]]:
    return visible_to(
        select(Project), admin=admin, limited=limited, include_deleted=include_deleted
    ).where(Project.key == bindparam("project_key"))


async def get_visible_project(
    session: AsyncSession, principal: Principal, key: str, *, include_deleted: bool = False
) -> tuple[Project, str | None] | None:
    stmt = _visible_project_by_key(**viewer_shape(principal), include_deleted=include_deleted)
    row = (await session.execute(stmt, {**viewer_params(principal), "project_key": key})).first()
    return (row[0], row[1]) if row else None


async def direct_visible_project(
    reader: DirectReader, principal: Principal, key: str
) -> tuple[Project, str | None] | None:
    """`get_visible_project` of a live project on the direct path (takt.core.direct): the same
    statement, run on the driver; the project comes back in no session. Not for tokens limited
    to projects (their statement takes a list)."""
    stmt = _visible_project_by_key(admin=principal.is_admin, limited=False, include_deleted=False)
    row = await reader.first(stmt, {**viewer_params(principal), "project_key": key})
    if row is None:
        return None
    *values, role = row
    attributes = reader.statement(stmt).columns[:-1]
    return detached_entity(Project, dict(zip(attributes, values, strict=True))), role


T = TypeVar("T")


class ChildFinder(Generic[T]):
    """How one child of a project (a sprint, an item) is found by the value in its path.

    `build` returns a SELECT of the child entity, its `Project` and any extra columns, in that
    order, joined and filtered on `bindparam(param)`. `find_visible_child` runs it through the
    visibility rule, so a child of a project the caller can't see is simply not found. The
    statement is built once per shape of viewer, like `_visible_project_by_key`."""

    def __init__(self, build: Callable[[], Select[*tuple[Any, ...]]], *, param: str) -> None:
        self._build = build
        self.param = param
        self._statements: dict[tuple[bool, bool, bool], Select[*tuple[Any, ...]]] = {}

    def statement(
        self, *, admin: bool, limited: bool, lock: bool = False
    ) -> Select[*tuple[Any, ...]]:
        """`lock`: the child's row is read `FOR UPDATE` (a write on PostgreSQL), so the write
        holds it at the version it read without reading it a second time."""
        stmt = self._statements.get((admin, limited, lock))
        if stmt is None:
            stmt = visible_to(self._build(), admin=admin, limited=limited)
            if lock:
                stmt = stmt.with_for_update(of=stmt.column_descriptions[0]["entity"])
            self._statements[(admin, limited, lock)] = stmt
        return stmt


async def find_visible_child(
    session: AsyncSession,
    principal: Principal,
    finder: ChildFinder[T],
    value: str,
    params: Mapping[str, Any] | None = None,
    *,
    lock: bool = False,
) -> tuple[T, Project, tuple[Any, ...], str | None] | None:
    """The child, its project, the finder's extra columns and the principal's role (None for an
    instance admin who is not a member), in one query; None if there is no such child or the
    principal can't see its project. `lock` reads the child `FOR UPDATE` on PostgreSQL (SQLite's
    write transactions already hold the database's one write lock)."""
    lock = lock and session.get_bind().dialect.name == "postgresql"
    stmt = finder.statement(**viewer_shape(principal), lock=lock)
    bound = {**viewer_params(principal), finder.param: value, **(params or {})}
    row = (await session.execute(stmt, bound)).first()
    if row is None:
        return None
    if lock:
        loaded_locked(session, [row[0]])
    return row[0], row[1], tuple(row[2:-1]), row[-1]


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


async def get_member_by_ref(
    session: AsyncSession, project_id: str, ref: str
) -> tuple[ProjectMember, User] | None:
    """A member of the project named by user id or username (members see each other, so a
    username reveals nothing the caller couldn't list)."""
    named = or_(User.id == ref, User.username_key == ref.strip().lower())
    row = (await session.execute(members_of(project_id).where(named))).first()
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


async def member_role(session: AsyncSession, project_id: str, user_id: str) -> str | None:
    """The user's role in the project as it stands now (None: not a member)."""
    return await session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )


# The item numbers and the bottom rank are the items' bookkeeping, not part of the project's
# representation: writing them keeps its `updated_at` (the column's onupdate would move it) and,
# like every statement outside the ORM's flush, its `version`, so the project's body and its ETag
# stay as they were when an item is created or moved to the bottom.
_BOOKKEEPING = {"updated_at": Project.updated_at}


async def next_item_number(session: AsyncSession, project_id: str) -> tuple[int, str | None]:
    """Hands out the project's next item number, with the project's bottom rank as it stands
    (None: not known). The UPDATE takes the project row's lock, so concurrent creates queue
    here and never share a number; the row stays locked until the transaction ends."""
    row = (
        await session.execute(
            update(Project)
            .where(Project.id == project_id)
            .values(item_seq=Project.item_seq + 1, **_BOOKKEEPING)
            .returning(Project.item_seq, Project.bottom_rank)
            .execution_options(synchronize_session=False)
        )
    ).one()
    return int(row.item_seq), row.bottom_rank


def next_item_slot(project_id: Any) -> CTE:
    """PostgreSQL: a CTE that hands out the project's next item number and the rank after its
    bottom (`number`, `rank`), raising both under the row's lock (the UPDATE re-reads the row
    it waited for), for the statement that inserts the item with them
    (items.repository.insert_at_bottom; `project_id` is its bind parameter). No row while the
    bottom isn't known. The project's `updated_at` stays (`_BOOKKEEPING`)."""
    return (
        update(Project)
        .where(Project.id == project_id, Project.bottom_rank.is_not(None))
        .values(
            item_seq=Project.item_seq + 1,
            bottom_rank=func.takt_rank_after(Project.bottom_rank),
            **_BOOKKEEPING,
        )
        .returning(Project.item_seq.label("number"), Project.bottom_rank.label("rank"))
        .cte("slot")
    )


async def lock_bottom_rank(session: AsyncSession, project_id: str) -> str | None:
    """The project's bottom rank (None: not known), its row locked until the transaction ends
    (PostgreSQL; SQLite's write transactions are serialized already)."""
    return await session.scalar(
        select(Project.bottom_rank).where(Project.id == project_id).with_for_update()
    )


async def set_bottom_rank(session: AsyncSession, project_id: str, rank: str | None) -> None:
    """Records the project's new bottom rank; the caller holds the row's lock."""
    await session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(bottom_rank=rank, **_BOOKKEEPING)
        .execution_options(synchronize_session=False)
    )
