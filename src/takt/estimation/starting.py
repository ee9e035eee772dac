"""What a new planning-poker session is checked against: its deck on the project's scale, its
participants among the members who can write, its items among the project's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.core.bounds import ESTIMATE_SCALES
from takt.core.errors import ValidationFailed
from takt.estimation import repository as repo
from takt.estimation.calibration import UNSURE, deck_of
from takt.estimation.schemas import MAX_PARTICIPANTS, EstimationCreate
from takt.items import repository as items_repo
from takt.items.models import Item
from takt.projects.policies import ProjectAccess


def scale_of(access: ProjectAccess) -> tuple[str, tuple[float, ...]]:
    """The project's estimate scale and the points it takes (`settings.estimate_scale`)."""
    scale = str(access.project.settings.get("estimate_scale", "fibonacci"))
    return scale, ESTIMATE_SCALES.get(scale, ESTIMATE_SCALES["fibonacci"])


def deck(access: ProjectAccess, data: EstimationCreate) -> tuple[str, list[dict[str, object]]]:
    """The session's scale and deck; every card's points on the project's scale (so any card
    can become the item's estimate)."""
    project_scale, allowed = scale_of(access)
    off_scale = f"not on the project's {project_scale} scale"
    kind = data.scale or project_scale
    if kind != "custom":
        if data.cards is not None:
            raise ValidationFailed.at("/cards", "only with `scale: custom`")
        deck = deck_of(kind, unsure=data.unsure_card)
        off = [
            f"{c['points']:g}"
            for c in deck
            if c["points"] is not None and c["points"] not in allowed
        ]
        if off:
            raise ValidationFailed.at(
                "/scale",
                f"{', '.join(off)} {off_scale}",
                detail=f"The {kind} deck's points {', '.join(off)} are {off_scale}, so they "
                "could not be written to an item. Choose another scale, or custom cards.",
            )
        return kind, deck
    if data.cards is None:
        raise ValidationFailed.at("/cards", "a custom scale needs `cards`")
    problems = []
    labels: set[str] = set()
    points: set[float] = set()
    for index, card in enumerate(data.cards):
        if card.label == UNSURE:
            problems.append((f"/cards/{index}/label", "'?' is the unsure card (`unsure_card`)"))
        elif card.label.lower() in labels:
            problems.append((f"/cards/{index}/label", f"{card.label!r} is listed twice"))
        if card.points in points:
            problems.append((f"/cards/{index}/points", f"{card.points:g} is listed twice"))
        elif card.points not in allowed:
            problems.append((f"/cards/{index}/points", f"{card.points:g} {off_scale}"))
        labels.add(card.label.lower())
        points.add(card.points)
    if problems:
        raise ValidationFailed.at_each(problems)
    custom = [(card.label, card.points) for card in data.cards]
    return kind, deck_of(kind, custom, unsure=data.unsure_card)


async def participants(
    session: AsyncSession, access: ProjectAccess, refs: list[str] | None
) -> list[User]:
    """The members who vote: those named (each must be a member who can write), or every
    member and admin of the project."""
    found = await repo.voting_members(session, access.project.id, refs)
    if refs is None:
        voters = [user for user, role in found if role in repo.VOTING_ROLES]
        if len(voters) > MAX_PARTICIPANTS:
            # A round is one table of people: its votes, the reveal and its event stay bounded.
            raise ValidationFailed.at(
                "/participants",
                f"name up to {MAX_PARTICIPANTS} participants",
                detail=f"The project has {len(voters)} members who can vote, more than the "
                f"{MAX_PARTICIPANTS} a session takes: name its participants.",
            )
        return voters
    if not refs:
        raise ValidationFailed.at("/participants", "a session needs at least one participant")
    by_ref = {}
    for user, role in found:
        by_ref[user.id] = (user, role)
        by_ref[user.username_key] = (user, role)
    chosen: dict[str, User] = {}
    problems = []
    for index, ref in enumerate(refs):
        hit = by_ref.get(ref) or by_ref.get(ref.strip().lower())
        if hit is None:
            problems.append((f"/participants/{index}", f"{ref!r} is not a member of this project"))
        elif hit[1] not in repo.VOTING_ROLES:
            problems.append(
                (
                    f"/participants/{index}",
                    f"{ref!r} is a viewer of this project; viewers can't vote",
                )
            )
        else:
            chosen[hit[0].id] = hit[0]
    if problems:
        raise ValidationFailed.at_each(problems)
    return list(chosen.values())


async def items(session: AsyncSession, access: ProjectAccess, keys: list[str]) -> list[Item]:
    """The project's items with these keys, in the order given."""
    found = {
        item.key: item for item in await items_repo.get_items(session, access.project.id, keys)
    }
    problems = []
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            problems.append((f"/item_keys/{index}", f"{key} is listed twice"))
        elif key not in found:
            problems.append((f"/item_keys/{index}", f"No item {key} in this project."))
        seen.add(key)
    if problems:
        raise ValidationFailed.at_each(problems)
    return [found[key] for key in keys]
