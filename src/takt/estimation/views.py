"""Planning-poker rows to the API's answers. The one place that decides what a caller sees of a
vote: the voter and when, always; the card, only to its voter until the round is revealed, and
to everyone after."""

from __future__ import annotations

from takt.auth.models import User
from takt.auth.schemas import UserSummary
from takt.estimation.calibration import spread_of
from takt.estimation.schemas import (
    CalibrationRead,
    CardRead,
    EstimationItemRead,
    EstimationItemSummary,
    EstimationRead,
    EstimationSummary,
    RoundRead,
    ScaleRead,
    SpreadRead,
    VoteRead,
    VoterRead,
)
from takt.estimation.service import ItemLine, SessionLine, ShownItem, ShownRound, ShownSession


def _person(user: User | None) -> UserSummary | None:
    if user is None:
        return None
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def _someone(user: User) -> UserSummary:
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name)


def round_read(shown: ShownRound, viewer_id: str) -> RoundRead:
    """A round as `viewer_id` may see it: cards only once revealed (or the viewer's own)."""
    played = shown.round
    revealed = played.revealed_at is not None
    mine = next((vote.card for vote, _ in shown.votes if vote.voter_id == viewer_id), None)
    return RoundRead(
        number=played.number,
        revealed=revealed,
        started_at=played.started_at,
        revealed_at=played.revealed_at,
        reset_at=played.reset_at,
        voters=[
            VoterRead(user=_someone(voter), voted_at=vote.voted_at) for vote, voter in shown.votes
        ],
        my_card=mine,
        votes=[
            VoteRead(
                voter=_someone(voter), card=vote.card, points=vote.points, voted_at=vote.voted_at
            )
            for vote, voter in shown.votes
        ]
        if revealed
        else None,
        spread=SpreadRead(**spread_of(vote.points for vote, _ in shown.votes).as_dict())
        if revealed
        else None,
        calibration=[CalibrationRead.model_validate(entry) for entry in played.calibration]
        if revealed and played.calibration is not None
        else None,
    )


def _summary_fields(line: ItemLine) -> dict[str, object]:
    entry = line.entry
    return {
        "item_key": line.key,
        "title": line.title,
        "position": entry.position,
        "state": entry.state,
        "round": entry.round,
        "votes_cast": line.votes_cast,
        "estimate": entry.estimate,
    }


def item_summary(line: ItemLine) -> EstimationItemSummary:
    return EstimationItemSummary.model_validate(_summary_fields(line))


def estimation_item_read(shown: ShownItem, viewer_id: str) -> EstimationItemRead:
    return EstimationItemRead.model_validate(
        {
            **_summary_fields(shown.line),
            "estimated_at": shown.line.entry.estimated_at,
            "estimated_by": _person(shown.estimated_by),
            "rounds": [round_read(r, viewer_id) for r in shown.rounds],
        }
    )


def estimation_read(shown: ShownSession) -> EstimationRead:
    ctx = shown.ctx
    estimation = ctx.estimation
    viewer_id = ctx.access.principal.id
    return EstimationRead(
        id=estimation.id,
        project_key=ctx.access.project.key,
        title=estimation.title,
        state=estimation.state,
        facilitator=_person(ctx.facilitator),
        can_facilitate=ctx.can_facilitate,
        scale=ScaleRead(
            kind=estimation.scale,
            cards=[CardRead(label=c["label"], points=c["points"]) for c in estimation.cards],
        ),
        participants=[_someone(user) for user in shown.participants],
        items=[item_summary(line) for line in shown.lines],
        current_item_key=shown.current.line.key if shown.current else None,
        current=estimation_item_read(shown.current, viewer_id) if shown.current else None,
        created_at=estimation.created_at,
        updated_at=estimation.updated_at,
        finished_at=estimation.finished_at,
        version=estimation.version,
    )


def estimation_summary(line: SessionLine, project_key: str) -> EstimationSummary:
    estimation = line.estimation
    return EstimationSummary(
        id=estimation.id,
        project_key=project_key,
        title=estimation.title,
        state=estimation.state,
        facilitator=_person(line.facilitator),
        scale=estimation.scale,
        items=line.items,
        estimated=line.estimated,
        current_item_key=line.current_key,
        created_at=estimation.created_at,
        finished_at=estimation.finished_at,
    )
