"""Links between items (stored once, read from both ends) and comments with @mentions."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as users_repo
from takt.auth.models import User
from takt.core.concurrency import claim_all
from takt.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.time import utcnow
from takt.items import repository as repo
from takt.items.events import (
    BodyChanges,
    CommentCreated,
    CommentDeleted,
    CommentMentioned,
    CommentUpdated,
    ItemLinked,
    ItemUnlinked,
)
from takt.items.models import Comment, Item, ItemLink
from takt.projects import repository as projects_repo
from takt.projects.policies import ProjectAccess

# How each link type is stored: (canonical type, True if this item is the stored source).
CANONICAL = {
    "blocks": ("blocks", True),
    "blocked_by": ("blocks", False),
    "relates_to": ("relates_to", True),
    "duplicates": ("duplicates", True),
    "duplicated_by": ("duplicates", False),
}
# How the other end sees a link of each type.
INVERSE = {
    "blocks": "blocked_by",
    "blocked_by": "blocks",
    "relates_to": "relates_to",
    "duplicates": "duplicated_by",
    "duplicated_by": "duplicates",
}
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{1,31})")


class LinkExists(Conflict):
    """These two items are already linked this way."""

    code = "link-exists"
    title = "Link exists"


class LinkCycle(Conflict):
    """The link would close a cycle of two: the other item already blocks this one, so this
    one can't block it (each would wait for the other). Remove the existing link first."""

    code = "link-cycle"
    title = "Link would make a cycle"


def seen_from(link: ItemLink, *, is_source: bool) -> str:
    return link.type if is_source else INVERSE[link.type]


async def _target(session: AsyncSession, access: ProjectAccess, key: str) -> Item:
    target = await repo.get_item(session, access.project.id, key)
    if target is None:
        # Same answer whether the key is unknown or lives in a project the caller can't see.
        raise NotFound(f"No item {key} in project {access.project.key}.")
    return target


async def create_link(
    session: AsyncSession, access: ProjectAccess, item: Item, link_type: str, target_key: str
) -> tuple[ItemLink, Item]:
    access.require_write()
    target = await _target(session, access, target_key)
    if target.id == item.id:
        raise ValidationFailed.at("/target", "same item", detail="An item can't link to itself.")
    canonical, item_is_source = CANONICAL[link_type]
    source, other = (item, target) if item_is_source else (target, item)
    # Both ends locked (id order): two opposite `blocks` links made at once can't both pass.
    await claim_all(session, [item, target])
    existing = await repo.find_link(session, source.id, other.id, canonical)
    if canonical == "blocks" and await repo.find_link(session, other.id, source.id, "blocks"):
        raise LinkCycle(f"{other.key} already blocks {source.key}.")
    if existing is None and canonical == "relates_to":
        existing = await repo.find_link(session, other.id, source.id, canonical)
    if existing is not None:
        raise LinkExists(f"{item.key} already {link_type.replace('_', ' ')} {target.key}.")
    link = ItemLink(
        source_id=source.id, target_id=other.id, type=canonical, created_by_id=access.principal.id
    )
    session.add(link)
    await session.flush()
    # History on both ends: each item sees the link from its own side.
    for subject, seen_type, other_item in (
        (item, link_type, target),
        (target, INVERSE[link_type], item),
    ):
        await emit(
            session,
            ItemLinked(key=subject.key, type=seen_type, target=other_item.key, link_id=link.id),
            access.project,
            access.principal,
            subject=subject,
        )
    return link, target


async def delete_link(
    session: AsyncSession, access: ProjectAccess, item: Item, link_type: str, target_key: str
) -> None:
    """Removes the link from both ends (it is one row)."""
    access.require_write()
    target = await _target(session, access, target_key)
    canonical, item_is_source = CANONICAL[link_type]
    source, other = (item, target) if item_is_source else (target, item)
    link = await repo.find_link(session, source.id, other.id, canonical)
    if link is None and canonical == "relates_to":
        link = await repo.find_link(session, other.id, source.id, canonical)
    if link is None:
        raise NotFound(f"{item.key} has no {link_type} link to {target.key}.")
    await session.delete(link)
    await session.flush()
    for subject, seen_type, other_item in (
        (item, link_type, target),
        (target, INVERSE[link_type], item),
    ):
        await emit(
            session,
            ItemUnlinked(key=subject.key, type=seen_type, target=other_item.key),
            access.project,
            access.principal,
            subject=subject,
        )


async def _mentioned_members(session: AsyncSession, project_id: str, body: str) -> list[User]:
    usernames = {m.lower() for m in MENTION.findall(body)}
    members: list[User] = []
    for username in sorted(usernames)[:50]:
        user = await users_repo.find_user(session, user_id=None, username=username, email=None)
        if user is not None and await projects_repo.get_member(session, project_id, user.id):
            members.append(user)
    return members


async def _announce_mentions(
    session: AsyncSession,
    access: ProjectAccess,
    item: Item,
    comment: Comment,
    mentioned: list[User],
    already: set[str],
) -> None:
    for user in mentioned:
        if user.id in already:
            continue
        await emit(
            session,
            CommentMentioned(
                key=item.key, comment_id=comment.id, user_id=user.id, username=user.username
            ),
            access.project,
            access.principal,
            subject=item,
        )


async def add_comment(
    session: AsyncSession, access: ProjectAccess, item: Item, body: str
) -> tuple[Comment, list[User]]:
    access.require_write()
    mentioned = await _mentioned_members(session, access.project.id, body)
    comment = Comment(
        item_id=item.id,
        author_id=access.principal.id,
        body=body,
        mention_ids=[u.id for u in mentioned],
    )
    session.add(comment)
    await session.flush()
    await emit(
        session,
        CommentCreated(key=item.key, comment_id=comment.id, body=body[:500]),
        access.project,
        access.principal,
        subject=item,
    )
    await _announce_mentions(session, access, item, comment, mentioned, set())
    return comment, mentioned


def _may_change(access: ProjectAccess, comment: Comment) -> None:
    access.require_write()
    if comment.author_id != access.principal.id and access.role != "admin":
        raise Forbidden("Only the author or a project admin can change this comment.")


async def _comment_or_404(session: AsyncSession, item: Item, comment_id: str) -> Comment:
    comment = await repo.get_comment(session, item.id, comment_id)
    if comment is None:
        raise NotFound("No such comment on this item.")
    return comment


async def edit_comment(
    session: AsyncSession, access: ProjectAccess, item: Item, comment_id: str, body: str
) -> tuple[Comment, list[User]]:
    comment = await _comment_or_404(session, item, comment_id)
    _may_change(access, comment)
    mentioned = await _mentioned_members(session, access.project.id, body)
    old_body = comment.body
    already = set(comment.mention_ids)
    comment.body = body
    comment.mention_ids = [u.id for u in mentioned]
    comment.updated_at = utcnow()
    await session.flush()
    await emit(
        session,
        CommentUpdated(key=item.key, comment_id=comment.id),
        access.project,
        access.principal,
        BodyChanges(body=(old_body[:500], body[:500])),
        subject=item,
    )
    await _announce_mentions(session, access, item, comment, mentioned, already)
    return comment, mentioned


async def delete_comment(
    session: AsyncSession, access: ProjectAccess, item: Item, comment_id: str
) -> None:
    comment = await _comment_or_404(session, item, comment_id)
    _may_change(access, comment)
    await session.delete(comment)
    await session.flush()
    await emit(
        session,
        CommentDeleted(key=item.key, comment_id=comment.id),
        access.project,
        access.principal,
        subject=item,
    )
