"""Retro rows to the API's response shapes, for one caller: `mine` is theirs alone, and an
author appears only in a retro that is not anonymous (the rows of an anonymous retro never
carry one)."""

from __future__ import annotations

from typing import Any

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.retros.models import Retro
from takt.retros.repository import ActionRow, CardRow
from takt.retros.schemas import (
    ActionRead,
    CardRead,
    EvidenceRead,
    GroupRead,
    MyVote,
    PromptRead,
    RetroRead,
    RetroSummary,
)
from takt.retros.service import GroupView, RetroContext, RetroDetail
from takt.retros.voting import CastVote
from takt.workflow.schemas import StatusRef


def _person(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def retro_summary(retro: Retro, facilitator: User | None, project_key: str) -> RetroSummary:
    return RetroSummary(
        id=retro.id,
        project_key=project_key,
        title=retro.title,
        template=retro.template,
        phase=retro.phase,
        sprint_id=retro.sprint_id,
        anonymous=retro.anonymous,
        facilitator=_person(facilitator),
        created_at=retro.created_at,
        updated_at=retro.updated_at,
        closed_at=retro.closed_at,
        version=retro.version,
    )


def card_read(row: CardRow, retro: Retro, viewer_id: str) -> CardRead:
    card = row.card
    evidence = None
    if card.kind == "evidence":
        evidence = EvidenceRead(
            metric=card.metric,
            value=card.value,
            source=card.source or "",
        )
    mine = card.kind == "card" and card.author_id == viewer_id
    # When, or how often, an anonymous card was written or changed would tie it to whoever was
    # seen writing: only its author learns that.
    timeless = retro.anonymous and card.kind == "card" and not mine
    return CardRead(
        id=card.id,
        retro_id=card.retro_id,
        kind=card.kind,
        prompt_id=card.prompt_id,
        text=card.text,
        group_id=card.group_id,
        mine=mine,
        author=None if retro.anonymous else _person(row.author),
        evidence=evidence,
        created_at=None if timeless else card.created_at,
        updated_at=None if timeless else card.updated_at,
        version=None if timeless else card.version,
    )


def group_read(view: GroupView) -> GroupRead:
    return GroupRead(
        id=view.group.id,
        title=view.group.title,
        card_ids=view.card_ids,
        votes=view.votes,
        my_votes=view.my_votes,
        rank=view.rank,
        version=view.group.version,
    )


def action_read(row: ActionRow) -> ActionRead:
    item, status = row.item, row.status
    return ActionRead(
        id=row.action.id,
        retro_id=row.action.retro_id,
        group_id=row.action.group_id,
        item_key=item.key,
        title=item.title,
        status=StatusRef(id=status.id, name=status.name, category=status.category),
        done=status.category == "done",
        assignee=_person(row.assignee),
        due_date=item.due_date,
        deleted=item.deleted_at is not None,
        created_at=row.action.created_at,
    )


def vote_data(cast: CastVote) -> dict[str, Any]:
    """`VoteRead` as plain data, written once with orjson (`core.openapi.json_data_response`):
    casting a vote is the retro's hot path (see `repository.VOTER_TARGET`); the contract test
    checks the answer against `VoteRead`."""
    return {
        "id": cast.id,
        "retro_id": cast.retro_id,
        "group_id": cast.group_id,
        "created_at": cast.created_at,
        "votes_left": cast.votes_left,
        "my_votes_on_group": cast.on_group,
    }


def retro_read(detail: RetroDetail) -> RetroRead:
    ctx: RetroContext = detail.ctx
    retro, viewer = ctx.retro, ctx.viewer_id
    summary = retro_summary(retro, ctx.facilitator, ctx.access.project.key)
    return RetroRead(
        **summary.model_dump(),
        prompts=[PromptRead(id=p["id"], text=p["text"]) for p in retro.prompts],
        hide_cards_during_collect=retro.hide_cards_during_collect,
        vote_budget=retro.vote_budget,
        max_votes_per_group=retro.max_votes_per_group,
        phase_changed_at=retro.phase_changed_at,
        can_facilitate=ctx.is_facilitator,
        cards=[card_read(row, retro, viewer) for row in detail.cards],
        hidden_cards=detail.hidden_cards,
        groups=[group_read(view) for view in detail.groups],
        my_votes=[MyVote(id=v.id, group_id=v.group_id) for v in detail.my_votes],
        votes_left=max(0, retro.vote_budget - len(detail.my_votes)),
        votes_cast=detail.votes_cast,
        actions=[action_read(row) for row in detail.actions],
        previous_retro_id=retro.previous_retro_id,
        previous_actions=[action_read(row) for row in detail.previous_actions],
    )
