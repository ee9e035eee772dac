"""A retro's board: cards (written in `collect`, changed by their author only) and the groups
they are put in (in `group`). Writes that move cards between groups run one at a time per
retro (its row locked), so a group emptied by a move is removed exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.concurrency import claim
from takt.core.errors import NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.time import utcnow
from takt.retros import repository as repo
from takt.retros.events import (
    CardChanges,
    GroupChanges,
    RetroCardAdded,
    RetroCardRemoved,
    RetroCardUpdated,
    RetroGroupCreated,
    RetroGroupRemoved,
    RetroGroupUpdated,
)
from takt.retros.models import RetroCard, RetroGroup
from takt.retros.repository import CardRow
from takt.retros.schemas import CardCreate, CardUpdate, GroupCreate, GroupUpdate
from takt.retros.service import (
    MAX_CARDS,
    MAX_GROUPS,
    GroupView,
    NotCardAuthor,
    RetroContext,
    RetroFull,
    actor_of,
    cards_hidden,
    require_phase,
    require_phase_exclusive,
)

# Cards -----------------------------------------------------------------------------------------


def _check_prompt(ctx: RetroContext, prompt_id: str) -> None:
    if prompt_id not in {p["id"] for p in ctx.retro.prompts}:
        known = ", ".join(p["id"] for p in ctx.retro.prompts)
        raise ValidationFailed.at("/prompt_id", f"not a prompt of this retro (one of: {known})")


async def _shown(session: AsyncSession, ctx: RetroContext, card: RetroCard) -> CardRow:
    """The card with its author only where the retro shows authors."""
    author = None if ctx.retro.anonymous else await repo.author_of(session, card)
    return CardRow(card, author)


async def add_card(session: AsyncSession, ctx: RetroContext, data: CardCreate) -> CardRow:
    """A card of the caller under one of the retro's prompts, during `collect`."""
    access, retro = ctx.access, ctx.retro
    access.require_write()
    await require_phase_exclusive(session, ctx, "collect")  # the count below stays true
    _check_prompt(ctx, data.prompt_id)
    if await repo.count_cards(session, retro.id) >= MAX_CARDS:
        raise RetroFull(f"The retro holds its {MAX_CARDS} cards.")
    card = RetroCard(
        retro_id=retro.id,
        kind="card",
        prompt_id=data.prompt_id,
        text=data.text,
        author_id=access.principal.id,
    )
    session.add(card)
    await session.flush()
    hidden = cards_hidden(retro)
    await emit(
        session,
        RetroCardAdded(
            retro_id=retro.id,
            card_id=None if hidden else card.id,
            prompt_id=None if hidden else card.prompt_id,
            text=None if hidden else card.text,
        ),
        access.project,
        actor_of(ctx),
        subject=retro,
    )
    return await _shown(session, ctx, card)


async def _own_card(session: AsyncSession, ctx: RetroContext, card_id: str) -> RetroCard:
    """The caller's card: 404 for a card the caller can't see, 403 for another's."""
    card = await repo.card_in(session, ctx.retro.id, card_id)
    mine = card is not None and card.kind == "card" and card.author_id == ctx.viewer_id
    if card is None or (cards_hidden(ctx.retro) and card.kind == "card" and not mine):
        raise NotFound("No such card in this retro.")
    if not mine:
        raise NotCardAuthor("Only a card's author changes or removes it.")
    return card


async def update_card(
    session: AsyncSession,
    ctx: RetroContext,
    card_id: str,
    data: CardUpdate,
    *,
    if_match: str | None,
) -> CardRow:
    """Change your card's text or prompt, during `collect` or `group`."""
    ctx.access.require_write()
    card = await _own_card(session, ctx, card_id)
    await require_phase(session, ctx, "collect", "group")
    await claim(session, card, if_match)
    changes: dict[str, tuple[str, str]] = {}
    if data.prompt_id is not None and data.prompt_id != card.prompt_id:
        _check_prompt(ctx, data.prompt_id)
        changes["prompt_id"] = (card.prompt_id or "", data.prompt_id)
        card.prompt_id = data.prompt_id
    if data.text is not None and data.text != card.text:
        changes["text"] = (card.text, data.text)
        card.text = data.text
    if session.is_modified(card):
        card.updated_at = utcnow()
        await session.flush()
        # In an anonymous retro the board shows no card's `updated_at`: nor may the log say
        # which card changed when, or into what (whoever saw someone edit would find theirs).
        hidden = cards_hidden(ctx.retro) or ctx.retro.anonymous
        await emit(
            session,
            RetroCardUpdated(retro_id=ctx.retro.id, card_id=None if hidden else card.id),
            ctx.access.project,
            actor_of(ctx),
            CardChanges.model_validate({} if hidden else changes),
            subject=ctx.retro,
        )
    return await _shown(session, ctx, card)


async def remove_card(
    session: AsyncSession, ctx: RetroContext, card_id: str, *, if_match: str | None
) -> None:
    """Remove your card, during `collect` or `group`; a group it leaves empty goes too."""
    ctx.access.require_write()
    card = await _own_card(session, ctx, card_id)
    await require_phase_exclusive(session, ctx, "collect", "group")
    await claim(session, card, if_match)
    before = await repo.card_groups(session, ctx.retro)
    await session.delete(card)
    await session.flush()
    await emit(
        session,
        RetroCardRemoved(
            retro_id=ctx.retro.id, card_id=None if cards_hidden(ctx.retro) else card_id
        ),
        ctx.access.project,
        actor_of(ctx),
        subject=ctx.retro,
    )
    after = {c: g for c, g in before.items() if c != card_id}
    await _settle(session, ctx, before, after, keep=set())


# Groups ----------------------------------------------------------------------------------------


def _unique(card_ids: Sequence[str]) -> None:
    seen: set[str] = set()
    twice = []
    for index, card_id in enumerate(card_ids):
        if card_id in seen:
            twice.append((f"/card_ids/{index}", "listed twice"))
        seen.add(card_id)
    if twice:
        raise ValidationFailed.at_each(twice)


def _known(card_ids: Sequence[str], cards: dict[str, str | None]) -> None:
    unknown = [
        (f"/card_ids/{index}", "no such card in this retro")
        for index, card_id in enumerate(card_ids)
        if card_id not in cards
    ]
    if unknown:
        raise ValidationFailed.at_each(unknown)


async def _settle(
    session: AsyncSession,
    ctx: RetroContext,
    before: dict[str, str | None],
    after: dict[str, str | None],
    *,
    keep: set[str],
) -> None:
    """The groups (other than `keep`) whose cards a change moved: those left empty are removed,
    the others record their new cards."""
    touched = {g for c, g in before.items() if g is not None and after.get(c) != g} - keep
    if not touched:
        return
    groups = {g.id: g for g in await repo.groups_by_id(session, ctx.retro.id, sorted(touched))}
    for group_id in sorted(touched):
        old = [c for c, g in before.items() if g == group_id]
        new = [c for c, g in after.items() if g == group_id]
        group = groups[group_id]
        if new:
            group.updated_at = utcnow()
            await session.flush()
            await emit(
                session,
                RetroGroupUpdated(retro_id=ctx.retro.id, group_id=group_id),
                ctx.access.project,
                actor_of(ctx),
                GroupChanges(card_ids=(old, new)),
                subject=ctx.retro,
            )
        else:
            await session.delete(group)
            await session.flush()
            await emit(
                session,
                RetroGroupRemoved(retro_id=ctx.retro.id, group_id=group_id),
                ctx.access.project,
                actor_of(ctx),
                subject=ctx.retro,
            )


async def _place(session: AsyncSession, ctx: RetroContext, moves: dict[str, str | None]) -> None:
    """Set each card's group ({card id: group id or None})."""
    for card in await repo.cards_by_id(session, ctx.retro.id, sorted(moves)):
        card.group_id = moves[card.id]
    await session.flush()


async def create_group(session: AsyncSession, ctx: RetroContext, data: GroupCreate) -> GroupView:
    """Put cards together under a title, during `group`; they leave their former groups (a
    group left empty is removed)."""
    ctx.access.require_write()
    retro = ctx.retro
    await require_phase_exclusive(session, ctx, "group")
    _unique(data.card_ids)
    before = await repo.card_groups(session, retro)
    _known(data.card_ids, before)
    count, position = await repo.group_stats(session, retro.id)
    if count >= MAX_GROUPS:
        raise RetroFull(f"The retro holds its {MAX_GROUPS} groups.")
    group = RetroGroup(retro_id=retro.id, title=data.title, position=position)
    session.add(group)
    await session.flush()
    await _place(session, ctx, dict.fromkeys(data.card_ids, group.id))
    after = {**before, **dict.fromkeys(data.card_ids, group.id)}
    members = [c for c, g in after.items() if g == group.id]
    await emit(
        session,
        RetroGroupCreated(
            retro_id=retro.id, group_id=group.id, title=group.title, card_ids=members
        ),
        ctx.access.project,
        actor_of(ctx),
        subject=retro,
    )
    await _settle(session, ctx, before, after, keep={group.id})
    return GroupView(group, members, None, 0, None)


async def _group(session: AsyncSession, ctx: RetroContext, group_id: str) -> RetroGroup:
    group = await repo.group_in(session, ctx.retro.id, group_id)
    if group is None:
        raise NotFound("No such group in this retro.")
    return group


async def update_group(
    session: AsyncSession,
    ctx: RetroContext,
    group_id: str,
    data: GroupUpdate,
    *,
    if_match: str | None,
) -> GroupView:
    """Rename a group or set its cards, during `group`."""
    ctx.access.require_write()
    retro = ctx.retro
    group = await _group(session, ctx, group_id)
    await require_phase_exclusive(session, ctx, "group")
    await claim(session, group, if_match)
    before = await repo.card_groups(session, retro)
    after = dict(before)
    changes: dict[str, object] = {}
    if data.title is not None and data.title != group.title:
        changes["title"] = (group.title, data.title)
        group.title = data.title
    if data.card_ids is not None:
        _unique(data.card_ids)
        _known(data.card_ids, before)
        listed = set(data.card_ids)
        for card_id, in_group in before.items():
            if card_id in listed:
                after[card_id] = group.id
            elif in_group == group.id:
                after[card_id] = None
        moved = {c: g for c, g in after.items() if before[c] != g}
        if moved:
            old = [c for c, g in before.items() if g == group.id]
            changes["card_ids"] = (old, [c for c, g in after.items() if g == group.id])
            await _place(session, ctx, moved)
    if changes:
        group.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            RetroGroupUpdated(retro_id=retro.id, group_id=group.id),
            ctx.access.project,
            actor_of(ctx),
            GroupChanges.model_validate(changes),
            subject=retro,
        )
        await _settle(session, ctx, before, after, keep={group.id})
    members = [c for c, g in after.items() if g == group.id]
    return GroupView(group, members, None, 0, None)


async def remove_group(
    session: AsyncSession, ctx: RetroContext, group_id: str, *, if_match: str | None
) -> None:
    """Remove a group, during `group`; its cards are outside any group again."""
    ctx.access.require_write()
    group = await _group(session, ctx, group_id)
    await require_phase_exclusive(session, ctx, "group")
    await claim(session, group, if_match)
    before = await repo.card_groups(session, ctx.retro)
    await _place(session, ctx, {c: None for c, g in before.items() if g == group.id})
    await session.delete(group)
    await session.flush()
    await emit(
        session,
        RetroGroupRemoved(retro_id=ctx.retro.id, group_id=group.id),
        ctx.access.project,
        actor_of(ctx),
        subject=ctx.retro,
    )
