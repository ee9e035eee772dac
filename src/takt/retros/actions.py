"""Action items: during `discuss`, each becomes a work item in one call (a task for its owner,
through items' service), linked to the retro; the project's next retro opens with them."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.errors import ValidationFailed
from takt.core.events import emit
from takt.items import service as items
from takt.items.schemas import ItemCreate
from takt.projects import repository as projects_repo
from takt.projects.policies import ProjectAccess
from takt.retros import repository as repo
from takt.retros.events import RetroActionCreated
from takt.retros.models import Retro, RetroAction
from takt.retros.repository import ActionRow
from takt.retros.schemas import ActionCreate
from takt.retros.service import MAX_ACTIONS, RetroContext, RetroFull, require_phase_exclusive

RETRO_LINE = "Action item of the retrospective “{title}” ({day}): /api/v1/retros/{id}"


async def _owner(session: AsyncSession, access: ProjectAccess, ref: str) -> User:
    found = await projects_repo.get_member_by_ref(session, access.project.id, ref)
    if found is None or found[0].role == "viewer":
        raise ValidationFailed.at(
            "/owner", f"{ref!r} is not a member of this project who can take work (or a viewer)"
        )
    return found[1]


async def create_action(session: AsyncSession, ctx: RetroContext, data: ActionCreate) -> ActionRow:
    """An action item, during `discuss`: a work item of type task, assigned to its owner, with
    a line naming the retro, created through items' service (so it is in the backlog and its
    history like any item), and linked to the retro."""
    access, retro = ctx.access, ctx.retro
    access.require_write()
    await require_phase_exclusive(session, ctx, "discuss")  # the count below stays true
    if data.group_id is not None and await repo.group_in(session, retro.id, data.group_id) is None:
        raise ValidationFailed.at("/group_id", "no such group in this retro")
    owner = await _owner(session, access, data.owner)
    if await repo.count_actions(session, retro.id) >= MAX_ACTIONS:
        raise RetroFull(f"The retro holds its {MAX_ACTIONS} action items.")
    line = RETRO_LINE.format(title=retro.title, day=_day(retro), id=retro.id)
    given = (data.description or "").strip()
    created = await items.create_item(
        session,
        access,
        ItemCreate(
            type="task",
            title=data.title,
            description=f"{given}\n\n---\n{line}" if given else line,
            assignee=owner.id,
            due_date=data.due_date,
        ),
    )
    action = RetroAction(
        retro_id=retro.id,
        item_id=created.item.id,
        group_id=data.group_id,
        created_by_id=access.principal.id,
    )
    session.add(action)
    await session.flush()
    await emit(
        session,
        RetroActionCreated(
            retro_id=retro.id,
            action_id=action.id,
            item_key=created.item.key,
            owner=owner.username,
            group_id=data.group_id,
        ),
        access.project,
        access.principal,
        subject=retro,
    )
    return ActionRow(action, created.item, created.status, created.assignee)


def _day(retro: Retro) -> date:
    return retro.created_at.date()
